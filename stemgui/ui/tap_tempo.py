"""Playback ▸ Tap tempo (T): the song on screen's tempo and grid from the beats the user taps
along to it (``stemgui.stems.taps``), as DJ software's tap button.

Each press while the song plays records the song's time heard then (``Player.position_heard``:
the time in the song, not on the wall clock, so taps along to it at 75 % read its own tempo),
and the wall clock's (``clock``): a pause heard, 2 s at any speed, starts the taps over.
The status bar shows the running reading ("Tap: 121.4 BPM (5 taps)"); from four steady taps on
each one makes it the song's tempo, its grid through the taps, in place of the estimate and of
the corrections made before (``Analysis.tapped``): shown and said as every correction is
(``TempoMenu.take``), kept with the song's stems once the taps settle (``correction_writes``). A
song for which the estimates found no tempo gets one this way.

A few seconds of taps are about 0.1 BPM off, a grid that drifts 0.25 s over 5 minutes: each
steady run's grid is then fitted to the whole song's onsets on a thread of its own, as halving
is (``taps.refined``; the song's onsets read once, the next runs fitted to them), and takes
the tapped grid's place where the song has a pulse that the taps lie on (``fitted``); dropped
where the song has another analysis by then (more taps). The song's other corrections wait for
it, disabled (``fitting``; ``TempoMenu.waits``): made meanwhile, it or they were dropped; another
song's do not, and its taps are fitted beside, on a thread of their own. A fit that
fails (a bug: logged) leaves the taps' grid, and the status bar says so.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from stemgui.stems.taps import STEADY_TAPS, Taps
from stemgui.ui.tempo_menu import emit_from_thread

if TYPE_CHECKING:
    from stemgui.ui.tempo_menu import TempoMenu

logger = logging.getLogger(__name__)

KEY = "T"


class TapTempo(QObject):
    """The Tap tempo action and the taps of the run going on, for the song they were tapped
    on (another song on screen starts over).

    Signals:
        fitted(job, before, onsets, tempo, said): from the thread that fitted the taps,
            ``job``'s tapped analysis ``before``, the song's ``onsets`` (``taps.song_onsets``)
            and the tempo fitted to them (``taps.refined``); both None: it failed (logged).

    Args:
        menu: the tempo menu: the song on screen's analysis, and ``take`` for a tapped one.
        add: makes a Playback menu action of (text, slot, shortcut).
    """

    fitted = Signal(object, object, object, object, str)

    def __init__(self, menu: TempoMenu, add: Callable[[str, Any, str | None], QAction]) -> None:
        super().__init__(menu)
        self.menu = menu
        self.action = add("&Tap tempo", self.tap, KEY)
        self.taps = Taps()
        self.clock: Callable[[], float] = time.monotonic  # seconds heard, between presses
        self._song: weakref.ref[Any] | None = None  # the song of the taps
        self._onsets: tuple[weakref.ref[Any], Any] | None = None  # a song's, read once
        self._fitting: dict[Any, Future[Any]] = {}  # song -> the fit of its taps on a thread
        self._next: dict[Any, tuple[Any, Any, list[float], str]] = {}  # a song's taps after those
        self.fitted.connect(self._fitted)  # queued: emitted on the fitting's thread

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
            tapped = analysis.tapped(reading)
            self.menu.take(job, tapped, "", said=f"{said}.", settle=True)
            self._fit(job, tapped, list(self.taps.times), said)

    @property
    def fitting(self) -> frozenset[Any]:
        """The songs (``Job``) whose taps are being fitted to them on a thread; empty: none."""
        return frozenset(self._fitting)

    @property
    def fits(self) -> list[Future[Any]]:
        """The fits of taps being worked out (``emit_from_thread``'s futures): the close waits
        for them (``TempoMenu.finish``)."""
        return list(self._fitting.values())

    def _fit(self, job: Any, before: Any, times: list[float], said: str) -> None:
        """Fit the grid of the taps at ``times`` that gave ``job`` the analysis ``before`` to
        the song's onsets, on a thread (``fitted``); after the song's fitting going on, if one
        is."""
        if job in self._fitting:
            self._next[job] = (job, before, times, said)  # the latest taps only
            return
        known = self._onsets[1] if self._onsets and self._onsets[0]() is job else None
        stemset = job.stemset

        def work() -> tuple[Any, Any]:
            from stemgui.stems.taps import refined, song_onsets

            onsets = known or song_onsets(stemset)
            return onsets, refined(times, onsets)

        self._fitting[job] = emit_from_thread(  # failed (None): the taps' grid stays
            "stemgui-taps",
            work,
            lambda fit: self.fitted.emit(job, before, *(fit or (None, None)), said),
            f"{job.path}: fitting the tapped tempo to the song",
        )
        self.menu.update()  # the other corrections wait for it

    def _fitted(self, job: Any, before: Any, onsets: Any, tempo: Any, said: str) -> None:
        """The taps' grid fitted to the song (``fitted``), on the GUI thread: taken where the
        song still has the taps' analysis ``before`` and the fit moved it, said where it failed;
        then the next taps'."""
        self._fitting.pop(job, None)
        if onsets is not None:
            self._onsets = (weakref.ref(job), onsets)
        if tempo is not None and job.analysis is before and tempo != before.tempo:
            fitted = f"{said}, its grid fitted to the song's beats: {tempo.bpm:.1f} BPM."
            self.menu.take(job, before.tapped(tempo), "", said=fitted, settle=True)
        elif onsets is None and job.analysis is before:  # failed: logged, with the song
            self.menu.window.statusBar().showMessage(
                f"{job.title}: the taps' grid could not be fitted to the song's beats and stays "
                "as tapped; Help ▸ Open log folder shows why (the log names the song).",
                10_000,
            )
        taps = self._next.pop(job, None)
        if taps is not None:
            self._fit(*taps)
        self.menu.update()
