"""Playback ▸ Double tempo, Halve tempo, Move the beat grid to the playhead, Tap tempo and Reset
tempo to the estimate: the user's corrections of the song on screen's tempo and beat grid
(``stemgui.stems.tempo_fix``), as DJ software's "×2", "÷2", "beat here" and tap button.

The corrected ``Analysis`` takes the place of the song's (``Job.analysis``, held by its
waveforms, which a song added again shares; and of each row that reads the same stem cache
entry: the song in two stems and in all, ``same_entry``), so that all that reads it follows:
the title (the tempo as heard at any speed too), the beat grid behind the waveforms (which
loops snap to, Alt+1…8 loop and the metronome clicks on), and the tempo exports and dragged
stems are tagged with. The corrections (``TempoEdit``), not the tempo they make, are kept in
the song's stem cache entry (``analysis.edit_info``): they hold at the next start, and when
newer estimates analyse the song again (``worker_cache.cached_analysis``), written on the
corrections' thread in the order made (``correction_writes``). A song whose stems are not stored
yet has them written once they are (``QueueController.job_stored``). Tapping
is ``tap_tempo``'s; the key the user sets (``key_menu``) is taken, shown and kept the same way
(``take``), and the tempo's corrections and reset keep it.

Halving reads the song's drums, 1.1-1.4 times as long as estimating its tempo (measured on a
5-minute song; the README gives the estimate's times), so the correction is worked out on a
thread of its own and handed back to the GUI thread (``corrected``); the song's actions but Tap
tempo wait for it, disabled (a tempo tapped meanwhile wins: the halving is dropped), as they wait
for taps being fitted to the song (``waits``). Another song's are not held up meanwhile: each
result lands in the song it was worked out for. The window's close waits for those still being
worked out, ``RESULT_WAIT_S`` at most, and keeps what they give (``finish``): a halving dropped
there was lost at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal
from PySide6.QtGui import QAction

from stemgui.ui.queue import Job

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

logger = logging.getLogger(__name__)

RESULT_WAIT_S = 5.0
"""How long the window's close waits for a halving or a fit of taps being worked out (a 60-minute
song's halving takes about 2.5 s)."""


def emit_from_thread(
    name: str, work: Callable[[], Any], deliver: Callable[[Any], None], doing: str
) -> futures.Future[Any]:
    """Run ``work()`` on a daemon thread ``name``, then ``deliver`` what it returned (None
    where it failed: a bug must not take the app down, and is logged as ``doing`` failing),
    which emits a signal to the GUI thread; one the window closed meanwhile took with it is
    only logged. Returns the future of what ``work`` returned, done once it was delivered (the
    close waits for it: ``TempoMenu.finish``)."""
    done: futures.Future[Any] = futures.Future()

    def run() -> None:
        result = None
        try:
            result = work()
        except Exception:
            logger.exception("%s failed", doing)
        try:
            deliver(result)
        except RuntimeError:  # the window closed meanwhile
            logger.debug("%s ended after the window closed", doing)
        finally:
            done.set_result(result)

    threading.Thread(target=run, name=name, daemon=True).start()
    return done


KEYS = {2.0: "Alt+Up", 0.5: "Alt+Down"}
BEAT_KEY = "B"
UNDO = "Playback ▸ Reset tempo to the estimate undoes it"


