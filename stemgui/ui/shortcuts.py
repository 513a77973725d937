"""Help ▸ Keyboard and mouse: every shortcut of the window, read from its actions.

The list is made from the ``QAction``s the window and its queue hold, so a key added to a menu
appears here without a second list to keep; the nine "mute stem N" and "solo stem N" actions
(in no menu) are folded into one line each, as are the eight "Set cue N" and "Jump to cue N".
What the mouse does on a waveform and a gain, and what Tab and a focused button do
(``keyboard_focus``), are not actions: those few lines are written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

FOCUS = (
    ("Tab, Shift+Tab", "Go to the next or previous button, gain or list"),
    ("Space, Return on a button", "Press it (elsewhere Space plays and pauses)"),
)

MOUSE = (
    ("Click on a waveform", "Go there"),
    (
        "Drag on a waveform",
        "Set the loop region (from beat to beat: Playback ▸ Snap loops to beats)",
    ),
    ("Wheel on a waveform", "Zoom in or out around the pointer (Shift: scroll)"),
    ("Double-click a gain", "Back to 0 dB"),
    ("Drag a stem's name", "Drop the stem as a wav file (on a folder or a DAW)"),
    ("Drag a waiting song", "Separate it earlier or later"),
)

_NUMBERED = re.compile(r"(mute|solo) stem \d|(Set|Jump to) cue \d( .*)?")
_DOING = {
    "mute": "Mute or unmute the stem with that number on its row",
    "solo": "Solo or unsolo the stem with that number on its row",
    "Set": "Set the cue with that number at the playhead (Playback ▸ Cues)",
    "Jump to": "Jump to the cue with that number (Playback ▸ Cues)",
}


def _keys(action: QAction) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(keys.toString(native) for keys in action.shortcuts() if not keys.isEmpty())


def _what(action: QAction) -> str:
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.removesuffix("…")


def shortcut_rows(owners: Iterable[QWidget]) -> list[tuple[str, str]]:
    """(keys, what they do) of every action of ``owners`` that has a shortcut, in their order;
    the numbered stem and cue actions as a line each ("1 … 9")."""
    rows: list[tuple[str, str]] = []
    numbered: dict[str, tuple[int, list[str]]] = {}  # "mute": (its row, the keys of 1 … 9)
    for owner in owners:
        for action in owner.actions():
            keys = _keys(action)
            if not keys:
                continue
            match = _NUMBERED.fullmatch(_what(action))
            if match is None:
                rows.append((keys, _what(action)))
                continue
            what = match[1] or match[2]
            if what not in numbered:
                numbered[what] = (len(rows), [])
                rows.append(("", ""))  # its place in the list, filled in below
            numbered[what][1].append(keys)
    for what, (row, keys) in numbered.items():
        # "in their order" read as counting the original mix, the first row: 1 is Drums
        rows[row] = (f"{keys[0]} … {keys[-1]}", _DOING[what])
    return rows


class ShortcutsDialog(QDialog):
    """The keys of ``owners``' actions, what Tab and a focused button do, then the mouse."""

    def __init__(self, owners: Iterable[QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.resize(560, 600)
        rows = [*shortcut_rows(owners), *FOCUS, *MOUSE]
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, (keys, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(row, 0).text(), self.table.item(row, 1).text())
            for row in range(self.table.rowCount())
        ]
