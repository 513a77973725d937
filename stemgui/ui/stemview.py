"""The stem view: one row per stem (and one for the original mix) of the selected song.

A row shows the window's key for it (1–9, A for the original mix), the stem's colour and name,
solo (S) and mute (M) buttons, a gain slider in dB and the waveform. The controls write straight
into the song's ``MixerState`` (the player reads its gains on the next audio block); a stem that
is not heard is drawn dimmed. The original mix row works the mixer's ``ORIGINAL`` channel, which
is heard only when soloed: solo it to compare the song with its stems (A/B). It has S and a gain
(heard while soloed) but no M: muting what is already silent did nothing, and "M off" read as
"the original plays on top of the stems". A row dragged by its name drops its stem as a wav
file (``stemgui.ui.stem_drags``), the original mix row the song file itself (or a wav of it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stemgui.ui.dbslider import DbSlider
from stemgui.ui.drag_part import DragPart
from stemgui.ui.stem_drags import StemDrags
from stemgui.ui.time_ruler import TimeRuler
from stemgui.ui.timeline import Timeline
from stemgui.ui.waveview import WaveformView

logger = logging.getLogger(__name__)

STEM_COLOURS = {
    "drums": "#e8833a",
    "bass": "#a974e8",
    "other": "#4cb86b",
    "vocals": "#3d9be9",
    "guitar": "#e0c341",
    "piano": "#e06aa6",
    "no_vocals": "#4cb86b",
}
_FALLBACK_COLOURS = ("#d9a441", "#5fb0b0", "#c0605a", "#8d9a4c")
MIX_COLOUR = "#9a9a9a"
MIX_ROW = "Original mix"
_CONTROLS_WIDTH = 250


def native_keys(text: str) -> str:
    """A shortcut as this system writes it (⌘1 on macOS, Ctrl+1 elsewhere)."""
    return QKeySequence(text).toString(QKeySequence.SequenceFormat.NativeText)


def stem_label(name: str) -> str:
    """How a stem name is shown: "no_vocals" -> "No vocals"."""
    return name.replace("_", " ").capitalize()


def stem_colour(name: str, index: int) -> QColor:
    return QColor(STEM_COLOURS.get(name, _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)]))


class StemRow(QFrame):
    """Controls and waveform of one stem. ``mixer`` None makes a row without controls; the
    ``ORIGINAL`` channel's row has no mute (``mute`` is None).

    ``changed`` is emitted after a control changed the mixer; ``pressed`` as the mouse is
    pressed on the name side, ``drag_requested`` once it has moved the drag distance since,
    ``clicked`` as it is let go without having moved it (no drag).
    """

    changed = Signal()
    pressed = Signal(str)
    drag_requested = Signal(str)
    clicked = Signal(str)

    def __init__(
        self,
        name: str,
        colour: QColor,
        timeline: Timeline,
        mixer: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from stemgui.stems.mixer import MAX_DB, MIN_DB, ORIGINAL

        self.name = name
        self.mixer = mixer
        self.setObjectName(f"stem-row-{name}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)

        controls = QWidget()
        controls.setFixedWidth(_CONTROLS_WIDTH)
        grid = QVBoxLayout(controls)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        top = QHBoxLayout()
        # the key that works the row (1-9 for the stems, A for the original mix), muted, so
        # that "1" is seen to be Drums and not the original mix above it; set by the panel
        self.key = QLabel()
        self.key.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.key.setFixedWidth(self.key.fontMetrics().horizontalAdvance("9") + 2)
        self.key.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.key)
        swatch = QLabel()
        swatch.setFixedSize(12, 12)
        swatch.setStyleSheet(f"background: {colour.name()}; border-radius: 6px;")
        self.label = QLabel(name if mixer is None else stem_label(name))
        self.label.setStyleSheet("font-weight: bold;")
        top.addWidget(swatch)
        top.addWidget(self.label, 1)
        grid.addLayout(top)

        self.solo = self.mute = self.gain = self.gain_label = None
        if mixer is not None:
            self.solo = self._toggle("S", f"Solo {name}", "#e0c341")
            top.addWidget(self.solo)
            if name != ORIGINAL:
                self.mute = self._toggle("M", f"Mute {name}", "#e05a4f")
                top.addWidget(self.mute)
            else:  # heard only when soloed: no M, its place kept so that the S buttons line up
                blank = QWidget()
                blank.setFixedSize(self.solo.size())
                top.addWidget(blank)
            gain_line = QHBoxLayout()
            self.gain_label = QLabel()
            self.gain = DbSlider(int(MIN_DB), int(MAX_DB), self.gain_label)
            self.gain.setValue(round(mixer.control(name).gain_db))
            self.gain.setAccessibleName(f"Gain of {name} in dB")
            self.gain.setToolTip("Gain in dB (double-click it or its value for 0 dB)")
            self.gain_label.setToolTip(self.gain.toolTip())
            self.gain_label.setFixedWidth(56)
            self.gain_label.setAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
            gain_line.addWidget(self.gain, 1)
            gain_line.addWidget(self.gain_label)
            grid.addLayout(gain_line)
            self.solo.setChecked(mixer.control(name).solo)
            self.solo.toggled.connect(lambda on: self._set("solo", on))
            if self.mute is not None:
                self.mute.setChecked(mixer.control(name).mute)
                self.mute.toggled.connect(lambda on: self._set("mute", on))
            self.gain.valueChanged.connect(lambda db: self._set("gain", db))
        grid.addStretch(1)
        layout.addWidget(controls)

        tip = (
            "Drag the song file itself onto a folder or a DAW, beside its stems"
            if name in (ORIGINAL, MIX_ROW)
            else f"Drag {name} onto a folder or a DAW to copy it as a wav file"
        )
        for handle in (swatch, self.label):
            handle.setToolTip(tip)
            handle.setCursor(Qt.CursorShape.OpenHandCursor)
        self._press: QPoint | None = None

        self.view = WaveformView(timeline, colour)
        self.view.setAccessibleName(f"Waveform of {name}")
        layout.addWidget(self.view, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_key(self, key: str, tip: str) -> None:
        """Write ``key``, the window's key for this row, before its name."""
        self.key.setText(key)
        self.key.setToolTip(tip)
        self.key.setAccessibleName(f"Key {key}")

    # A press and a drag on the name side (not on the waveform) drags the stem out as a file.
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.pressed.emit(self.name)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and (
            (event.position().toPoint() - self._press).manhattanLength()
            >= QApplication.startDragDistance()
        ):
            self._press = None
            self.drag_requested.emit(self.name)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and event.button() == Qt.MouseButton.LeftButton:
            self._press = None
            self.clicked.emit(self.name)
        super().mouseReleaseEvent(event)

    def _toggle(self, text: str, accessible: str, colour: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setCheckable(True)
        button.setFixedSize(26, 22)
        button.setAccessibleName(accessible)
        button.setToolTip(accessible)
        # Tab reaches it and Space presses it (keyboard_focus), for who cannot see the keys
        # 1-9; a click leaves the focus where it was (a gain keeps the wheel)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.setStyleSheet(f"QToolButton:checked {{ background: {colour}; color: black; }}")
        return button

    def _set(self, what: str, value: Any) -> None:
        if what == "solo":
            self.mixer.set_solo(self.name, bool(value))
        elif what == "mute":
            self.mixer.set_mute(self.name, bool(value))
        else:
            self.mixer.set_gain_db(self.name, float(value))
        self.changed.emit()


class StemPanel(QWidget):
    """The rows of the selected song, stacked in ``scroll_area`` under the time ruler; empty
    until ``show_song``.

    ``error`` says why a stem could not be dragged out; ``dragged`` is emitted once one's file
    is made, as its drag starts (an earlier ``error`` no longer stands); ``said(text, ms)`` is
    what a drag written on a thread says in the status bar, for ``ms`` (0: until replaced).
    """

    error = Signal(str)
    dragged = Signal(str)
    said = Signal(str, int)

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.track = ""
        # the rate stems are dragged out at (None: the stems' own), the part of the song
        # (``DragPart``), the tags of stem ``name``'s file of a part and what the stems were
        # made from (``DragFiles.file``'s ``source``; None: the stems shown only), asked at
        # each drag
        self.drag_rate: Callable[[], int | None] = lambda: None
        self.drag_part: Callable[[], DragPart] = DragPart
        self.drag_tags: Callable[[str, DragPart], Mapping[str, str]] = lambda name, part: {}
        self.drag_source: Callable[[], Hashable | None] = lambda: None
        # the song file the original mix row drags out as (None: no song)
        self.drag_song: Callable[[], Path | None] = lambda: None
        self.drags = StemDrags(self)
        self.rows: dict[str, StemRow] = {}
        self.mix_row: StemRow | None = None
        self.stemset: Any = None
        self.mixer: Any = None
        self.waveforms: Any = None
        page = QVBoxLayout(self)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(3)
        self.ruler = TimeRuler(timeline)
        self.ruler.hide()
        page.addWidget(self.ruler)
        rows = QWidget()
        self._layout = QVBoxLayout(rows)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        # the rows scroll under the ruler, which stays (it scrolled away with them: six stems
        # in a short window took the times and the click that seeks off screen)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(rows)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop showing nothing
        page.addWidget(self.scroll_area, 1)

    def clear(self) -> None:
        for row in [*self.rows.values(), self.mix_row]:
            if row is not None:
                self._layout.removeWidget(row)
                row.deleteLater()
        self.rows, self.mix_row = {}, None
        self.ruler.align(None)
        self.ruler.hide()
        self.stemset = self.mixer = self.waveforms = None
        self.drags.clear()  # another song's drags do not wait for this one's writes ahead

    def show_song(
        self, stemset: Any, mixer: Any, track: str = "song", waveforms: Any = None
    ) -> None:
        """One row per stem of ``stemset`` (controls on ``mixer``), plus the original mix.

        ``track`` names the files of stems dragged out of the window; ``waveforms`` (the
        ``StemWaveforms`` of ``stemset``, if already computed) saves computing them here.
        """
        from stemgui.stems.mixer import ORIGINAL
        from stemgui.stems.waveform import StemWaveforms

        self.clear()
        self.stemset, self.mixer, self.track = stemset, mixer, track
        if waveforms is None or waveforms.stemset is not stemset:
            waveforms = StemWaveforms(stemset)
        self.waveforms = waveforms
        if self.waveforms.mix is not None:
            if mixer is not None and ORIGINAL in mixer.names:
                self.mix_row = StemRow(ORIGINAL, QColor(MIX_COLOUR), self.timeline, mixer)
                self.mix_row.solo.setToolTip("Solo the original mix, to compare (A)")
                self.mix_row.show_key("A", "A solos the original mix, to compare (A/B)")
                self.mix_row.changed.connect(self.show_audibility)
            else:
                self.mix_row = StemRow(MIX_ROW, QColor(MIX_COLOUR), self.timeline)
            self.mix_row.view.set_waveform(self.waveforms.mix)
            self.mix_row.pressed.connect(self.drags.press_song)
            self.mix_row.drag_requested.connect(self.drags.start_song)
            self.mix_row.clicked.connect(self.drags.let_go_song)
            self._layout.addWidget(self.mix_row)
        for index, name in enumerate(stemset.names):
            row = StemRow(name, stem_colour(name, index), self.timeline, mixer)
            if row.solo is not None and index < 9:  # the window's keys (MainWindow)
                number = index + 1
                solo = native_keys(f"Ctrl+{number}")
                row.solo.setToolTip(f"Solo {name} ({solo})")
                row.mute.setToolTip(f"Mute {name} ({number})")
                row.show_key(str(number), f"{number} mutes {name}, {solo} solos it")
            row.view.set_waveform(self.waveforms[name])
            row.changed.connect(self.show_audibility)
            row.pressed.connect(self.drags.write_ahead)  # maybe a drag: its file meanwhile
            row.drag_requested.connect(self.drag_out)
            row.clicked.connect(self.drags.let_go)  # no drag: its file is not left behind
            self.rows[name] = row
            self._layout.addWidget(row)
        first = self.mix_row or next(iter(self.rows.values()))
        self.ruler.align(first.view)
        self.ruler.show()
        self.show_audibility()

    def toggle(self, index: int, what: str) -> None:
        """Press S (``what="solo"``) or M (``"mute"``) of the ``index``-th stem row (0: the
        first after the original mix), or of the original mix (``index`` -1); nothing when
        there is no such row or button (keys 1–9 and A; the original mix has no M)."""
        rows = [*self.rows.values()]
        row = self.mix_row if index == -1 else rows[index] if 0 <= index < len(rows) else None
        button = getattr(row, what, None) if row is not None else None
        if button is not None:
            button.toggle()  # as a click: the mixer, the dimming, the button's look

    def update_ready(self) -> None:
        """Take in the frames the separation finished since the last call."""
        if self.waveforms is None:
            return
        self.waveforms.update()
        for row in self.rows.values():
            row.view.refresh()

    def show_audibility(self) -> None:
        """Dim the rows of stems that are not heard."""
        if self.mixer is None:
            return
        rows = list(self.rows.values())
        if self.mix_row is not None and self.mix_row.gain is not None:
            rows.append(self.mix_row)
        for row in rows:
            row.view.set_dimmed(
                not self.mixer.is_audible(row.name) or row.gain.value() <= row.gain.minimum()
            )

    # -- dragging a stem out: stemgui.ui.stem_drags ------------------------------------------

    def drag_file(self, name: str) -> Path:
        """Stem ``name`` as the wav file a drag drops (``StemDrags.file``)."""
        return self.drags.file(name)

    def drag_mime(self, name: str) -> QMimeData:
        """The drag payload of stem ``name``: the file URL of its wav."""
        return self.drags.mime(name)

    def drag_out(self, name: str) -> None:
        self.drags.start(name)