class TempoMenu(QObject):
    """The actions, enabled while the song on screen has what each corrects (``update``:
    whenever the window updates its buttons) and no halving of it is being worked out: Double and
    Halve tempo a tempo that the step keeps within ``tempo_fix.LIMITS``, Move the beat grid a
    grid, Reset corrections, Tap tempo a song separated (with a tempo found or none).

    Signals:
        corrected(job, before, analysis, factor): from the thread that worked it out, ``job``'s
            analysis ``before`` doubled (``factor`` 2) or halved (0.5); None: the correction
            failed (logged).

    Args:
        window: the main window: the song on screen, its title and beat grid, the stem cache.
        add: makes a Playback menu action of (text, slot, shortcut).
    """

    corrected = Signal(object, object, object, float)

    def __init__(self, window: MainWindow, add: Callable[[str, Any, str | None], QAction]) -> None:
        from stemgui.ui.correction_writes import CorrectionWrites
        from stemgui.ui.tap_tempo import TapTempo

        super().__init__(window)
        self.window = window
        self.actions = {
            2.0: add("&Double tempo", lambda: self.scale(2.0), KEYS[2.0]),
            0.5: add("&Halve tempo", lambda: self.scale(0.5), KEYS[0.5]),
        }
        self.beat_action = add("Move the beat &grid to the playhead", self.beat_here, BEAT_KEY)
        self.taps = TapTempo(self, add)
        self.writes = CorrectionWrites(self)  # the corrections, written on a thread
        self.reset_action = add("&Reset tempo to the estimate", self.reset, None)
        self.busy: dict[Job, futures.Future[Any]] = {}  # song -> its halving or doubling
        self._unkept: weakref.WeakSet[Job] = weakref.WeakSet()  # corrected before stored
        self.corrected.connect(self._take)  # queued: emitted on the correction's thread
        window.controller.job_stored.connect(self._stored)
        window.controller.shutting_down.connect(self.finish)  # kept before the window goes
        self.update()

    @property
    def computing(self) -> bool:
        """Whether a correction of the song on screen is being worked out (``waits``)."""
        return self.waits(self.window.shown_job)

    def waits(self, job: Job | None) -> bool:
        """Whether a correction of ``job``'s song is being worked out on a thread: a halving or
        doubling (``busy``), taps fitted to it (``TapTempo.fitting``), of ``job`` or of a row
        reading the same stems (``same_entry``, a song added again). Made meanwhile, another
        correction of it was dropped as one of the two results arrived: they wait, disabled.
        Another song's work does not hold it up."""
        working = [*self.busy, *self.taps.fitting]
        if job is None or job.waveforms is None or not working:
            return False
        return any(
            row.waveforms is other.waveforms for row in self.same_entry(job) for other in working
        )

    def update(self) -> None:
        """Enable each action where the song on screen has what it corrects."""
        from stemgui.stems.tempo_fix import allowed

        analysis = self.analysis()
        tempo = analysis.tempo if analysis is not None and not self.computing else None
        for factor, action in self.actions.items():
            action.setEnabled(allowed(tempo, factor))
        self.beat_action.setEnabled(tempo is not None and tempo.beat is not None)
        self.reset_action.setEnabled(
            analysis is not None and not self.computing and analysis.tempo_corrected
        )
        self.taps.action.setEnabled(analysis is not None)

    def analysis(self) -> Any:
        """The analysis of the song on screen, once it is separated; else None."""
        job = self.window.shown_job
        return job.analysis if job is not None and job.stemset is not None else None

    def scale(self, factor: float) -> None:
        """Double (``factor`` 2) or halve (0.5) the tempo of the song on screen, its grid with
        it (worked out on a thread: ``corrected``)."""
        from stemgui.stems.tempo_fix import allowed

        job = self.window.shown_job
        analysis = self.analysis()
        if self.computing or analysis is None or not allowed(analysis.tempo, factor):
            return  # the action is disabled: nothing to correct
        stemset = job.stemset
        self.busy[job] = emit_from_thread(
            "stemgui-tempo",
            lambda: analysis.scaled(factor, stemset),
            lambda fixed: self.corrected.emit(job, analysis, fixed, factor),
            f"{job.path}: correcting the tempo",
        )
        self.update()

    def beat_here(self) -> None:
        """Move the grid of the song on screen so that a beat falls on the playhead heard, its
        BPM unchanged: a grid fitted to the off-beats (every beat half a beat late) put on the
        beats."""
        job, analysis = self.window.shown_job, self.analysis()
        tempo = analysis.tempo if analysis is not None else None
        if self.computing or tempo is None or tempo.beat is None:
            return  # the action is disabled: no grid to move
        seconds = self.window.player.position_heard() / job.stemset.samplerate
        self.take(job, analysis.moved(seconds), "a beat of the grid on the playhead now")

    def reset(self) -> None:
        """Undo every correction of the song on screen's tempo: the estimate's again (a key the
        user set stays)."""
        job, analysis = self.window.shown_job, self.analysis()
        if self.computing or analysis is None or not analysis.tempo_corrected:
            return  # the action is disabled: nothing corrected
        estimated = analysis.estimated
        if estimated.tempo is None:  # no tempo was found: tapping gives it one
            said = "no tempo was found, as before (Playback ▸ Tap tempo gives it one)."
        else:
            said = f"tempo reset to the estimate, {estimated.tempo.bpm:g} BPM."
        self.take(job, analysis.tempo_reset(), "", said=f"{job.title}: {said}")

    def _take(self, job: Job, before: Any, fixed: Any, factor: float) -> None:
        """``job``'s doubled or halved analysis, on the GUI thread (``take``); dropped where
        the song has another analysis by now (separated again, tapped)."""
        window = self.window
        self.busy.pop(job, None)
        if job.analysis is not before:
            logger.info("%s: the tempo corrected was found again meanwhile", job.path)
            self.update()
            return
        if fixed is None:
            self.update()
            window.statusBar().showMessage(
                f"{job.title}: the tempo could not be corrected; Help ▸ Open log folder shows "
                "why (the log names the song).",
                10_000,
            )
            return
        undo = self.actions[1 / factor].text().replace("&", "")
        done = "doubled" if factor > 1 else "halved"
        self.take(job, fixed, f"tempo {done}", undo=f"Playback ▸ {undo} undoes it")

    def take(
        self,
        job: Job,
        fixed: Any,
        what: str,
        undo: str = UNDO,
        said: str = "",
        settle: bool = False,
    ) -> None:
        """``job``'s corrected analysis ``fixed``: its rows' (``same_entry``), shown where one
        is on screen, kept with its stems on a thread (``CorrectionWrites``; with ``settle``, a
        tap's: once the taps settle), and said: "{title}: {what}, 120 BPM ({undo})." (or
        ``said``), then why it is not kept where it is not (where writing it fails: once it
        has, ``say_unkept``)."""
        window = self.window
        rows = self.same_entry(job)
        for row in rows:
            row.waveforms.analysis = fixed
        logger.info("%s: %s", job.path, fixed.describe())
        shown = window.shown_job
        if any(row is shown for row in rows):
            window.screen.show_beats(shown)
            if window.failed_job is None:  # else the failed song's name is the title
                window.screen.show_title(shown)
        self.update()
        said = said or f"{job.title}: {what}, {fixed.tempo.bpm:g} BPM ({undo})."
        window.statusBar().showMessage(said + self._keep(job, said, settle), 10_000)

    def same_entry(self, job: Job) -> list[Job]:
        """``job`` and the rows of the queue whose analysis is read from its stem cache entry:
        the same song in two stems and in all of them (the entry keeps the full stems; the
        next start reads each row's correction from there)."""
        from stemgui.ui.stem_cache_size import entry_of

        entry = entry_of(job)
        others = [
            row
            for row in self.window.controller.model.jobs
            if entry
            and row is not job
            and row.waveforms is not None
            and row.waveforms is not job.waveforms  # a song added again shares them
            and entry_of(row) == entry
        ]
        return [job, *others]

    def _keep(self, job: Job, said: str, settle: bool = False) -> str:
        """Keep ``job``'s correction, ``said`` so, in its stem cache entry (or once it has one;
        with ``settle``, once the taps settle); "" or a sentence saying why it holds for this
        session only, and what to do."""
        from stemgui.ui.stem_cache_size import entry_of

        entry = entry_of(job)
        if entry and settle:
            self.writes.later(job, entry)
            return ""
        if entry:
            self.writes.now(job, entry, said)
            return ""
        self._unkept.add(job)  # written once its stems are stored (``_stored``)
        if self.window.controller.worker.stem_cache is None:
            return (
                " It holds for this session only: File ▸ Keep separated stems between sessions "
                "keeps it with the song's stems."
            )
        return ""

    def _stored(self, job: Job) -> None:
        """The controller's ``job_stored``: a song corrected before its stems were stored has
        its correction written with them now."""
        from stemgui.ui.finished_stems import sharing
        from stemgui.ui.stem_cache_size import entry_of

        rows = sharing(job, self.window.controller.model.jobs)
        if not any(row in self._unkept for row in rows) or job.analysis is None:
            return
        for row in rows:
            self._unkept.discard(row)
        self.writes.now(job, entry_of(job) or "")

    def finish(self) -> None:
        """The window closes: wait for the halvings and doublings and the fits of taps being
        worked out, ``RESULT_WAIT_S`` at most, and take what each gives now (the results their
        threads posted to ``corrected`` and ``TapTempo.fitted`` are handed over here, not by
        the event loop, which runs no more); then write every correction
        (``CorrectionWrites.finish``). One not worked out by then is logged: a halving leaves
        the tempo as it was, a fit the taps' grid (already the song's correction)."""
        deadline = time.monotonic() + RESULT_WAIT_S
        while True:
            running = [future for future in self._working() if not future.done()]
            # the results posted before ``running`` was read are taken (a fit taken may start
            # the next taps' fit: waited for too)
            for receiver in (self, self.taps):
                QCoreApplication.sendPostedEvents(receiver, QEvent.Type.MetaCall)
            left = deadline - time.monotonic()
            if not self._working() or left <= 0:
                break
            futures.wait(running or self._working(), left, return_when=futures.FIRST_COMPLETED)
        for job in self.busy:
            logger.warning(
                "%s: the tempo's halving or doubling was not worked out within %g s as the "
                "window closed: the tempo stays as it was; correct it again at the next start",
                job.path,
                RESULT_WAIT_S,
            )
        for job in self.taps.fitting:
            logger.warning(
                "%s: the taps were not fitted to the song within %g s as the window closed: "
                "the grid stays as tapped",
                job.path,
                RESULT_WAIT_S,
            )
        self.writes.finish()

    def _working(self) -> list[futures.Future[Any]]:
        """The halvings and doublings and the fits of taps being worked out."""
        return [*self.busy.values(), *self.taps.fits]

    def say_unkept(self, job: Job, said: str, problem: str) -> None:
        """Say that ``job``'s correction, of which the status bar said ``said`` ("": nothing
        yet, or long ago), was not kept with its stems: ``problem`` says why."""
        if job.analysis is None:
            return
        tempo, key = job.analysis.tempo, job.analysis.edit.key
        if not said and key is not None and not job.analysis.tempo_corrected:
            said = f"{job.title}: key set to {key.name}."
        elif not said:
            said = f"{job.title}: tempo corrected" + (f" to {tempo.bpm:g} BPM." if tempo else ".")
        self.window.statusBar().showMessage(said + problem, 10_000)
