"""One window per user: a second launch hands its songs to the open window and exits."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from stemgui.ui.single import SongInbox, hand_over, server_name
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


def test_with_no_window_open_the_launch_opens_one(tmp_path):
    assert not hand_over(server_name(str(tmp_path / "settings.conf")), [tmp_path / "a.wav"])


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


def test_main_exits_once_the_open_window_took_the_songs(monkeypatch, capsys, tmp_path):
    from stemgui.ui import app, single

    handed = []
    monkeypatch.setattr(single, "hand_over", lambda name, songs: handed.append(songs) or True)
    assert app.main([str(tmp_path / "a.wav")]) == 0
    assert handed == [[tmp_path / "a.wav"]]
    assert "stemgui is open already" in capsys.readouterr().out
    assert app._window is None  # no second window
