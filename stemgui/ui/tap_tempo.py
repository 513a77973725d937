"""Playback ▸ Tap tempo (T): the song on screen's tempo and grid from the beats the user taps
along to it (``stemgui.stems.taps``), as DJ software's tap button.

Each press while the song plays records the song's time heard then (``Player.position_heard``:
the time in the song, not on the wall clock, so taps along to it at 75 % read its own tempo),
and the wall clock's (``clock``): a pause heard, 2 s at any speed, starts the taps over.
The status bar shows the running reading ("Tap: 121.4 BPM (5 taps)"); from four steady taps on
each one makes it the song's tempo, its grid through the taps, in place of the estimate and of
the corrections made before (``Analysis.tapped``): shown, kept and said as every correction is
(``TempoMenu.take``). A song for which the estimates found no tempo gets one this way.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction

from stemgui.stems.taps import STEADY_TAPS, Taps

if TYPE_CHECKING:
    from stemgui.ui.tempo_menu import TempoMenu

KEY = "T"


class TapTempo:
    """The Tap tempo action and the taps of the run going on, for the song they were tapped
    on (another song on screen starts over).

    Args:
        menu: the tempo menu: the song on screen's analysis, and ``take`` for a tapped one.
        add: makes a Playback menu action of (text, slot, shortcut).
    """

    def __init__(self, menu: TempoMenu, add: Callable[[str, Any, str | None], QAction]) -> None:
        self.menu = menu
        self.action = add("&Tap tempo", self.tap, KEY)
        self.taps = Taps()
        self.clock: Callable[[], float] = time.monotonic  # seconds heard, between presses
        self._song: weakref.ref[Any] | None = None  # the song of the taps

    def tap(self) -> None:
        """A tap on the beat heard now; say the reading, and from ``STEADY_TAPS`` taps on set
        the song's tempo to it."""
        from stemgui.stems.tempo_fix import LIMITS

        window = self.menu.window
        job, analysis = window.shown_job, self.menu.analysis()
        if analysis is None:
            return  # the action is disabled: no song separated on screen
        transport = window.player.transport
        if transport is None or not transport.playing:
            window.statusBar().showMessage(
                "Tap tempo: play the song, then press T on every beat you hear.", 8000
            )
            return
        if self._song is None or self._song() is not job:
            self.taps.clear()
            self._song = weakref.ref(job)
        self.taps.tap(window.player.position_heard() / job.stemset.samplerate, self.clock())
        reading, count = self.taps.reading(), len(self.taps.times)
        if reading is None:
            window.statusBar().showMessage("Tap: 1 tap (press T on every beat).", 8000)
            return
        said = f"Tap: {reading.bpm:.1f} BPM ({count} taps)"
        if not self.taps.steady:
            window.statusBar().showMessage(f"{said}; {STEADY_TAPS} set the tempo.", 8000)
        elif not LIMITS[0] <= reading.bpm <= LIMITS[1]:
            window.statusBar().showMessage(
                f"{said}: past {LIMITS[0]:g}–{LIMITS[1]:g} BPM, the song's tempo is left as it "
                "was; tap every beat, or every other.",
                8000,
            )
        else:
            self.menu.take(job, analysis.tapped(reading), "", said=f"{said}.")
