"""The main window: a failed song said in words, the folders and the log opened, geometry,
zoom, the status bar, the shortcuts, and what runs without torch or a display."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtWidgets import QPushButton

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.fresh_window import fresh_process_says


def test_corrupt_song_shows_its_error_and_the_next_one_separates(
    qtbot, window, songs, corrupt_song
):
    window.add_paths([corrupt_song, songs[0]])
    bad, good = window.controller.model.jobs
    qtbot.waitUntil(lambda: good.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert bad.state is JobState.FAILED
    assert "broken.wav" in window.message
    assert window.banner.isVisibleTo(window)  # the queue moving on does not hide it
    assert window.banner.text() == f"broken.wav: {bad.reason}"  # the name once, not the path
    assert str(corrupt_song) not in bad.reason and bad.reason
    assert window.shown_job is good
    assert "Remove" in [b.text() for b in window.banner.findChildren(QPushButton)]
    window.select(bad)  # its page says why, over the song loaded (tests/ui/test_failed_page)
    assert not window.banner.isVisibleTo(window)  # said once, there
    assert window.shown_job is good and window.player.loaded
    # its name and what to do; it was the first-run "Drop songs or folders here", untitled
    assert window.song_title.text() == "broken  (failed)"
    assert window.pages.currentWidget() is window.failed_page
    assert "This song was not separated" in window.failed_page.heading.text()
    window.select(good)  # the user moves on
    assert window.shown_job is good and window.pages.currentIndex() == 1
    window.select(bad)
    window.failed_page.remove_button.click()
    assert window.controller.model.jobs == [good]
    assert window.shown_job is good and window.pages.currentIndex() == 1
    assert not window.banner.isVisibleTo(window)


def test_a_failed_song_s_page_goes_with_it(qtbot, window, songs, corrupt_song):
    """Removed, or left for a waiting song, a failed song's name and "not separated" stayed."""
    (bad,) = window.add_paths([corrupt_song])
    qtbot.waitUntil(lambda: bad.state is JobState.FAILED, timeout=TIMEOUT_MS)
    window.controller.model.set_hold("held")  # the next song waits
    (waiting,) = window.add_paths(songs[:1])
    window.select(waiting)
    window.select(bad)
    assert window.pages.currentWidget() is window.failed_page
    window.select(waiting)
    assert "Drop songs" in window.hint.text() and window.song_title.text() == ""
    window.select(bad)
    window.remove_job(bad)
    assert window.controller.model.jobs == [waiting]
    assert "Drop songs" in window.hint.text() and window.song_title.text() == ""


def test_settings_are_typed_and_survive_garbage(settings_store):
    settings = S.Settings(settings_store)
    assert settings.get(S.QUALITY) == "balanced"
    settings.set(S.QUALITY, "best")
    assert settings.quality() == S.QUALITY_PRESETS["best"]
    with pytest.raises(ValueError):
        settings.set(S.QUALITY, "ultra")
    settings_store.setValue(S.MP3_BITRATE.key, "loud")
    assert settings.get(S.MP3_BITRATE) == 320
    settings_store.setValue(S.MASTER_DB.key, "-6.5")
    assert settings.get(S.MASTER_DB) == -6.5
    settings.reset()
    assert settings.get(S.QUALITY) == "balanced"


def test_window_module_does_not_import_torch():
    said = fresh_process_says(
        "import stemgui.ui.app;"
        "w = MainWindow(probe=False); w.show(); app.processEvents(); w.close();"
        "print('torch' in sys.modules)"
    )
    assert said == "False"


def test_device_in_use_is_in_the_status_bar(qtbot, window, songs):
    """Says "Separating on" while a song is separated; "Device" with nothing running (it said
    "Separating on: CPU" with nothing in the queue)."""
    assert window.device_label.text() == "Device: —"  # no probe: not known yet
    said = []
    window.controller.job_progress.connect(lambda _job: said.append(window.device_label.text()))
    (job,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert said and set(said) == {"Separating on: CPU"}
    assert window.device_label.text() == "Device: CPU"
    window.model_status.device_chosen("Automatic")  # the Device menu, nothing running
    assert window.device_label.text() == "Device: Automatic"


def test_show_folder_of_a_song_whose_folder_is_gone_says_so(window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    album = tmp_path / "album"
    album.mkdir()
    (job,) = window.controller.model.add([album / "gone.wav"])
    window.reveal(job)
    assert [url.toLocalFile() for url in opened] == [str(album)]
    album.rmdir()  # deleted with its folder while it waited
    window.reveal(job)
    assert len(opened) == 1
    assert window.statusBar().currentMessage() == (
        f"The folder {album} is not there any more: moved, deleted, or on a drive that is not "
        "connected."
    )


def test_show_folder_of_a_song_whose_folder_name_is_not_utf8_opens_it(
    window, tmp_path, monkeypatch
):
    """A Latin-1 name (an old archive's, on Linux): its URL dropped the byte, and the file
    manager was asked for a folder that is not there (nothing opened, without a word)."""
    from PySide6.QtGui import QDesktopServices

    from stemgui.ui.song_intake import local_paths

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    album = tmp_path / os.fsdecode(b"caf\xe9")
    album.mkdir()
    (job,) = window.controller.model.add([album / "a.wav"])
    window.reveal(job)
    assert local_paths(opened) == [album]


def test_help_opens_the_log_folder(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window.open_log_folder()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "logs")]
    assert (tmp_path / "logs").is_dir()
    # a file in its place: the log file could not be written either; said, not raised
    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs" / "file"))
    (tmp_path / "logs" / "file").write_text("")
    window.open_log_folder()
    assert len(opened) == 1
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(
            f"The log folder {tmp_path / 'logs' / 'file'} cannot be made (File exists): no log file"
        )
    )


