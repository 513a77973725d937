"""Songs into the window: by drop, the demo button and the command line; what is not a song
is left out, and said."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from urllib.parse import quote_from_bytes

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from tests.pipes import released_after
from tests.ui.conftest import TIMEOUT_MS, write_song


def _drop(win, paths):
    mime = QMimeData()  # kept referenced until the events are delivered
    # as a file manager sends them: the name's bytes, percent-encoded
    mime.setUrls(
        [QUrl.fromEncoded(b"file://" + quote_from_bytes(os.fsencode(p)).encode()) for p in paths]
    )
    point = QPointF(win.width() / 2, win.height() / 2)
    enter = QDragEnterEvent(
        point.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(win, drop)
    return drop


def test_a_dropped_song_whose_name_is_not_utf8_is_queued_as_it_is(qtbot, window, tmp_path):
    """A Latin-1 name (an old archive's, on Linux) came out of the drop with U+FFFD for its
    byte: the song failed as 'does not exist'."""
    song = tmp_path / os.fsdecode(b"caf\xe9.wav")
    write_song(tmp_path / "cafe.wav").rename(song)
    _drop(window, [song])
    (job,) = window.controller.model.jobs
    assert job.path == song
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.DONE, job.error


def test_drop_of_a_folder_queues_its_songs_and_stem_rows_appear(qtbot, window, songs):
    drop = _drop(window, [songs[0].parent])
    assert drop.isAccepted()
    jobs = window.controller.model.jobs
    assert [j.path for j in jobs] == songs  # recursive, sorted
    qtbot.waitUntil(lambda: all(j.state is JobState.DONE for j in jobs), timeout=TIMEOUT_MS)
    assert window.shown_job is jobs[0]
    assert list(window.stems.rows) == ["drums", "bass", "other", "vocals"]
    assert window.stems.mix_row.solo is not None  # the original mix has its A/B controls
    assert window.stems.waveforms["vocals"].frames_ready == jobs[0].stemset.frames
    assert window.menu_bar.export_action.isEnabled()
    assert "tiny" in window.song_title.text()


def _drag_in(window, mime: QMimeData) -> QDragEnterEvent:
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    return enter


def test_drop_without_files_is_refused(window):
    mime = QMimeData()
    mime.setText("not a file")
    assert not _drag_in(window, mime).isAccepted()


def test_a_web_link_dragged_in_is_refused_with_the_reason(window):
    mime = QMimeData()
    mime.setUrls([QUrl("https://open.example.com/track/123")])
    assert not _drag_in(window, mime).isAccepted()
    assert window.statusBar().currentMessage().startswith("Only songs saved on this computer")


def test_the_demo_song_is_offered_where_songs_are_dropped_and_in_the_help_menu(
    qtbot, window, monkeypatch, tmp_path
):
    from stemgui.ui import song_intake
    from stemgui.ui.export_commands import export_folder_of

    assert window.pages.currentWidget() is window.empty and "Drop songs" in window.hint.text()
    assert window.demo_button.isVisibleTo(window)
    demo = song_intake.demo_song()
    assert demo is not None and demo.name == "demo.mp3"
    window.demo_button.click()
    assert [job.path for job in window.controller.model.jobs] == [demo]
    # "beside the song" is the user's music folder: the app's own may be read-only
    assert export_folder_of(demo).name == "stemgui"
    assert not export_folder_of(demo).is_relative_to(demo.parent.parent)
    assert export_folder_of(tmp_path / "a.wav") == tmp_path

    monkeypatch.setattr(song_intake, "demo_song", lambda: None)  # a damaged install
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "Try the &demo song").trigger()
    assert window.message.startswith("The demo song is missing from this installation (")


def test_songs_already_waiting_are_counted_when_added_again(window, songs):
    (first,) = window.add_paths(songs[:1])
    # selected at once: Cancel works while it decodes (it was selected when its stems began)
    assert window.selected_job() is first and window.queue.cancel_button.isEnabled()
    assert len(window.add_paths(songs[:2])) == 1  # the first one is in the queue already
    message = window.statusBar().currentMessage()
    assert message == "Added 1 song to the queue. 1 already waiting or separating."
    assert window.add_paths(songs[:2]) == []  # it said "Added 0 songs to the queue. 2 …"
    message = window.statusBar().currentMessage()
    assert message == "All 2 songs are already waiting or separating."
    assert window.add_paths(songs[:1]) == []
    assert window.statusBar().currentMessage() == "That song is already waiting or separating."


def test_a_song_asked_for_again_is_selected(window, songs):
    """A song given again while it waits (or is read back from the last session) is selected:
    it was said to be waiting, and another row stayed selected."""
    first, second = window.add_paths(songs[:2])
    assert window.selected_job() is first
    assert window.add_paths(songs[1:2]) == []
    assert window.selected_job() is second
    assert window.statusBar().currentMessage() == "That song is already waiting or separating."


def test_stems_exported_beside_each_song_are_not_queued_again(window, songs):
    """An album exported beside each song (the default folder and file names), dropped again,
    queued its stems as songs; stemgui-separate left them out, as the window does now, in a
    folder inside the album too, and a folder of its own chosen in the export dialog."""
    album = songs[0].parent
    for song in songs:
        stems = song.parent / "htdemucs" / song.stem
        stems.mkdir(parents=True)
        for stem in ("vocals.wav", "drums.flac"):
            shutil.copy(song, stems / stem)
    (album / "Exports").mkdir()
    shutil.copy(songs[0], album / "Exports" / "bass.wav")
    window.settings.set(S.EXPORT_FOLDER, str(album / "Exports"))
    window.settings.set(S.EXPORT_TEMPLATE, "{stem}.{ext}")
    assert [job.path for job in window.add_paths([album])] == songs
    # a folder holding stems alone was said to hold no audio files
    assert window.add_paths([songs[0].parent / "htdemucs"]) == []
    assert window.statusBar().currentMessage() == (
        f"Only stems exported earlier in {album / 'htdemucs'}: they are not queued as songs "
        "(open one by itself to separate it)."
    )


def test_the_folder_of_stems_exported_beside_a_song_is_not_queued(window, songs):
    """The model folder of an export beside each song (the default settings), or the song's
    folder in it, dropped: its stems were queued as songs, for the rule looked for the model
    folder inside the folder dropped. Songs in a folder named like a model are still songs."""
    stems = songs[0].parent / "htdemucs" / songs[0].stem
    stems.mkdir(parents=True)
    for stem in ("vocals.wav", "drums.flac"):
        shutil.copy(songs[0], stems / stem)
    for folder in (stems.parent, stems):
        assert window.add_paths([folder]) == []
        assert window.statusBar().currentMessage() == (
            f"Only stems exported earlier in {folder}: they are not queued as songs "
            "(open one by itself to separate it)."
        )
    mine = songs[0].parent.parent / "htdemucs" / "mine.wav"
    mine.parent.mkdir()
    shutil.copy(songs[0], mine)
    assert [job.path for job in window.add_paths([mine.parent])] == [mine]


def test_a_song_named_like_a_stem_alone_is_queued(window, songs):
    """A song named vocals.wav alone in its folder, dropped with its album, was left out as a
    stem exported beside a song ({model}/{track}/{stem}.{ext} from the album); the stems of an
    export sit together."""
    album = songs[0].parent
    alone = album / "live" / "encore" / "vocals.wav"
    alone.parent.mkdir(parents=True)
    shutil.copy(songs[0], alone)
    assert [job.path for job in window.add_paths([album])] == [songs[0], alone, songs[1]]


def test_a_folder_dropped_with_a_link_to_it_is_not_said_to_hold_only_stems(window, songs):
    """The window looked again into each folder whose songs were not queued from it, and took
    any audio file there for stems exported earlier: a link to the album, dropped with it,
    was said to hold "Only stems exported earlier"."""
    album = songs[0].parent
    link = album.parent / "link"
    link.symlink_to(album)
    assert [job.path for job in window.add_paths([album, link])] == songs
    assert window.statusBar().currentMessage() == "Added 2 songs to the queue."


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_in_a_folder_dropped_is_not_queued(window, songs, tmp_path):
    """A named pipe in a folder dropped was queued as a song, and the worker waited for ever
    on it, hashing it for the stem cache."""
    album = songs[0].parent
    (tmp_path / "pipes").mkdir()
    pipes = (album / "pipe.wav", tmp_path / "pipes" / "only.mp3")
    for pipe in pipes:
        os.mkfifo(pipe)
    with released_after(*pipes):
        assert [job.path for job in window.add_paths([album, tmp_path / "pipes"])] == songs
    assert window.statusBar().currentMessage() == (
        f"Added 2 songs to the queue. No audio or video files in {tmp_path / 'pipes'}."
    )


def test_command_line_songs_are_queued(qtbot, settings_store, songs, monkeypatch):
    from PySide6.QtWidgets import QApplication

    import stemgui.ui.app as app_module
    import stemgui.ui.settings as settings_module

    monkeypatch.setattr(settings_module, "default_store", lambda: settings_store)
    monkeypatch.setattr(app_module, "setup_logging", lambda *a, **k: None, raising=False)
    windows = []
    monkeypatch.setattr(QApplication, "exec", lambda *a: windows.append(app_module._window) or 0)
    assert app_module.main([str(songs[0]), str(songs[1].parent)]) == 0
    (win,) = windows
    assert [j.path for j in win.controller.model.jobs] == songs
    win.close()


def test_a_command_line_song_whose_name_is_not_utf8_opens_the_window(tmp_path):
    """Open with stemgui on a Latin-1 name (an old archive's, on Linux): PySide crashed on the
    argument (a segmentation fault) and no window opened."""
    song = write_song(tmp_path / "cafe.wav").rename(tmp_path / os.fsdecode(b"caf\xe9.wav"))
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from stemgui.ui import app\n"
        "def exec_(*args):\n"
        "    print(ascii([str(job.path) for job in app._window.controller.model.jobs]))\n"
        "    app._window.close()\n"
        "    return 0\n"
        "QApplication.exec = exec_\n"
        "sys.exit(app.main())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(song)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ascii([str(song)])


def test_a_song_the_system_refuses_to_look_at_fails_naming_it(qtbot, window, songs):
    """A path given that cannot be looked at (in a folder the user may not open, EACCES; a
    name too long for the disk) raised from ``Path.is_dir``: given on the command line, the
    app never opened; handed over by a later launch, 'Something went wrong'."""
    refused = songs[0].parent / f"{'a' * 300}.wav"
    first, second = window.add_paths([refused, songs[0]])
    assert first.path == refused
    qtbot.waitUntil(lambda: first.state.ended and second.state.ended, timeout=TIMEOUT_MS)
    assert first.state is JobState.FAILED and str(refused) in first.error
    assert second.state is JobState.DONE
