"""Playback ▸ Cues: up to eight cue points (hot cues) of the song on screen
(``stemgui.stems.cues``), what DJs jump to a song's parts with and musicians practising mark its
sections with.

Set cue N puts cue N at the playhead heard (on the beat nearest it where the song has a grid and
Playback ▸ Snap loops to beats is on, as loops snap); set again, it moves there. Jump to cue N
sends the playhead there as DJ software's hot cues do: playing, the song plays on from the cue;
stopped or paused, the playhead waits there and Space plays from it. The keys are the digits,
as a DJ controller's pads: Shift+1…8 jumps, Ctrl+Shift+1…8 sets (the digits alone mute the
stems, with Ctrl solo them, with Alt loop beats). Clear cue N and Clear all cues are in the
submenu only. The items are enabled while a separated song is on screen; a jump to a cue not
set says how to set it.

The cues are the song's, as its tempo's corrections are (``tempo_menu``): every row reading its
stem cache entry has them (the song in two stems and in four, ``TempoMenu.same_entry``), the
waveforms and the time ruler draw them (``cues_marks``), and they are kept in the entry beside
the corrections by the corrections' writer (``correction_writes``), so that they hold at the
next start and when the song is analysed again. They are times of the song, so they hold at any
speed and key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from stemgui.stems.cues import COUNT
from stemgui.ui.clock import clock
from stemgui.ui.shown_song import cue_frames

if TYPE_CHECKING:
    from stemgui.ui.queue import Job
    from stemgui.ui.tempo_menu import TempoMenu
    from stemgui.ui.window import MainWindow

JUMP_KEYS = "Shift+{}"
SET_KEYS = "Ctrl+Shift+{}"

Add = Callable[..., QAction]
"""(menu, text, slot, shortcut) -> an action of ``menu``, added to the window too
(``MenuBar._action``: its shortcut works while the menu bar is hidden, and F1 lists it)."""


class CuesMenu(QObject):
    """The Cues submenu of ``play_menu`` (``menu``) and its actions, by cue number:
    ``set_actions``, ``jump_actions``, ``clear_actions``; then ``clear_all_action``.

    Args:
        window: the main window: the song on screen, its player, timeline and status bar.
        play_menu: the Playback menu, which the submenu is added to.
        tempo: the tempo's corrections: the rows of a song (``same_entry``) and the writer
            that keeps the cues with the corrections.
        add: makes a menu action (``Add``).
    """

    def __init__(self, window: MainWindow, play_menu: QMenu, tempo: TempoMenu, add: Add) -> None:
        super().__init__(window)
        self.window, self.tempo = window, tempo
        self.menu = play_menu.addMenu("C&ues")
        setting = self.menu.addMenu("&Set cue at the playhead")
        jumping = self.menu.addMenu("&Jump to cue")
        clearing = self.menu.addMenu("&Clear cue")
        self.set_actions: dict[int, QAction] = {}
        self.jump_actions: dict[int, QAction] = {}
        self.clear_actions: dict[int, QAction] = {}
        for n in range(1, COUNT + 1):
            self.set_actions[n] = add(
                setting, f"Set cue &{n}", lambda _=False, n=n: self.set_cue(n), SET_KEYS.format(n)
            )
            self.jump_actions[n] = add(
                jumping, f"Jump to cue &{n}", lambda _=False, n=n: self.jump(n), JUMP_KEYS.format(n)
            )
            self.clear_actions[n] = add(
                clearing, f"Clear cue &{n}", lambda _=False, n=n: self.clear(n)
            )
        self.menu.addSeparator()
        self.clear_all_action = add(self.menu, "Clear &all cues", lambda: self.clear(None))
        play_menu.aboutToShow.connect(self.update)
        self.menu.aboutToShow.connect(self.update)
        self.update()

    def _song(self) -> tuple[Job | None, Any]:
        """The song on screen and its cues, once it is separated; else (None, None)."""
        job = self.window.shown_job
        if self.tempo.analysis() is None or job is None or job.waveforms is None:
            return None, None
        return job, job.waveforms.cues

    def update(self) -> None:
        """Enable the items, and name the time of each cue set, for the song on screen now."""
        _job, cues = self._song()
        self.menu.menuAction().setEnabled(cues is not None)
        for number in range(1, COUNT + 1):
            seconds = None if cues is None else cues.at(number)
            at = "" if seconds is None else f" ({clock(seconds, 2)})"
            self.set_actions[number].setEnabled(cues is not None)
            self.jump_actions[number].setEnabled(cues is not None)
            self.jump_actions[number].setText(f"Jump to cue &{number}{at}")
            self.clear_actions[number].setEnabled(seconds is not None)
            self.clear_actions[number].setText(f"Clear cue &{number}{at}")
        self.clear_all_action.setEnabled(bool(cues and cues.numbers()))

    def set_cue(self, number: int) -> None:
        """Put cue ``number`` at the playhead heard (on the nearest beat where loops snap)."""
        job, cues = self._song()
        if job is None:
            return  # the item is disabled: no separated song on screen
        heard = self.window.player.position_heard()
        frame = self.window.timeline.snapped(heard)
        seconds = frame / job.stemset.samplerate
        how = " (the beat nearest the playhead)" if frame != heard else ""
        said = (
            f"{job.title}: cue {number} set at {clock(seconds, 2)}{how}; "
            f"{JUMP_KEYS.format(number)} jumps to it."
        )
        self._take(job, cues.placed(number, seconds), said)

    def jump(self, number: int) -> None:
        """Send the playhead to cue ``number``: playing, the song plays on from there."""
        job, cues = self._song()
        if job is None:
            return
        seconds = cues.at(number)
        if seconds is None:
            self.window.statusBar().showMessage(
                f"{job.title} has no cue {number}: {SET_KEYS.format(number)} sets it at the "
                "playhead (Playback ▸ Cues).",
                8000,
            )
            return
        self.window.player.seek(round(seconds * job.stemset.samplerate))

    def clear(self, number: int | None) -> None:
        """Clear cue ``number`` of the song on screen (None: all of them)."""
        job, cues = self._song()
        if job is None or not cues.numbers() or (number and cues.at(number) is None):
            return  # the item is disabled: nothing to clear
        what = "all cues" if number is None else f"cue {number}"
        self._take(job, cues.cleared(number), f"{job.title}: {what} cleared.")

    def _take(self, job: Job, cues: Any, said: str) -> None:
        """``cues`` as the song's: its rows', drawn, kept with its stems; ``said`` then why they
        are not kept, where they are not."""
        for row in self.tempo.same_entry(job):
            row.waveforms.cues = cues
        self.window.timeline.set_cues(cue_frames(job))
        self.update()
        kept = self.tempo._keep(job, said)  # the corrections' writer keeps the cues with them
        self.window.statusBar().showMessage(said + kept, 10_000)
