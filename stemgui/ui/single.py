"""One window per user: a second ``stemgui`` hands its songs to the one running and exits.

Two windows shared one saved session (the last to close wrote it: the other's queue was lost),
one stem cache and one model folder. Songs opened from a file manager ("Open with stemgui",
one launch per file) now all join the first window's queue, which comes to the front.

The first app holds a ``QLockFile`` for its whole run (Qt writes its process, host and
application there, and takes over the lock of a process that died) and listens on a
``QLocalServer`` (a socket file on Linux and macOS, a named pipe on Windows), both named after
the settings file, so a test or a portable install with its own settings has its own. A later
launch that finds the lock taken connects (waiting while the first one still builds its
window), sends one line, the JSON list of its songs' absolute paths, and exits: it never opens a
second window, even when the first one is too busy to answer at once (it queues them later).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

WAIT_MS = 10_000  # a first launch still building its window, or busy a moment


def server_name(settings_file: str) -> str:
    """The name the app with ``settings_file`` (``QSettings.fileName()``) listens on."""
    return "stemgui-" + hashlib.sha1(settings_file.encode()).hexdigest()[:16]


def instance_lock(name: str) -> QLockFile:
    """The lock the first app of ``name`` holds (in the user's temporary folder)."""
    lock = QLockFile(str(Path(QDir.tempPath()) / f"{name}.lock"))
    lock.setStaleLockTime(0)  # stale only once its process is gone, however long that runs
    return lock


def hand_over(name: str, songs: Sequence[Path], wait_ms: int = WAIT_MS) -> bool:
    """Send ``songs`` (none: just bring the window up) to the app listening on ``name``,
    trying to connect for up to ``wait_ms`` (it may be starting); True once they are sent."""
    socket = QLocalSocket()
    deadline = time.monotonic() + wait_ms / 1000
    socket.connectToServer(name)
    while not socket.waitForConnected(wait_ms):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
        socket.connectToServer(name)
    try:
        socket.write((json.dumps([str(Path(s).absolute()) for s in songs]) + "\n").encode())
        if not socket.waitForBytesWritten(wait_ms):
            return False
        socket.waitForReadyRead(wait_ms)  # its "ok" (a window busy longer queues them later)
        return True
    finally:
        socket.disconnectFromServer()


class SongInbox(QObject):
    """Listens on ``name`` for the songs of later launches (made by the holder of
    ``instance_lock`` only).

    Signals:
        received(paths): a launch's songs (maybe none), as a list of ``Path``.
    """

    received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(name)  # with the lock held, a socket there is a killed run's
        if not self.server.listen(name):
            logger.warning(
                "songs from later launches cannot be received: %s", self.server.errorString()
            )
        self.server.newConnection.connect(self._accept)
        self._lines: dict[QLocalSocket, bytes] = {}

    def _accept(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            self._lines[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():  # what came before the signal was connected
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._lines:  # answered already
            return
        self._lines[socket] += bytes(socket.readAll().data())
        line, newline, _ = self._lines[socket].partition(b"\n")
        if not newline:
            return
        del self._lines[socket]
        try:
            paths = [Path(text) for text in json.loads(line) if isinstance(text, str)]
        except (ValueError, TypeError):
            logger.warning("a later launch sent something that is not a list of songs")
            socket.disconnectFromServer()
            return
        logger.info("a later launch handed over %d song(s)", len(paths))
        self.received.emit(paths)
        socket.write(b"ok\n")
        socket.flush()
