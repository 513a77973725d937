"""One window per user: a second launch hands its songs to the open window and exits."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from stemgui.ui.single import SongInbox, hand_over, instance_lock, server_name
from tests.ui.conftest import TIMEOUT_MS


def _launch(qtbot, name: str, songs: list[Path]) -> bool:
    """``hand_over`` from another process, as a second launch does, while this one's event
    loop answers (a thread would hold the interpreter in Qt's blocking waits)."""
    code = (
        "import sys; from pathlib import Path; from PySide6.QtCore import QCoreApplication; "
        "from stemgui.ui.single import hand_over; app = QCoreApplication([]); "
        "sys.exit(0 if hand_over(sys.argv[1], [Path(a) for a in sys.argv[2:]]) else 3)"
    )
    launch = subprocess.Popen([sys.executable, "-c", code, name, *map(str, songs)])
    qtbot.waitUntil(lambda: launch.poll() is not None, timeout=TIMEOUT_MS)
    return launch.returncode == 0


def test_a_second_launch_hands_its_songs_to_the_open_window(qtbot, tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    inbox = SongInbox(name)
    received = []
    inbox.received.connect(received.append)
    assert _launch(qtbot, name, [tmp_path / "a.wav", tmp_path / "b c.wav"])
    assert received == [[tmp_path / "a.wav", tmp_path / "b c.wav"]]
    assert _launch(qtbot, name, [])  # no songs: the window comes up
    assert received[-1] == []
    inbox.server.close()


def test_a_hand_over_with_nobody_listening_gives_up(tmp_path):
    name = server_name(str(tmp_path / "settings.conf"))
    assert not hand_over(name, [tmp_path / "a.wav"], wait_ms=300)


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
    assert _launch(qtbot, name, [tmp_path / "a.wav"])
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


@pytest.mark.parametrize("answers", [True, False])
def test_main_never_opens_a_second_window(monkeypatch, capsys, tmp_path, answers):
    from stemgui.ui import app, single
    from stemgui.ui import settings as S

    running = instance_lock(server_name(S.default_store().fileName()))
    assert running.tryLock(0)  # the window open already
    handed = []
    monkeypatch.setattr(single, "hand_over", lambda name, songs: handed.append(songs) or answers)
    made = []
    monkeypatch.setattr("stemgui.ui.window.MainWindow", lambda *a: made.append(a))
    try:
        assert app.main([str(tmp_path / "a.wav")]) == (0 if answers else 1)
    finally:
        running.unlock()
    assert handed == [[tmp_path / "a.wav"]] and made == []
    said = capsys.readouterr()
    if answers:
        assert "stemgui is open already: the songs went to its queue" in said.out
    else:  # busy past the wait, or hung: still no second window over the same session
        assert "stemgui is open already but does not answer" in said.err
