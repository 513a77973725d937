"""Playback ▸ Key of the song: the key the user sets for the song on screen in the estimate's
place (``stemgui.stems.key``), as DJ software lets a key be typed in.

The estimate reads 29 of 40 synthetic songs exactly; most misses are the relative key (the same
notes: only the weight of the tonic tells them apart) or a whole tone off. So the submenu's
first item is Relative major/minor, naming the key it sets; then the 24 keys with their Camelot
codes, in a Major keys and a Minor keys submenu, the song's key checked (the estimate's until
the user sets another);
last, Reset key to the estimate, naming it. The items are enabled while a separated song is on
screen (one with no key found can be given one; Relative and Reset once there is a key to go
from, or one set), and not while a correction of its tempo is worked out, a halving or taps
being fitted to it (``TempoMenu.waits``: it would be dropped); another song's work does not
hold them up.

The key set is a correction of the song's ``Analysis`` (``Analysis.keyed``), taken as the
tempo's are (``TempoMenu.take``): every row reading the song's stem cache entry has it, the
title names it (and the key heard at another pitch: ``shown_song.title_found``), exports and
dragged stems are tagged with it (TKEY, INITIALKEY: ``exporter.tempo_and_key``), and it is
kept in the entry beside the tempo's corrections (``analysis.KEY_FIELD``), so that it holds at
the next start and when newer estimates analyse the song again. The items' state is read as
the Playback menu, or this submenu, opens (``update``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from stemgui.stems.key import Key
from stemgui.ui.mnemonics import with_mnemonic

if TYPE_CHECKING:
    from stemgui.ui.tempo_menu import TempoMenu
    from stemgui.ui.window import MainWindow

logger = logging.getLogger(__name__)

RELATIVE = "&Relative major/minor"
RESET = "Reset key to the &estimate"
UNDO = f"Playback ▸ Key of the song ▸ {RESET.replace('&', '')} undoes it"


def key_text(key: Key) -> str:
    """How a menu item names a key: "F♯ minor (11A)"."""
    return f"{key.name} ({key.camelot})"


class KeyMenu(QObject):
    """The Key of the song submenu of ``play_menu`` (``menu``), its actions (``relative_action``,
    ``key_actions`` by ``Key``, ``reset_action``) acting on the song on screen.

    Args:
        window: the main window: the song on screen and its status bar.
        play_menu: the Playback menu, which the submenu is added to.
        tempo: the tempo's corrections, whose ``take`` shows and keeps the key set.
    """

    def __init__(self, window: MainWindow, play_menu: QMenu, tempo: TempoMenu) -> None:
        super().__init__(window)
        self.window, self.tempo = window, tempo
        self.menu = play_menu.addMenu("Ke&y of the song")
        self.relative_action = self._add(RELATIVE, self.relative)
        self.menu.addSeparator()
        self.key_actions: dict[Key, QAction] = {}
        for mode, title in (("major", "&Major keys"), ("minor", "M&inor keys")):
            keys = self.menu.addMenu(title)  # twelve each: every one has a letter of its own
            taken: set[str] = set()
            for tonic in range(12):
                key = Key(tonic, mode)
                text = with_mnemonic(key_text(key), taken)
                action = self._add(text, lambda _=False, k=key: self.set_key(k), keys)
                action.setCheckable(True)
                self.key_actions[key] = action
        self.menu.addSeparator()
        self.reset_action = self._add(RESET, self.reset)
        play_menu.aboutToShow.connect(self.update)
        self.menu.aboutToShow.connect(self.update)
        self.update()

    def _add(self, text: str, slot: Any, menu: QMenu | None = None) -> QAction:
        menu = menu or self.menu
        action = QAction(text, menu)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def analysis(self) -> Any:
        """The analysis of the song on screen, once it is separated and while no correction
        of its tempo is worked out; else None."""
        return None if self.tempo.computing else self.tempo.analysis()

    def update(self) -> None:
        """Enable, check and name the items for the song on screen as it is now."""
        analysis = self.analysis()
        self.menu.menuAction().setEnabled(analysis is not None)
        key = analysis.key if analysis is not None else None
        for each, action in self.key_actions.items():
            action.setEnabled(analysis is not None)
            action.setChecked(each == key)
        self.relative_action.setEnabled(key is not None)
        self.relative_action.setText(
            RELATIVE + ("" if key is None else f": {key_text(key.relative)}")
        )
        set_by_user = analysis is not None and analysis.edit.key is not None
        self.reset_action.setEnabled(set_by_user)
        estimate = analysis.estimated.key if set_by_user else None
        named = "none found" if estimate is None else key_text(estimate)
        self.reset_action.setText(RESET + (f": {named}" if set_by_user else ""))

    def relative(self) -> None:
        """Set the song on screen's key to the relative major or minor of the key it has."""
        analysis = self.analysis()
        if analysis is not None and analysis.key is not None:
            self.set_key(analysis.key.relative)

    def set_key(self, key: Key) -> None:
        """Set the song on screen's key to ``key``, in the estimate's place."""
        job, analysis = self.window.shown_job, self.analysis()
        if analysis is None or key == analysis.key:
            self.update()  # the item clicked unchecked itself: checked again
            return
        said = f"{job.title}: key set to {key.name}, {key.camelot} ({UNDO})."
        self.tempo.take(job, analysis.keyed(key), "", said=said)
        self.update()

    def reset(self) -> None:
        """Give the song on screen the estimate's key again (or none, where none was found)."""
        job, analysis = self.window.shown_job, self.analysis()
        if analysis is None or analysis.edit.key is None:
            return  # the item is disabled: no key set
        estimate = analysis.estimated.key
        if estimate is None:
            said = "no key was found, as before (Playback ▸ Key of the song gives it one)."
        else:
            said = f"key reset to the estimate, {estimate.name}, {estimate.camelot}."
        self.tempo.take(job, analysis.keyed(None), "", said=f"{job.title}: {said}")
        self.update()
