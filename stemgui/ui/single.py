"""One window per user: a second ``stemgui`` hands its songs to the one running and exits.

Two windows shared one saved session (the last to close wrote it: the other's queue was lost),
one stem cache and one model folder. Songs opened from a file manager ("Open with stemgui",
one launch per file) now all join the first window's queue, which comes to the front.

The first app holds a ``QLockFile`` for its whole run (Qt writes its process, host and
application there, and takes over the lock of a process that died) and listens on a
``QLocalServer`` (a socket file on Linux and macOS, a named pipe on Windows), both named after
the settings file, so a test or a portable install with its own settings has its own. A later
launch that finds the lock taken connects (waiting while the first one still builds its
window), sends one line, the JSON list of its songs' absolute paths, and reads the answer
(``Answer``): "ok", the songs are queued, and it exits; "closing", the window is closing and
takes no more songs (its queue is being saved for the next start): it waits for the lock, then
opens a window of its own with them. It never opens a second window while the first one runs,
even when that one is too busy to answer (it may queue them later).

A closing window stops listening first (``SongInbox.close``, at the start of its
``closeEvent``). It used to take the songs that came while it closed, after saving its queue,
so that they were lost while the launch said they "went to its queue".
"""

from __future__ import annotations

import enum
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
CLOSE_WAIT_MS = 60_000  # a closing window finishing its exports and storing its stems
TAKEN, CLOSING = b"ok", b"closing"  # the answers, each on a line


class Answer(enum.Enum):
    """What became of the songs a launch handed over (``hand_over``)."""

    TAKEN = "taken"  # queued in the running window
    CLOSING = "closing"  # refused: the window is closing (or has closed); they were not read
    SILENT = "silent"  # no answer in time: a window that busy may still queue them later


def server_name(settings_file: str) -> str:
    """The name the app with ``settings_file`` (``QSettings.fileName()``) listens on."""
    return "stemgui-" + hashlib.sha1(settings_file.encode()).hexdigest()[:16]


def instance_lock(name: str) -> QLockFile:
    """The lock the first app of ``name`` holds (in the user's temporary folder)."""
    lock = QLockFile(str(Path(QDir.tempPath()) / f"{name}.lock"))
    lock.setStaleLockTime(0)  # stale only once its process is gone, however long that runs
    return lock


def hand_over(
    name: str, songs: Sequence[Path], wait_ms: int = WAIT_MS, lock: QLockFile | None = None
) -> Answer:
    """Send ``songs`` (none: just bring the window up) to the app listening on ``name``, trying
    for up to ``wait_ms`` (it may be starting, not listening yet); what became of them.

    ``lock``, this launch's ``instance_lock``, is tried while nobody listens: an app that
    stopped listening to close, and has ended since, leaves it free. Then the answer is
    ``CLOSING`` and this launch holds the lock (``lock.isLocked()``).
    """
    line = (json.dumps([str(Path(s).absolute()) for s in songs]) + "\n").encode()
    deadline = time.monotonic() + wait_ms / 1000
    while True:
        answer = _ask(name, line, deadline)
        if answer is not None:
            return answer
        if lock is not None and lock.tryLock(0):
            return Answer.CLOSING
        if time.monotonic() >= deadline:
            return Answer.SILENT
        time.sleep(0.1)


def _ask(name: str, line: bytes, deadline: float) -> Answer | None:
    """One connection: the app's answer, ``SILENT`` when it read nothing back by ``deadline``
    (never sent twice: the app may still take them), None when nobody listens or the
    connection dropped unanswered (a server closed with the line unread: worth another try)."""

    def left_ms() -> int:
        return max(0, int((deadline - time.monotonic()) * 1000))

    socket = QLocalSocket()
    socket.connectToServer(name)
    try:
        if not socket.waitForConnected(left_ms()):
            return None
        socket.write(line)
        reply = b""
        while b"\n" not in reply:
            if socket.bytesAvailable() or socket.waitForReadyRead(min(left_ms(), 100)):
                reply += bytes(socket.readAll().data())
            elif socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                return None  # dropped unanswered
            elif not left_ms():
                return Answer.SILENT
        answer = reply.partition(b"\n")[0]
        return Answer.CLOSING if answer == CLOSING else Answer.TAKEN
    finally:
        socket.disconnectFromServer()


def wait_for_lock(lock: QLockFile, wait_ms: int = CLOSE_WAIT_MS) -> bool:
    """Take ``lock`` once the app holding it ends, waiting up to ``wait_ms``; True: taken."""
    deadline = time.monotonic() + wait_ms / 1000
    while not lock.tryLock(0):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


class SongInbox(QObject):
    """Listens on ``name`` for the songs of later launches (made by the holder of
    ``instance_lock`` only) until ``close``.

    Signals:
        received(paths): a launch's songs (maybe none), as a list of ``Path``.
    """

    received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.closing = False
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(name)  # with the lock held, a socket there is a killed run's
        if not self.server.listen(name):
            logger.warning(
                "songs from later launches cannot be received: %s", self.server.errorString()
            )
        self.server.newConnection.connect(self._accept)
        self._lines: dict[QLocalSocket, bytes] = {}

    def close(self) -> None:
        """Stop listening, the window closing: the launches connected now are answered
        "closing" (their songs unread, ``received`` never says them) and later ones find
        nobody. Works without the event loop, which a closing window no longer runs."""
        if self.closing:
            return
        self.closing = True
        for _ in range(100):  # connected, not yet seen by the event loop (accepted: _accept)
            if not self.server.isListening() or self.server.waitForNewConnection(0)[1]:
                break
        for socket in list(self._lines):
            self._answer(socket, CLOSING)
        self.server.close()

    def _accept(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            self._lines[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if self.closing:
                self._answer(socket, CLOSING)
            elif socket.bytesAvailable():  # what came before the signal was connected
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._lines:  # answered already
            return
        if self.closing:
            self._answer(socket, CLOSING)
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
        self._answer(socket, TAKEN)

    def _answer(self, socket: QLocalSocket, answer: bytes) -> None:
        self._lines.pop(socket, None)
        if answer == CLOSING:
            logger.info("a later launch was told the window is closing")
        socket.write(answer + b"\n")
        socket.flush()
        if answer == CLOSING:  # the event loop may never run again to send it
            socket.waitForBytesWritten(1000)
