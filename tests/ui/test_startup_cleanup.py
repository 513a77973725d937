"""At start the app removes what a killed run left: stale temporary export files (in the export
folder the settings remember and in the drag folder) and the scratch stems of dead processes;
and the stems dragged out a week ago. Fresh temporary files, the folders of live processes and
the stems dragged out since stay."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer

from stemgui.audio.atomic import process_alive
from stemgui.ui import scratch, startup
from stemgui.ui import settings as S
from tests.fakes import FakeOutput

HOUR = 3600.0
DAY = 24 * HOUR


def _part(folder: Path, name: str, age: float) -> Path:
    """A temporary export file (as ``stemgui.audio.atomic`` names them) ``age`` seconds old."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.0a1b2c3d.stemgui-part"
    path.write_bytes(b"RIFF half a stem")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def _dropped(folder: Path, name: str, age: float) -> Path:
    """A stem dragged out ``age`` seconds ago."""
    path = folder / name
    path.write_bytes(b"RIFF a dropped stem")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class Leftovers:
    """What a killed run leaves, and what a live one has, in tmp folders the app is pointed at."""

    def __init__(self, root: Path) -> None:
        self.export = root / "export"
        self.drag = root / "cache" / "drag"
        self.scratch = root / "cache" / "stems"
        self.stale = _part(self.export / "htdemucs" / "Song", "drums.wav", HOUR)
        self.stale_drag = _part(self.drag, "Song - vocals.wav", HOUR)
        self.old_drop = _dropped(self.drag, "Song - bass.wav", 7 * DAY + HOUR)
        self.drop = _dropped(self.drag, "Song - drums.wav", 7 * DAY - HOUR)
        self.fresh = _part(self.export / "htdemucs" / "Other", "bass.wav", 1.0)
        self.kept = self.export / "htdemucs" / "Song" / "drums.wav"
        self.kept.write_bytes(b"a finished stem")
        self.dead = self.scratch / f"run-{_dead_pid()}-1234abcd"
        self.live = self.scratch / f"run-{os.getpid()}-5678ef01"
        self.other = self.scratch / "notes"  # not a run folder: never touched
        for folder in (self.dead, self.live, self.other):
            folder.mkdir(parents=True)
            (folder / "stems-1.f32").write_bytes(bytes(64))

    def check(self) -> None:
        assert not self.stale.exists() and not self.stale_drag.exists()
        assert not self.dead.exists() and not self.old_drop.exists()
        assert self.fresh.exists() and self.kept.exists() and self.drop.exists()
        assert self.live.exists() and self.other.exists()


@pytest.fixture
def leftovers(tmp_path, monkeypatch):
    import stemgui.ui.drag_folder as drag_folder

    made = Leftovers(tmp_path)
    monkeypatch.setattr(drag_folder, "drag_folder", lambda: made.drag)
    # the spools of dead runs are looked for there: not those other tests' runs left in /tmp
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(scratch, "scratch_root", lambda: made.scratch)
    return made


def test_clean_leftovers_removes_only_stale_and_dead(leftovers):
    """The stems dragged out were never removed: they piled up in the user cache, gigabytes
    of 32-bit float wav, outside the stem cache's limit. A week keeps them for a DAW that plays
    them where they lie while its project is worked on."""
    removed = startup.clean_leftovers(
        [leftovers.export, leftovers.drag], leftovers.scratch, dragged=leftovers.drag
    )
    assert sorted(removed) == sorted(
        [leftovers.stale, leftovers.stale_drag, leftovers.dead, leftovers.old_drop]
    )
    leftovers.check()
    assert startup.clean_leftovers([leftovers.export / "gone"], leftovers.scratch / "gone") == []


def test_an_export_folder_that_cannot_be_looked_at_leaves_the_rest_cleaned(leftovers):
    """The remembered export folder in a folder the user may no longer open (EACCES), or a
    name too long for the disk: ``Path.is_dir`` raised, the cleanup ended there, and the
    dead runs' scratch stems (gigabytes for long songs) stayed for good."""
    refused = leftovers.export / ("a" * 300)
    removed = startup.clean_leftovers([refused, leftovers.drag], leftovers.scratch)
    assert sorted(removed) == sorted([leftovers.stale_drag, leftovers.dead])


def test_an_export_folder_typed_from_home_is_cleaned_and_one_beside_each_song_is_not(
    qtbot, settings_store, tmp_path, monkeypatch, leftovers
):
    """The folder is remembered as typed: "~/Exports" was looked for as a folder named "~" in
    the app's working folder (its leftovers stayed), and "stems" (beside each song) as the
    working folder's "stems"."""
    from tests.ui.song_window import null_window

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    typed = _part(tmp_path / "home" / "Exports" / "m" / "Song", "vocals.wav", HOUR)
    beside = _part(tmp_path / "stems" / "m" / "Song", "vocals.wav", HOUR)
    win = null_window(qtbot, settings_store, [])
    for folder in ("~/Exports", "stems"):
        win.settings.set(S.EXPORT_FOLDER, folder)
        win.start_cleanup().join()
    assert not typed.exists() and beside.exists()
    win.close()


def test_process_alive():
    assert process_alive(os.getpid())
    assert not process_alive(_dead_pid())
    assert not process_alive(0)


def test_the_app_cleans_up_after_its_window_is_shown(qtbot, tmp_path, monkeypatch, leftovers):
    """``app.main`` opens the window, then the cleanup runs on a thread."""
    import stemgui.ui.window as window_module
    from stemgui.logs import reset_logging
    from stemgui.ui import app

    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    S.Settings(store).set(S.EXPORT_FOLDER, str(leftovers.export))
    store.sync()
    windows, threads = [], []
    real_start = startup.start_cleanup

    def start_cleanup(*args, **kwargs):
        assert windows[0].isVisible()  # after the window is up
        threads.append(real_start(*args, **kwargs))
        return threads[-1]

    monkeypatch.setattr(startup, "start_cleanup", start_cleanup)

    real_window = window_module.MainWindow

    def make_window():
        settings = S.Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        win = real_window(settings, output_factory=FakeOutput, probe=False)
        qtbot.addWidget(win)
        windows.append(win)
        return win

    monkeypatch.setattr(window_module, "MainWindow", make_window)

    from PySide6.QtWidgets import QApplication

    app_instance = QApplication.instance()

    def stop_when_done():
        if threads and not threads[0].is_alive():
            poll.stop()
            app_instance.exit(0)  # (quit would close the window)

    # Timers of this test, stopped when it ends: a QTimer.singleShot(20 s, app.exit) outlived it
    # and fired in a later test, outside app.exec(): QCoreApplication.exit then left the main
    # thread's event loops ending at once for the rest of the run (every qtbot wait returned
    # without delivering the worker's signals: a later window's queue stood in "loading model").
    poll = QTimer(interval=10)
    poll.timeout.connect(stop_when_done)
    guard = QTimer(singleShot=True, interval=20_000)  # never hang the suite
    guard.timeout.connect(lambda: app_instance.exit(1))
    poll.start()
    guard.start()
    try:
        assert app.main([]) == 0
    finally:
        poll.stop()
        guard.stop()
        reset_logging()
    assert len(threads) == 1 and not threads[0].is_alive()
    assert windows[0].isVisible()  # the cleanup closes nothing
    leftovers.check()
    windows[0].close()
