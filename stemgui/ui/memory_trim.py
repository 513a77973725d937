"""When the separation worker gives freed memory back to the system.

``malloc_trim`` (the worker's ``release_memory``, on its thread) stalls the GUI thread for tens
of ms, so not after every song; yet a long session must not keep growing. ``MemoryTrim`` asks
for it once the queue has rested ``IDLE_TRIM_MS``, and in a long queue before every
``TRIM_EVERY_SONGS``-th song.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

IDLE_TRIM_MS = 2000
TRIM_EVERY_SONGS = 10


class MemoryTrim(QObject):
    """Asks ``release`` (a slot of the worker) to give memory back, between songs.

    Args:
        release: called through a queued signal, on the thread of its object.
        parent: the queue's controller, on the GUI thread.
    """

    _release = Signal()

    def __init__(self, release: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._release.connect(release)
        self._timer = QTimer(self, singleShot=True, interval=IDLE_TRIM_MS)
        self._timer.timeout.connect(self.now)
        self._songs = 0  # started since the last trim

    def resting(self) -> None:
        """The queue rests (nothing runs): trim once it has for ``IDLE_TRIM_MS``."""
        self._timer.start()

    def song_starts(self) -> None:
        """A song goes to the worker: no trim while it runs, one before it past a few songs."""
        self._timer.stop()
        if self._songs >= TRIM_EVERY_SONGS:
            self.now()
        self._songs += 1

    def now(self) -> None:
        self._songs = 0
        self._release.emit()  # queued: runs on the worker's thread, between songs
