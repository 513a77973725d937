"""``stemgui --smoke-test``: the installed (frozen) app proves it works, end to end, headless.

Run under ``QT_QPA_PLATFORM=offscreen``, it opens the real ``MainWindow`` with throw-away
settings, queues the bundled demo song (``resources/demo/demo.mp3``), lets the real worker
separate it with the model a new user gets (the store's default: the bundled model; the stem
cache is off, and the worker must report chunks: stems from a cache would prove nothing),
exports the stems through the real ``ExportRunner`` into a temporary folder as 32-bit float WAV,
and checks the files: one per stem, four stems, the demo's length, finite, not silent. It also
checks that PortAudio (sounddevice) loads, since a frozen app can miss it with no other symptom.

It prints one line and sets the exit status: 0 and ``smoke test passed: ...`` (with the time
from process start to the first paint of the window, the separation time and the device), or
1 and ``smoke test failed: <reason>``; the same line goes to the log. A step that does not end
within the time limit fails the test; a watchdog thread ends the process if even that cannot
run (the GUI thread is stuck), so it never hangs a build.

An exception that escapes any slot (a module missing from the bundle, say) fails the test at
once, with its type and message.

Environment: ``STEMGUI_SMOKE_TIMEOUT`` (seconds, default 300), ``STEMGUI_SMOKE_DEVICE``
(default ``auto``, as a new user).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0  # seconds: a slow CI machine separates the 28 s demo in about a minute
WATCHDOG_GRACE = 30.0  # seconds after the time limit before the process is ended outright
POLL_MS = 100
EXPECTED_STEMS = 4
LENGTH_TOLERANCE = 0.05  # seconds of difference allowed between a stem and the demo
SILENCE_RMS = 1e-4  # about -80 dBFS
TIMEOUT_ENV = "STEMGUI_SMOKE_TIMEOUT"
DEVICE_ENV = "STEMGUI_SMOKE_DEVICE"
PASSED = "smoke test passed"
FAILED = "smoke test failed"


class SmokeFailure(Exception):
    """A check of the smoke test failed; the message is the reason, in one line."""


# ----------------------------------------------------------------------------- resources


def resources_dir() -> Path:
    """``resources/`` of the source tree or of the frozen app (beside ``resources/models``)."""
    from stemgui.separation.store import default_bundled_dir

    return default_bundled_dir().parent


@dataclass(frozen=True)
class Demo:
    """The song to separate and the length its stems must have."""

    path: Path
    seconds: float


def demo_path(root: Path | None = None) -> Path:
    """Where the demo song shipped with the app lies (Help ▸ Try the demo song, this test)."""
    return (root if root is not None else resources_dir()) / "demo" / "demo.mp3"


def bundled_demo(root: Path | None = None) -> Demo:
    """The demo song shipped in ``resources/demo`` and its length from ``demo.json``.

    Raises:
        SmokeFailure: the song or its description is missing or unreadable.
    """
    song = demo_path(root)
    description = song.with_name("demo.json")
    if not song.is_file():
        raise SmokeFailure(f"the demo song is missing: {song}")
    try:
        seconds = float(json.loads(description.read_text(encoding="utf-8"))["seconds"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SmokeFailure(f"cannot read the demo's length from {description}: {error}") from error
    return Demo(song, seconds)


def bundled_default_model(models_dir: Path | None = None) -> str:
    """The name of the bundled model marked default in the manifest (else the first one).

    Raises:
        SmokeFailure: no manifest, or it lists no model.
    """
    from stemgui.errors import ModelLoadError
    from stemgui.separation.store import ModelStore

    store = ModelStore(bundled_dir=models_dir) if models_dir is not None else ModelStore()
    try:
        entries = store.manifest()
    except ModelLoadError as error:
        raise SmokeFailure(str(error)) from error
    if not entries:
        raise SmokeFailure(f"no bundled model: {store.bundled_dir / 'manifest.json'} lists none")
    chosen = [entry for entry in entries if entry.get("default")] or entries
    return str(chosen[0]["name"])


# ----------------------------------------------------------------------------- checks


def check_stems(
    paths: Sequence[Path],
    names: Sequence[str],
    seconds: float,
    *,
    expected_count: int = EXPECTED_STEMS,
    tolerance: float = LENGTH_TOLERANCE,
    silence_rms: float = SILENCE_RMS,
) -> str:
    """Check exported stem files; return a short summary (the quietest stem's level).

    Each of ``names`` must have exactly one file among ``paths`` (named ``<stem>.<ext>``), there
    must be ``expected_count`` of them, and each must last ``seconds`` (± ``tolerance``), hold
    only finite samples and have an RMS level above ``silence_rms``.

    Raises:
        SmokeFailure: the first check that fails, with the file and the figures.
    """
    import numpy as np
    import soundfile as sf

    if len(names) != expected_count:
        raise SmokeFailure(f"expected {expected_count} stems, the model gave {len(names)}: {names}")
    by_stem = {Path(p).stem: Path(p) for p in paths}
    if sorted(by_stem) != sorted(names) or len(paths) != len(names):
        written = sorted(Path(p).name for p in paths)
        raise SmokeFailure(f"expected one file per stem {list(names)}, got {written}")
    levels = []
    for name in names:
        path = by_stem[name]
        if not path.is_file():
            raise SmokeFailure(f"{path} was reported written but does not exist")
        try:
            data, rate = sf.read(path, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise SmokeFailure(f"{path.name} is not readable audio: {error}") from error
        length = data.shape[0] / rate
        if abs(length - seconds) > tolerance:
            raise SmokeFailure(f"{path.name} lasts {length:.3f} s, the song {seconds:.3f} s")
        if not np.isfinite(data).all():
            raise SmokeFailure(f"{path.name} holds NaN or infinite samples")
        rms = float(np.sqrt(np.mean(np.square(data, dtype=np.float64))))
        if not rms > silence_rms:
            raise SmokeFailure(f"{path.name} is silent (RMS {rms:.2e} <= {silence_rms:.0e})")
        levels.append((rms, name))
    quietest, name = min(levels)
    return f"quietest stem {name} at {20 * math.log10(quietest):.1f} dBFS RMS"


def check_portaudio() -> str:
    """Load sounddevice's PortAudio library; return its version text.

    Raises:
        SmokeFailure: the library is not in the installation (or not on the system).
    """
    try:
        import sounddevice
    except OSError as error:
        raise SmokeFailure(f"PortAudio (sounddevice) does not load: {error}") from error
    text = str(sounddevice.get_portaudio_version()[1])  # "PortAudio V19.6.0-devel, revision …"
    return text.split(",")[0].removeprefix("PortAudio").strip()


def process_age() -> float | None:
    """Seconds since this process started (Linux, from ``/proc``); None where unknown."""
    try:
        stat = Path("/proc/self/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    # Field 22 (starttime, in clock ticks since boot) counted after the ")" that ends the name.
    fields = stat.rsplit(")", 1)[1].split()
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- the run


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


def throwaway_settings(path: Path) -> Any:
    """Default ``Settings`` in an ini file at ``path`` (the user's stay untouched), with the stem
    cache off: a cached song would not be separated."""
    from stemgui.ui import settings as S

    settings = S.Settings(QSettings(str(path), QSettings.Format.IniFormat))
    keep_stems = getattr(S, "KEEP_STEMS", None)
    if keep_stems is not None:
        settings.set(keep_stems, False)
    return settings


def _timeout_from_env() -> float:
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        return float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        logger.warning(
            "%s=%r is not a number of seconds; using %s", TIMEOUT_ENV, text, DEFAULT_TIMEOUT
        )
        return DEFAULT_TIMEOUT


def _report(line: str) -> None:
    """The result line on stdout (absent in a Windows GUI build) and in the log."""
    (logger.info if line.startswith(PASSED) else logger.error)("%s", line)
    if sys.stdout is not None:
        print(line, flush=True)


def _watchdog(seconds: float) -> threading.Timer:
    """End the process if the event loop is stuck past ``seconds``."""

    def expire() -> None:
        _report(f"{FAILED}: the app did not end within {seconds:.0f} s (stuck)")
        os._exit(3)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def run_smoke_test(app: Any) -> int:
    """Run the smoke test in ``app`` (a ``QApplication``); return the exit status."""
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow

    timeout = _timeout_from_env()
    watchdog = _watchdog(timeout + WATCHDOG_GRACE)
    outcome = [1, f"{FAILED}: the event loop ended without a result"]
    with tempfile.TemporaryDirectory(prefix="stemgui-smoke-", ignore_cleanup_errors=True) as folder:
        settings = throwaway_settings(Path(folder) / "settings.ini")
        settings.set(S.DEVICE, os.environ.get(DEVICE_ENV, "auto"))
        out_dir = Path(folder) / "stems"
        out_dir.mkdir()
        window = MainWindow(settings)
        smoke = SmokeTest(window, out_dir, timeout=timeout)

        def finish(code: int, line: str) -> None:
            outcome[:] = [code, line]
            window.close()
            app.exit(code)

        smoke.done.connect(finish)
        smoke.start()
        app.exec()
        window.deleteLater()
    watchdog.cancel()
    _report(outcome[1])
    return int(outcome[0])
