"""The separation worker's ``QThread``: started at a low priority, stopped at shutdown.

Stopping gives the storing of a song just separated in the stem cache ``STORE_WAIT_MS`` to end
(a 4-minute song's stems take a second or two; stopped sooner, the song is separated again at
the next start, minutes on a CPU), then interrupts it. A thread that does not stop when asked (a
layer that ignores cancel: a hung GPU driver) is kept and waited for at exit, since Qt aborts
the process if a ``QThread`` is destroyed while it runs; past ``UNSTOPPED_WAIT_MS`` the process
leaves without it.
"""

from __future__ import annotations

import atexit
import logging
import os

from PySide6.QtCore import QThread

from stemgui.ui.worker import SeparationWorker

logger = logging.getLogger(__name__)

STORE_WAIT_MS = 10_000
UNSTOPPED_WAIT_MS = 30_000
_unstopped: list[tuple[QThread, SeparationWorker]] = []  # each kept alive with its worker


@atexit.register
def _wait_for_unstopped_threads() -> None:
    for thread, _worker in _unstopped:
        if not thread.wait(UNSTOPPED_WAIT_MS):
            logger.error("leaving with a separation thread still running")
            logging.shutdown()
            os._exit(0)


def start(worker: SeparationWorker) -> QThread:
    """Move ``worker`` to a thread of its own and start it below the GUI thread's priority
    (``SeparationWorker.lower_priority`` runs first on it)."""
    thread = QThread()
    thread.setObjectName("stemgui-separation")
    worker.moveToThread(thread)
    thread.started.connect(worker.lower_priority)
    thread.start(QThread.Priority.LowPriority)
    return thread


def stop(thread: QThread, worker: SeparationWorker, timeout_ms: int) -> bool:
    """Stop ``thread`` once ``worker`` has ended its song (cancel it first): the storing of a
    finished song's stems gets ``STORE_WAIT_MS``, then is interrupted. False when the thread
    did not stop within ``timeout_ms``: it is waited for at exit."""
    thread.quit()
    if worker.storing.is_set() and thread.wait(STORE_WAIT_MS):
        logger.info("the stems of the last song were stored before leaving")
    worker.stopping.set()
    if not thread.wait(timeout_ms):
        logger.error("the separation thread did not stop within %d ms", timeout_ms)
        _unstopped.append((thread, worker))
        return False
    return True
