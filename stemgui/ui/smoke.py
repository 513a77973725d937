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
1 and ``smoke test failed: <reason>``; the same line goes to the log. A run with nothing
moving on (no chunk separated, no step begun) for the time limit fails the test, saying where
it was and how to give a slow machine more; a slow run that moves on goes on. A watchdog thread
ends the process if even that cannot run (the GUI thread is stuck), so it never hangs a build.

An exception that escapes any slot (a module missing from the bundle, say) fails the test at
once, with its type and message.

Environment: ``STEMGUI_SMOKE_TIMEOUT`` (seconds with nothing moving on, default 300),
``STEMGUI_SMOKE_DEVICE`` (default ``auto``, as a new user).

This module is the entry point (settings, time limit, watchdog, the result line);
``smoke_steps`` drives the window through the steps, ``smoke_checks`` holds the checks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from stemgui.ui.smoke_steps import DEFAULT_TIMEOUT, FAILED, PASSED, TIMEOUT_ENV, SmokeTest

logger = logging.getLogger(__name__)

WATCHDOG_GRACE = 30.0  # seconds after the time limit before the process is ended outright
DEVICE_ENV = "STEMGUI_SMOKE_DEVICE"


def throwaway_settings(path: Path) -> Any:
    """Default ``Settings`` in an ini file at ``path`` (the user's stay untouched), with the stem
    cache off: a cached song would not be separated."""
    from stemgui.ui import settings as S

    settings = S.Settings(QSettings(str(path), QSettings.Format.IniFormat))
    keep_stems = getattr(S, "KEEP_STEMS", None)
    if keep_stems is not None:
        settings.set(keep_stems, False)
    return settings


@contextlib.contextmanager
def throwaway_folder(prefix: str) -> Iterator[tuple[Any, Path]]:
    """(``throwaway_settings`` in a new temporary folder, the folder); both go at the end. The
    settings are written before the folder goes: left to write themselves when Python lets them
    go (at exit), they would make the folder again."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as name:
        folder = Path(name)
        settings = throwaway_settings(folder / "settings.ini")
        try:
            yield settings, folder
        finally:
            settings.store.sync()


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


def _watchdog(deadline: Callable[[], float]) -> threading.Event:
    """End the process if the event loop is stuck ``WATCHDOG_GRACE`` s past ``deadline()`` (a
    ``time.monotonic`` time, moved on as the run moves on), too stuck to fail the test. Set the
    event returned to stop it."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(1.0):
            if time.monotonic() > deadline() + WATCHDOG_GRACE:
                grace = f"{WATCHDOG_GRACE:.0f} s"
                _report(f"{FAILED}: the app did not end within {grace} of its time limit (stuck)")
                os._exit(3)

    threading.Thread(target=watch, name="smoke test watchdog", daemon=True).start()
    return stop


def run_smoke_test(app: Any) -> int:
    """Run the smoke test in ``app`` (a ``QApplication``); return the exit status."""
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow

    timeout = _timeout_from_env()
    begun = time.monotonic()
    tests: list[SmokeTest] = []  # the deadline is the smoke test's once it is made
    watchdog = _watchdog(lambda: tests[0].deadline() if tests else begun + timeout)
    outcome = [1, f"{FAILED}: the event loop ended without a result"]
    with throwaway_folder("stemgui-smoke-") as (settings, folder):
        settings.set(S.DEVICE, os.environ.get(DEVICE_ENV, "auto"))
        out_dir = folder / "stems"
        out_dir.mkdir()
        window = MainWindow(settings)
        smoke = SmokeTest(window, out_dir, timeout=timeout)
        tests.append(smoke)

        def finish(code: int, line: str) -> None:
            outcome[:] = [code, line]
            window.close()
            app.exit(code)

        smoke.done.connect(finish)
        smoke.start()
        app.exec()
        window.deleteLater()
    watchdog.set()
    _report(outcome[1])
    return int(outcome[0])