def test_geometry_is_kept_apart_from_the_settings(qtbot, settings_store):
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.resize(790, 520)
    win.show()
    win.close()
    assert settings_store.value("window/geometry") is not None
    S.Settings(settings_store).reset()
    again = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (790, 520)
    again.close()


def test_zoom_keeps_the_frame_under_the_pointer():
    from stemgui.ui.timeline import Timeline

    timeline = Timeline()
    timeline.reset(10_000, 1000)
    timeline.zoom(0.5, around=2_000)
    assert timeline.view == (1_000, 6_000)
    timeline.scroll(-5_000)
    assert timeline.view == (0, 5_000)
    timeline.zoom(4.0, around=0)
    assert timeline.view == (0, 10_000)


def test_zooming_in_at_the_closest_leaves_the_view_where_it_is():
    """At the closest zoom (256 frames), each further notch of the wheel moved the view a fifth
    of its width (51 frames, 140 pixels) away from the pointer: the view's width was held at 256
    frames, but its start placed for a narrower one."""
    from stemgui.ui.timeline import Timeline

    timeline = Timeline()
    timeline.reset(100_000, 44100)
    timeline.set_view(1_000, 1_256)
    timeline.zoom(0.8, around=1_256)  # the pointer at the right edge
    assert timeline.view == (1_000, 1_256)  # was (1_051, 1_307)
    timeline.zoom(0.5, around=1_064)  # Ctrl++ with the playhead a quarter in
    assert timeline.view == (1_000, 1_256)


def test_a_bug_in_a_slot_is_logged_and_shown(qtbot, window, monkeypatch, caplog):
    """Said as every unexpected error is, whose fault and where the log is: it said "Something
    went wrong (…). The details are in the log file", naming no way to the file."""
    import stemgui.ui.app as app_module

    monkeypatch.setattr(app_module, "_window", window)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as error:
        app_module.report_uncaught(ZeroDivisionError, error, error.__traceback__)
    assert window.message == (
        "Unexpected error (ZeroDivisionError: division by zero), a fault in stemgui. "
        "Details are in the log file (Help ▸ Open log folder)."
    )
    assert any(r.levelname == "CRITICAL" and r.exc_info for r in caplog.records)


def test_without_a_display_the_app_says_to_use_separate_instead_of_aborting(monkeypatch, capsys):
    """Qt aborted the process (SIGABRT and a page about plugins) on a server or over ssh."""

    from stemgui.ui import app

    monkeypatch.setattr(sys, "platform", "linux")
    for variable in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    assert app.main(["song.mp3"]) == 2
    assert "python -m stemgui separate" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        app.main(["--help"])
    assert caught.value.code == 0
    assert "stemgui-separate --help" in capsys.readouterr().out


def test_help_lists_every_shortcut_from_the_actions_themselves(window):
    from stemgui.ui.shortcuts import FOCUS, MOUSE, ShortcutsDialog, shortcut_rows

    rows = dict(shortcut_rows([window, window.queue]))
    assert rows["Space"] == "Play / pause"
    assert rows["Ctrl+Shift+E"] == "Export all separated songs"
    assert rows["Del, Backspace"] == "Remove song"
    assert rows["Ctrl+Up"] == "Move song up"
    assert rows["1 … 9"] == "Mute or unmute the stem with that number on its row"
    assert rows["Ctrl+1 … Ctrl+9"] == "Solo or unsolo the stem with that number on its row"
    assert rows["F1"] == "Keyboard and mouse"
    assert not any("stem 3" in what for what in rows.values())  # folded into one line
    keyed = [a for w in (window, window.queue) for a in w.actions() if not a.shortcut().isEmpty()]
    # every action with keys: the 18 numbered stem keys in 2 lines, the 16 cue keys in 2
    assert len(rows) == len(keyed) - 30
    dialog = ShortcutsDialog([window, window.queue], window)
    assert dialog.rows()[-len(MOUSE) :] == list(MOUSE)
    assert dialog.rows()[-len(MOUSE) - len(FOCUS) : -len(MOUSE)] == list(FOCUS)
    assert rows["Ctrl+R"] == "Retry song"
    assert ("A", "Solo the original mix (A/B)") in dialog.rows()


def test_the_song_on_screen_is_marked_in_the_queue_when_a_waiting_one_is_selected(
    qtbot, window, songs
):
    """Selecting a waiting song (to move or cancel it) leaves the song playing on screen: a bar
    at the left of its row says which it is."""
    first, second = window.add_paths(songs[:2])
    qtbot.waitUntil(lambda: second.state is JobState.DONE, timeout=TIMEOUT_MS)
    model, view = window.controller.model, window.queue.view

    def marked(job):  # the bar's colour at the row's left edge, where nothing else is drawn
        index = model.index(model.row_of(job))
        rect = view.visualRect(index)
        colour = view.viewport().grab().toImage().pixelColor(rect.x() + 2, rect.center().y())
        palette = view.palette()
        selected = view.selectionModel().isSelected(index)
        return colour == (palette.highlightedText() if selected else palette.highlight()).color()

    assert window.shown_job is first and marked(first) and not marked(second)
    window.select(second)
    assert marked(second) and not marked(first)
    window.show_job(None)
    assert not marked(second)
