"""The smoke test's steps, driven on the GUI thread: queue the demo song in a real window,
wait for the worker to separate it, export the stems, have them checked; end in exactly one
``done(code, line)``, on success, on a failed check, on an exception escaping any slot, or
when the time limit passes (the step it was in named in the line).
"""

from __future__ import annotations

import logging
import sys
import time
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

DEFAULT_TIMEOUT = 300.0  # seconds: a slow CI machine separates the 28 s demo in about a minute
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
        timeout: seconds for the whole run.

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
    ) -> None:
        super().__init__(window)
        self.window = window
        self.out_dir = Path(out_dir)
        self.demo = demo
        self.expect_model = expect_model
        self.timeout = timeout
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
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._time_out)
        self.progress_reports = 0  # chunks the worker reported for the job: it really separated
        window.installEventFilter(self)
        window.controller.job_progress.connect(self._progress)
        window.exporter.finished.connect(self._exported)
        window.exporter.failed.connect(lambda message: self._fail(f"export failed: {message}"))
        self._uncaught.connect(self._fail)
        self._previous_hook: Any = None

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
        self._deadline.start(int(self.timeout * 1000))
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

    def _time_out(self) -> None:
        self._fail(f"no result after {self.timeout:.0f} s (while {self.step})")

    def _fail(self, reason: str) -> None:
        self._finish(1, f"{FAILED}: {reason}")

    def _finish(self, code: int, line: str) -> None:
        if self.result is not None:
            return
        self._timer.stop()
        self._deadline.stop()
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            self._previous_hook = None
        self.result = (code, line)
        self.done.emit(code, line)
