"""One window per user: a second ``stemgui`` hands its songs to the one running and exits.

Two windows shared one saved session (the last to close wrote it: the other's queue was lost),
one stem cache and one model folder. Songs opened from a file manager ("Open with stemgui",
one launch per file) now all join the first window's queue, which comes to the front.

The running app listens on a ``QLocalServer`` (a socket file on Linux and macOS, a named pipe on
Windows) named after the settings file, so a test or a portable install with its own settings
has its own. A launch sends one line, the JSON list of its songs' absolute paths, and waits for
"ok". A server whose app is gone (killed) is noticed by the failed connection and replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

WAIT_MS = 5000  # a running window answers in milliseconds; a hung one is not waited for longer


def server_name(settings_file: str) -> str:
    """The name the app with ``settings_file`` (``QSettings.fileName()``) listens on."""
    return "stemgui-" + hashlib.sha1(settings_file.encode()).hexdigest()[:16]


def hand_over(name: str, songs: Sequence[Path], wait_ms: int = WAIT_MS) -> bool:
    """Send ``songs`` (none: just bring the window up) to the app listening on ``name``; True
    when it took them, False when none runs (or it does not answer)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(wait_ms):
        return False
    try:
        line = json.dumps([str(Path(song).absolute()) for song in songs]) + "\n"
        socket.write(line.encode())
        if not socket.waitForBytesWritten(wait_ms):
            return False
        answer = b""
        while b"\n" not in answer and socket.waitForReadyRead(wait_ms):
            answer += bytes(socket.readAll().data())
        return answer.startswith(b"ok")
    finally:
        socket.disconnectFromServer()


class SongInbox(QObject):
    """Listens on ``name`` for the songs of later launches.

    Signals:
        received(paths): a launch's songs (maybe none), as a list of ``Path``.
    """

    received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            # Still there from a run that was killed (nothing answers on it): take it over.
            QLocalServer.removeServer(name)
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
