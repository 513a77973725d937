"""The smoke test's steps, driven on the GUI thread: queue the demo song in a real window,
wait for the worker to separate it, export the stems, have them checked; end in exactly one
``done(code, line)``, on success, on a failed check, on an exception escaping any slot, or
when nothing moved on for the time limit (the step it was in named in the line, with how far
it got and how to give a slow machine more time).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from stemgui.ui.smoke_checks import (
    Demo,
    SmokeFailure,
    bundled_default_model,
    bundled_demo,
    check_portaudio,
    check_stems,
    process_age,
)

logger = logging.getLogger(__name__)

# Seconds with nothing moving on (no chunk separated, no step begun), not for the whole run:
# a loaded machine took 260 s for the run, its chunks seconds apart, where 300 s in all failed.
DEFAULT_TIMEOUT = 300.0
TIMEOUT_ENV = "STEMGUI_SMOKE_TIMEOUT"
POLL_MS = 100
PASSED = "smoke test passed"
FAILED = "smoke test failed"


class SmokeTest(QObject):
    """Drives one window through demo -> separation -> export -> checks on the GUI thread.

    Args:
        window: a ``MainWindow`` built with throw-away settings (not shown yet); its settings
            choose the model (none chosen, as for a new user: the store's default).
        out_dir: where the stems are written (a folder that exists and is empty).
        demo: the song and its length (default: the bundled demo).
        expect_model: the model name the job must report (default: the bundled default model).
        timeout: seconds the run may go with nothing moving on: no chunk separated, no step
            begun. A slow machine's run goes on as long as it moves; a stuck one fails.
        clock: the seconds by which that is told (``time.monotonic``).

    Signals:
        done(code, line): 0 and the ``smoke test passed`` line, or 1 and the failure's reason.
    """

    done = Signal(int, str)
    _uncaught = Signal(str)  # from sys.excepthook, on whichever thread the slot ran

    def __init__(
        self,
        window: Any,
        out_dir: Path,
        demo: Demo | None = None,
        expect_model: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.out_dir = Path(out_dir)
        self.demo = demo
        self.expect_model = expect_model
        self.timeout = timeout
        self._now = clock
        self._began = self._moved = clock()  # the start, and the last time it moved on
        self.step = "starting"
        self.result: tuple[int, str] | None = None
        self.first_paint: float | None = None  # process age at the window's first paint
        self.job: Any = None
        self._clock = time.monotonic()
        self._separated_at = 0.0
        self._export_task: Any = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._watch = QTimer(self)  # the time limit, told by ``clock``
        self._watch.setInterval(POLL_MS)
        self._watch.timeout.connect(self._check_time)
        self.progress_reports = 0  # chunks the worker reported for the job: it really separated
        window.installEventFilter(self)
        window.controller.job_progress.connect(self._progress)
        window.exporter.finished.connect(self._exported)
        window.exporter.failed.connect(lambda message: self._fail(f"export failed: {message}"))
        self._uncaught.connect(self._fail)
        self._previous_hook: Any = None

    @property
    def step(self) -> str:
        """The step the run is in, in words: a step begun moves the run on."""
        return self._step

    @step.setter
    def step(self, step: str) -> None:
        self._step = step
        self._moved = self._now()

    def deadline(self) -> float:
        """When, by ``clock``, the run fails unless it moves on first."""
        return self._moved + self.timeout

    def _excepthook(self, kind: type[BaseException], error: BaseException, traceback: Any) -> None:
        """A bug (or a module missing from the bundle) in any slot fails the test at once."""
        logger.critical(
            "uncaught exception during the smoke test", exc_info=(kind, error, traceback)
        )
        self._uncaught.emit(f"uncaught {kind.__name__} while {self.step}: {error}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint and not self.first_paint:
            self.first_paint = process_age() or (time.monotonic() - self._clock)
        return False

    def start(self) -> None:
        """Show the window and queue the song; the rest runs from the event loop."""
        self._moved = self._now()
        self._watch.start()
        self._previous_hook, sys.excepthook = sys.excepthook, self._excepthook
        self.window.show()
        QTimer.singleShot(0, self._queue_song)

    def _queue_song(self) -> None:
        try:
            self._start_job()
        except SmokeFailure as error:
            self._fail(str(error))
            return
        self.step = "separating the demo song"
        self._clock = time.monotonic()
        self._timer.start()

    def _start_job(self) -> None:
        self.step = "checking PortAudio"
        self.portaudio = check_portaudio()
        self.step = "finding the demo song"
        if self.demo is None:
            self.demo = bundled_demo()
        self.step = "queueing the demo song"
        jobs = self.window.add_paths([self.demo.path])
        if len(jobs) != 1:
            raise SmokeFailure(f"the window queued {len(jobs)} songs for {self.demo.path}")
        self.job = jobs[0]

    def _progress(self, job: Any) -> None:
        if job is self.job:
            self.progress_reports += 1
            self._moved = self._now()

    def _poll(self) -> None:
        from stemgui.ui.queue import JobState

        state = self.job.state
        if state is JobState.WAITING and self.window.menus.has_model() is False:
            self._fail(f"no model to separate with: {self.window.menus.problem()}")
        elif state is JobState.FAILED:
            self._fail(f"separation failed: {self.job.error}")
        elif state is JobState.CANCELLED:
            self._fail("separation was cancelled")
        elif state is JobState.DONE:
            self._timer.stop()
            self._separated_at = time.monotonic() - self._clock
            if not self.progress_reports:
                self._fail("the song was not separated (its stems came from a cache)")
                return
            self._export()

    def _export(self) -> None:
        from stemgui.audio.encode import AudioFormat
        from stemgui.export.exporter import ExportRequest

        self.step = "exporting the stems"
        try:
            expected = self.expect_model or bundled_default_model()
        except SmokeFailure as error:
            self._fail(str(error))
            return
        if self.job.model_name != expected:
            self._fail(f"separated with {self.job.model_name!r}, not the bundled {expected!r}")
            return
        request = ExportRequest(
            folder=self.out_dir,
            fmt=AudioFormat(kind="wav", bits=32, float=True),
            template="{stem}.{ext}",
        )
        self._export_task = self.window.export_job(self.job, request)
        if self._export_task is None and self.result is None:
            self._fail("the export did not start")

    def _exported(self, job: Any, paths: list) -> None:
        if job is not self.job or self.result is not None:
            return
        self.step = "checking the stems"
        try:
            summary = check_stems(paths, list(self.job.stemset.names), self.demo.seconds)
        except SmokeFailure as error:
            self._fail(str(error))
            return
        shown = "unknown" if self.first_paint is None else f"{self.first_paint:.2f} s"
        device = self.window.device_label.text().partition(": ")[2]  # "Device: CPU"
        self._finish(
            0,
            f"{PASSED}: {len(paths)} stems of {self.demo.path.name} ({self.demo.seconds:.1f} s) "
            f"with {self.job.model_name} on {device} in {self._separated_at:.1f} s; "
            f"{summary}; window painted {shown} after start; PortAudio {self.portaudio}",
        )

    def _check_time(self) -> None:
        if self._now() > self.deadline():
            self._time_out()

    def _time_out(self) -> None:
        separated = f"{self.job.fraction:.0%}" if self.job is not None else "none"
        self._fail(
            f"nothing moved on for {self.timeout:.0f} s (while {self.step}; {separated} of the "
            f"song separated, {self._now() - self._began:.0f} s since the start); if the "
            f"machine is only slow or busy, set {TIMEOUT_ENV} to more seconds and run it again"
        )

    def _fail(self, reason: str) -> None:
        self._finish(1, f"{FAILED}: {reason}")

    def _finish(self, code: int, line: str) -> None:
        if self.result is not None:
            return
        self._timer.stop()
        self._watch.stop()
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            self._previous_hook = None
        self.result = (code, line)
        self.done.emit(code, line)
