"""One window per user: a second launch hands its songs to the open window and exits."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtCore import QDir

from stemgui.ui.single import Answer, SongInbox, hand_over, instance_lock, server_name
from tests.ui.conftest import TIMEOUT_MS


def _launch(qtbot, name: str, songs: list[Path]) -> str:
    """``hand_over`` from another process, as a second launch does, while this one's event
    loop answers (a thread would hold the interpreter in Qt's blocking waits); its answer."""
    launch = _start_launch(name, songs)
    qtbot.waitUntil(lambda: launch.poll() is not None, timeout=TIMEOUT_MS)
    return _answer(launch)


def _start_launch(name: str, songs: list[Path]) -> subprocess.Popen:
    code = (
        "import sys; from pathlib import Path; from PySide6.QtCore import QCoreApplication; "
        "from stemgui.ui.single import hand_over; app = QCoreApplication([]); "
        "print(hand_over(sys.argv[1], [Path(a) for a in sys.argv[2:]]).value)"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, name, *map(str, songs)], stdout=subprocess.PIPE, text=True
    )


def _answer(launch: subprocess.Popen) -> str:
    out, _ = launch.communicate()
    assert launch.returncode == 0
    return out.strip()


def test_a_second_launch_hands_its_songs_to_the_open_window(qtbot, tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    inbox = SongInbox(name)
    received = []
    inbox.received.connect(received.append)
    assert _launch(qtbot, name, [tmp_path / "a.wav", tmp_path / "b c.wav"]) == "taken"
    assert received == [[tmp_path / "a.wav", tmp_path / "b c.wav"]]
    assert _launch(qtbot, name, []) == "taken"  # no songs: the window comes up
    assert received[-1] == []
    inbox.server.close()


def test_a_hand_over_with_nobody_listening_gives_up(tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    running = instance_lock(name)
    assert running.tryLock(0)  # starting, or hung, and not listening
    try:
        assert hand_over(name, [tmp_path / "a.wav"], wait_ms=300) is Answer.SILENT
        mine = instance_lock(name)
        assert hand_over(name, [], wait_ms=300, lock=mine) is Answer.SILENT
        assert not mine.isLocked()
    finally:
        running.unlock()


def test_a_hand_over_to_an_app_that_closed_meanwhile_takes_its_lock(tmp_path):
    """It stopped listening to close, and is gone now: this launch opens the window."""
    name = server_name(str(tmp_path / "settings.conf"))
    mine = instance_lock(name)
    assert hand_over(name, [tmp_path / "a.wav"], wait_ms=300, lock=mine) is Answer.CLOSING
    assert mine.isLocked()
    mine.unlock()


def test_a_closing_inbox_tells_a_launch_so_and_takes_nothing(qtbot, tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    inbox = SongInbox(name)
    received = []
    inbox.received.connect(received.append)
    launch = _start_launch(name, [tmp_path / "a.wav"])
    # connected while the window closes: its event loop no longer runs to read the songs
    assert inbox.server.waitForNewConnection(TIMEOUT_MS)[0] or inbox._lines
    inbox.close()
    assert not inbox.server.isListening()
    qtbot.waitUntil(lambda: launch.poll() is not None, timeout=TIMEOUT_MS)
    assert _answer(launch) == "closing" and received == []


def test_a_launch_while_the_window_closes_is_told_and_its_songs_are_not_lost(
    qtbot, settings_store, tmp_path
):
    """The window took songs that came while it closed, after saving its queue (they went
    with it), and the launch said they "went to its queue"; now it is told the window closes,
    and opens its own once that one is gone (``test_main_never_opens_a_second_window``)."""
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow
    from tests.fakes import FakeOutput

    window = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(window)
    name = server_name(str(tmp_path / "settings.conf"))
    window.intake.listen(name)
    launch = _start_launch(name, [tmp_path / "a.wav"])
    assert window.intake.inbox.server.waitForNewConnection(TIMEOUT_MS)[0] or (
        window.intake.inbox._lines
    )
    window.close()
    qtbot.waitUntil(lambda: launch.poll() is not None, timeout=TIMEOUT_MS)
    assert _answer(launch) == "closing"
    assert window.controller.model.jobs == []


def test_one_window_holds_the_lock_and_a_killed_ones_is_taken_over(tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    first = instance_lock(name)
    assert first.tryLock(0)
    assert not instance_lock(name).tryLock(0)  # a second launch: hands over, opens nothing
    first.unlock()
    killed = (
        "import os, sys; from stemgui.ui.single import instance_lock; "
        "assert instance_lock(sys.argv[1]).tryLock(0); os._exit(0)"  # never unlocked
    )
    subprocess.run([sys.executable, "-c", killed, name], check=True)
    again = instance_lock(name)
    assert again.tryLock(0)
    again.unlock()


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe goes with its process")
def test_the_socket_a_killed_app_left_is_taken_over(qtbot, tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(Path(QDir.tempPath()) / name))  # bound and never removed: killed
    leftover.close()
    inbox = SongInbox(name)
    assert inbox.server.isListening()
    received = []
    inbox.received.connect(received.append)
    assert _launch(qtbot, name, [tmp_path / "a.wav"]) == "taken"
    assert received == [[tmp_path / "a.wav"]]
    inbox.server.close()


def test_the_window_queues_handed_songs_and_comes_up(qtbot, settings_store, songs):
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow
    from tests.fakes import FakeOutput

    window = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(window)
    window.showMinimized()
    window.take_songs(songs[:1])
    assert not window.isMinimized()
    assert [job.path for job in window.controller.model.jobs] == songs[:1]
    window.close()


class _Window:
    """Stands for ``MainWindow`` in ``main``: what it was given; the event loop ends at once."""

    made: ClassVar[list[_Window]] = []

    def __init__(self) -> None:
        self.intake = self
        self.listening: list[str] = []
        self.added: list[list[Path]] = []
        self.made.append(self)

    def listen(self, name: str) -> None:
        self.listening.append(name)

    def show(self) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        QTimer.singleShot(0, QApplication.instance().quit)

    def schedule_cleanup(self) -> None:
        pass

    def restore_session(self) -> list:
        return []

    def add_paths(self, paths: list[Path]) -> None:
        self.added.append(list(paths))


@pytest.mark.parametrize("answer", ["taken", "silent", "closing", "closed"])
def test_main_never_opens_a_second_window(qtbot, monkeypatch, capsys, tmp_path, answer):
    """Taken or silent: no window opens over the same session. Closing: once the window has
    closed (its lock released), this launch opens one with its songs."""
    from stemgui.ui import app, single
    from stemgui.ui import settings as S

    running = instance_lock(server_name(S.default_store().fileName()))
    assert running.tryLock(0)  # the window open already
    handed = []

    def hand_over(name, songs, lock):
        handed.append(songs)
        if answer == "closed":  # gone by the time it was found not listening
            running.unlock()
            assert lock.tryLock(0)
        elif answer == "closing":  # said so, and gone a moment later
            threading.Timer(0.3, running.unlock).start()
        return Answer.CLOSING if answer.startswith("clos") else Answer(answer)

    monkeypatch.setattr(single, "hand_over", hand_over)
    monkeypatch.setattr(_Window, "made", [])
    monkeypatch.setattr("stemgui.ui.window.MainWindow", _Window)
    try:
        code = app.main([str(tmp_path / "a.wav")])
    finally:
        running.unlock()
    assert handed == [[tmp_path / "a.wav"]]
    said = capsys.readouterr()
    if answer == "taken":
        assert code == 0 and _Window.made == []
        assert "stemgui is open already: the songs went to its queue" in said.out
    elif answer == "silent":  # busy past the wait, or hung: still no second window
        assert code == 1 and _Window.made == []
        assert "stemgui is open already but does not answer" in said.err
    else:
        (window,) = _Window.made
        assert code == 0 and window.added == [[tmp_path / "a.wav"]] and window.listening
        waited = "stemgui is closing: a new window opens with the songs once it has"
        assert (waited in said.out) == (answer == "closing")


def test_a_lock_that_cannot_be_made_opens_the_window_all_the_same(
    qtbot, monkeypatch, capsys, tmp_path
):
    """A temporary folder that is gone (a stale TMPDIR) or read-only: the lock could not be
    taken, taken for another window's, and after 10 s of asking nobody the app said 'stemgui
    is open already but does not answer' and never opened."""
    from stemgui.ui import app, single

    monkeypatch.setenv("TMPDIR", str(tmp_path / "gone"))
    monkeypatch.setattr(single, "hand_over", lambda *args, **kwargs: pytest.fail("asked"))
    monkeypatch.setattr(_Window, "made", [])
    monkeypatch.setattr("stemgui.ui.window.MainWindow", _Window)
    assert app.main([str(tmp_path / "a.wav")]) == 0
    (window,) = _Window.made
    assert window.added == [[tmp_path / "a.wav"]]
    said = capsys.readouterr().err
    assert f"its lock file cannot be made in {tmp_path / 'gone'}" in said
