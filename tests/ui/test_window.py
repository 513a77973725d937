"""The main window: songs in by drop, menu and command line; stems appear; errors in words."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote_from_bytes

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QPushButton

from stemgui import stemcache
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.pipes import released_after
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.song_window import model_window


@pytest.fixture
def window(qtbot, settings_store, tiny_model_file):
    win = model_window(qtbot, settings_store, tiny_model_file)
    yield win
    win.close()


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


def test_no_model_is_said_plainly_and_songs_wait_for_one(
    qtbot, settings_store, monkeypatch, songs, tiny_model_file, tmp_path
):
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: [])
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    (job,) = win.add_paths(songs[:1])  # before the worker has looked for models
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    assert win.menus.has_model() is False
    assert "No separation model" in win.banner.text()
    assert win.banner.isVisibleTo(win)
    labels = [a.text() for a in win.menus.model_menu.actions()]
    assert "No model installed yet" in labels and "Choose model file…" in labels
    assert job.state is JobState.WAITING
    assert job.status_text() == "waiting: no model yet (see Model ▸ Get models…)"
    bogus = tmp_path / "bogus.stemgui"
    bogus.write_bytes(b"not a model")
    win.menus.check_model_file(str(bogus))  # what Model > Choose model file... does
    qtbot.waitUntil(lambda: "bogus.stemgui" in win.banner.text(), timeout=TIMEOUT_MS)
    assert "export it again. The model in use stays; choose another file." in win.banner.text()
    assert win.settings.get(S.MODEL) == "" and job.state is JobState.WAITING  # not taken
    win.menus.check_model_file(str(tiny_model_file))
    qtbot.waitUntil(lambda: win.settings.get(S.MODEL) == str(tiny_model_file), timeout=5000)
    assert not win.banner.isVisibleTo(win)
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert job.hold == ""
    win.close()


def test_a_model_chosen_while_a_file_is_checked_is_not_replaced_by_it(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    """A big bag takes seconds to load: the user picked another model meanwhile, and the
    file's check, ending later, took the setting back without a word."""
    import shutil

    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    other = tmp_path / "other.stemgui"
    shutil.copy(tiny_model_file, other)
    checked = []
    win.menus.checked.connect(lambda path, error: checked.append(path))
    win.menus.check_model_file(str(tiny_model_file))
    win.menus.choose_model("stemgui-htdemucs-small")  # from the Model menu, at once
    win.menus.check_model_file(str(other))
    qtbot.waitUntil(lambda: checked == [str(other)], timeout=TIMEOUT_MS)
    qtbot.wait(300)  # the first check has ended too by now
    assert win.settings.get(S.MODEL) == str(other) and checked == [str(other)]
    win.menus.check_model_file(str(tiny_model_file))
    win.menus.choose_model("stemgui-htdemucs-small")
    qtbot.wait(500)
    assert win.settings.get(S.MODEL) == "stemgui-htdemucs-small"
    win.close()


def test_models_that_cannot_be_listed_are_said_so_not_as_none_installed(
    qtbot, settings_store, damaged_manifest, songs
):
    """A damaged bundled manifest: the banner said why for an instant, then 'No separation
    model is installed yet' over it, and the rows 'no model yet'."""
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    (job,) = win.add_paths(songs[:1])
    assert job.status_text() == "waiting: the models could not be listed (see the banner)"
    assert win.banner.text().startswith(
        f"The models could not be listed, so the songs wait: {damaged_manifest / 'manifest.json'}: "
        "model manifest is not readable JSON"
    )
    assert win.banner.text().endswith(
        "Reinstall stemgui, or choose a model file (Model ▸ Choose model file…)."
    )
    assert [b.text() for b in win.banner.buttons] == ["Get models…", "Choose model file…"]
    win.close()


def test_a_chosen_model_file_that_is_gone_points_to_the_installed_ones(
    qtbot, settings_store, monkeypatch, songs, tmp_path
):
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: ["bundled-model"])
    gone = tmp_path / "old-bundled-824b31fa.stemgui"  # replaced by an update, say
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(gone))
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    assert job.status_text() == "waiting: the chosen model is missing (see the Model menu)"
    assert win.banner.text() == (
        f"The chosen model “old-bundled” is missing ({gone}). "
        "Choose one in the Model menu (installed: bundled-model)."
    )
    win.close()


def test_a_chosen_model_file_that_cannot_be_looked_at_is_said_to_be_missing(
    qtbot, settings_store, monkeypatch, songs
):
    """A model file the system refuses to look at (a folder the user may no longer open,
    EACCES; a name too long for the disk) raised from ``Path.is_file`` while the window was
    made: the app never opened again."""
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: ["bundled-model"])
    refused = f"/{'a' * 300}/mine.stemgui"
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, refused)
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    assert job.status_text() == "waiting: the chosen model is missing (see the Model menu)"
    assert win.banner.text().startswith(f"The chosen model “mine” is missing ({refused}).")
    win.close()


def test_songs_waiting_for_a_model_file_that_is_gone_start_when_it_is_back(
    qtbot, settings_store, monkeypatch, songs, tiny_model_file, tmp_path
):
    import shutil

    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: [])  # none installed
    model = tmp_path / "mine.stemgui"
    shutil.copy(tiny_model_file, model)
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(model))
    model.rename(tmp_path / "away.stemgui")  # on a drive that is unplugged
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    (job,) = win.add_paths(songs[:1])
    qtbot.wait(100)
    assert job.status_text() == "waiting: the chosen model is missing (see the Model menu)"
    assert "“mine” is not available" in win.banner.text()  # the row and banner agree
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].text() == "mine (missing)"
    (tmp_path / "away.stemgui").rename(model)  # plugged in again
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert not win.banner.isVisibleTo(win) and not win.menus._watch.isActive()
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].text() == "mine"
    win.close()


def test_songs_wait_for_a_model_file_gone_during_the_session_and_start_when_it_is_back(
    qtbot, settings_store, monkeypatch, songs, tiny_model_file, tmp_path
):
    """The file was looked for again only if it was gone at the start: unplugged later, the
    songs added waited for it for good, plugged in again or not."""
    import shutil

    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: [])
    model = tmp_path / "mine.stemgui"
    shutil.copy(tiny_model_file, model)
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(model))
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    (first,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
    model.rename(tmp_path / "away.stemgui")  # the drive unplugged
    (job,) = win.add_paths(songs[1:])
    qtbot.wait(100)
    assert job.status_text() == "waiting: the chosen model is missing (see the Model menu)"
    due = win.menus._watch.remainingTime()
    qtbot.wait(300)
    win.menus.wait_reason()  # asked again (the queue asks often): the next look is not put off
    assert win.menus._watch.remainingTime() <= due - 200
    (tmp_path / "away.stemgui").rename(model)  # plugged in again
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert not win.banner.isVisibleTo(win) and not win.menus._watch.isActive()
    win.close()


@pytest.mark.parametrize("chosen", ["mine", ""])
def test_songs_waiting_for_a_model_of_the_store_start_once_its_folder_is_back(
    qtbot, settings_store, tiny_model_file, tmp_path, monkeypatch, chosen
):
    """The store listed without the chosen model (or any: none chosen), its folder moved away
    while the app ran: the songs waited for good, the store never listed again unless Get
    models… was opened."""
    import shutil

    from stemgui.separation.store import default_user_dir

    monkeypatch.setattr("stemgui.separation.store.default_bundled_dir", lambda: tmp_path / "none")
    store = default_user_dir()
    store.mkdir(parents=True)
    shutil.copy(tiny_model_file, store / "mine.stemgui")
    store.rename(tmp_path / "away")  # on a drive that is not mounted yet
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, chosen)
    settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    (job,) = win.add_paths([write_song(tmp_path / "a.wav")])
    qtbot.wait(2500)  # a look of the watch: nothing changed, nothing listed again
    assert job.state is JobState.WAITING and job.hold != ""
    (tmp_path / "away").rename(store)
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.DONE, job.error
    assert win.menus.store_models == ["mine"] and not win.menus._watch.isActive()
    assert not win.banner.isVisibleTo(win)
    win.close()


def _damaged_model_window(qtbot, settings_store, tiny_model_file, tmp_path):
    """A window whose chosen model file was damaged since it was chosen (cut short), three
    songs queued, and the banner's messages as said."""
    model = tmp_path / "mine.stemgui"
    model.write_bytes(tiny_model_file.read_bytes()[:500])
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(model))
    settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    said = []
    show = win.banner.show_message
    win.banner.show_message = lambda text, actions=(): (said.append(text), show(text, actions))
    paths = [write_song(tmp_path / f"{n}.wav", seed=n) for n in range(3)]
    jobs = win.add_paths(paths)
    qtbot.waitUntil(lambda: jobs[0].hold != "", timeout=TIMEOUT_MS)
    return win, model, jobs, said


def test_a_model_that_does_not_load_stops_the_queue_until_another_is_chosen(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    """Every song failed in turn with the model's message, and the banner offered to remove
    the last song."""
    win, model, jobs, said = _damaged_model_window(qtbot, settings_store, tiny_model_file, tmp_path)
    qtbot.wait(300)  # nothing else is tried
    assert [job.state for job in jobs] == [JobState.WAITING] * 3
    assert {job.status_text() for job in jobs} == {
        "waiting: the chosen model does not load (see the Model menu)"
    }
    assert all(job.error == "" for job in jobs) and win.controller.current is None
    (text,) = said  # once, about the model
    assert text.startswith(f"The chosen model “mine” does not load, so the songs wait: {model}: ")
    assert "truncated, damaged or another format" in text and "Choose another model" in text
    assert [b.text() for b in win.banner.buttons] == ["Get models…", "Choose model file…"]
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].text() == "mine (does not load)"
    win.menus.check_model_file(str(tiny_model_file))  # Model ▸ Choose model file…
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    assert [job.state for job in jobs] == [JobState.DONE] * 3, [job.error for job in jobs]
    assert not win.banner.isVisibleTo(win) and not win.menus._watch.isActive()
    win.close()


def test_a_song_added_while_the_model_does_not_load_says_why_again(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    """The banner closed, a song added waited with no word but its row's."""
    win, _, _, said = _damaged_model_window(qtbot, settings_store, tiny_model_file, tmp_path)
    win.banner.close_button.click()
    win.add_paths([write_song(tmp_path / "more.wav")])
    assert win.banner.isVisibleTo(win) and len(said) == 2
    assert said[1].startswith("The chosen model “mine” does not load, so the songs wait: ")
    win.close()


def test_a_model_file_mended_in_place_lets_the_queue_go_on(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    win, model, jobs, said = _damaged_model_window(qtbot, settings_store, tiny_model_file, tmp_path)
    model.write_bytes(tiny_model_file.read_bytes())  # exported again
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    assert [job.state for job in jobs] == [JobState.DONE] * 3, [job.error for job in jobs]
    assert len(said) == 1 and not win.banner.isVisibleTo(win)
    win.close()


@pytest.mark.parametrize("chosen", ["by file", "by name"])
@pytest.mark.parametrize("mend", ["put back", "replaced in place"])
def test_a_bag_whose_member_is_mended_lets_the_queue_go_on(
    qtbot, settings_store, tiny_model_file, tmp_path, mend, chosen
):
    """The watch looked at the bag's .yaml only: a member put back beside it (or rewritten
    whole) left the songs waiting for good. A bag of the model store chosen by its name was
    watched as a file named like it, which never changes."""
    from stemgui.separation.store import default_user_dir

    folder = tmp_path / "models" if chosen == "by file" else default_user_dir()
    folder.mkdir(parents=True)
    bag = folder / "bag.yaml"
    bag.write_text("models: [one, two]\n")
    (folder / "one.stemgui").write_bytes(tiny_model_file.read_bytes())
    two = folder / "two.stemgui"
    if mend == "replaced in place":
        two.write_bytes(tiny_model_file.read_bytes()[:500])  # cut short
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(bag) if chosen == "by file" else "bag")
    settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.store_models = ["bag", "one"]  # as the worker listed them
    jobs = win.add_paths([write_song(tmp_path / f"{n}.wav", seed=n) for n in range(2)])
    qtbot.waitUntil(lambda: jobs[0].hold != "", timeout=TIMEOUT_MS)
    assert win.banner.text().startswith("The chosen model “bag” does not load")
    qtbot.wait(2500)  # a look of the watch: nothing changed, nothing tried again
    assert [job.state for job in jobs] == [JobState.WAITING] * 2
    two.write_bytes(tiny_model_file.read_bytes())
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    assert [job.state for job in jobs] == [JobState.DONE] * 2, [job.error for job in jobs]
    assert not win.banner.isVisibleTo(win) and not win.menus._watch.isActive()
    win.close()


@pytest.mark.parametrize("gone", ["the store's folder", "a member of the default bag"])
def test_songs_wait_for_the_store_s_default_model_gone_during_the_session(
    qtbot, settings_store, tiny_model_file, tmp_path, monkeypatch, gone
):
    """No model chosen, the store's only model gone while the app ran (its folder deleted, or
    a member of its bag): every song failed in turn with 'No separation model is installed
    yet'; now they wait, the banner says why once, and they go on once it is back."""
    import shutil

    from stemgui.separation.hashing import file_sha256
    from stemgui.separation.official_models import OFFICIAL_MODELS, OfficialModel
    from stemgui.separation.store import default_user_dir
    from stemgui.ui.models import NO_MODEL_MESSAGE

    monkeypatch.setattr("stemgui.separation.store.default_bundled_dir", lambda: tmp_path / "none")
    store = default_user_dir()
    official = store / "official"
    official.mkdir(parents=True)
    files = tuple(f"{s}-{file_sha256(tiny_model_file)[:8]}.stemgui" for s in ("one", "two"))
    for name in files:
        shutil.copy(tiny_model_file, official / name)
    monkeypatch.setitem(OFFICIAL_MODELS, "tinybag", OfficialModel("tinybag", "test", "", files))
    settings = S.Settings(settings_store)
    settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models == ["tinybag"], timeout=TIMEOUT_MS)
    said = []
    show = win.banner.show_message
    win.banner.show_message = lambda text, actions=(): (said.append(text), show(text, actions))
    moved, away = (
        (store, tmp_path / "away")
        if gone == "the store's folder"
        else (
            official / files[1],
            tmp_path / "two",
        )
    )
    moved.rename(away)
    jobs = win.add_paths([write_song(tmp_path / f"{n}.wav", seed=n) for n in range(2)])
    qtbot.waitUntil(lambda: jobs[0].hold != "", timeout=TIMEOUT_MS)
    qtbot.wait(300)  # nothing else is tried
    assert [job.state for job in jobs] == [JobState.WAITING] * 2, [job.error for job in jobs]
    assert all(job.error == "" for job in jobs)
    assert said == [NO_MODEL_MESSAGE]  # not "the chosen model does not load": none is chosen
    assert jobs[0].hold == "no model yet (see Model ▸ Get models…)"
    assert [b.text() for b in win.banner.buttons] == ["Get models…", "Choose model file…"]
    away.rename(moved)
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    assert [job.state for job in jobs] == [JobState.DONE] * 2, [job.error for job in jobs]
    assert not win.banner.isVisibleTo(win)
    win.close()


def test_the_default_model_that_does_not_load_is_named_by_its_file(qtbot, settings_store, songs):
    """No model chosen: the store's default, which the banner called “”."""
    from stemgui.errors import ModelLoadError

    def factory(options):
        raise ModelLoadError("/models/bundled.stemgui", "its sha256 does not match")

    win = MainWindow(S.Settings(settings_store), factory, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.store_models = ["bundled"]  # as the worker listed them
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.hold != "", timeout=TIMEOUT_MS)
    assert win.banner.text().startswith(
        "The chosen model does not load, so the songs wait: /models/bundled.stemgui: its sha256 "
        "does not match. Choose another model"
    )
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].text() == "bundled (does not load)"
    win.close()


def test_a_model_that_loads_but_cannot_separate_is_said_so(qtbot, settings_store, songs):
    """A network failing inside its forward (ModelRunError) was marked "(does not load)" in the
    Model menu, the banner and the rows, though it loaded: it is said to not separate, and the
    songs are held for another model all the same."""
    win, jobs = _cannot_separate_window(qtbot, settings_store, songs)
    assert [job.state for job in jobs] == [JobState.WAITING] * 2
    assert {job.status_text() for job in jobs} == {
        "waiting: the chosen model cannot separate (see the Model menu)"
    }
    assert win.banner.text().startswith(
        "The chosen model “bundled” cannot separate, so the songs wait: the model's HTDemucs "
        "network cannot separate any song (x). Choose another model"  # once (test_model_banner)
    )
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].text() == "bundled (cannot separate)"
    win.close()


def test_a_song_held_for_a_model_that_cannot_separate_shows_no_stems(qtbot, settings_store, songs):
    """Its silent stems, made before the network failed, stayed on screen and in the player
    while it waited (and a long song's stems file in the scratch folder until the app
    closed): they go, and the song waits as one not begun."""
    win, jobs = _cannot_separate_window(qtbot, settings_store, songs)
    assert win.shown_job is jobs[0] and jobs[0].state is JobState.WAITING
    assert jobs[0].stemset is None and win.stems.stemset is None and not win.player.loaded
    assert win.pages.currentWidget() is win.empty
    assert "Its stems show here as it is separated" in win.hint.text()
    win.close()


def test_a_song_cancelled_while_its_model_fails_to_load_is_cancelled(
    qtbot, settings_store, songs, tiny_model_file
):
    import threading

    from stemgui.errors import ModelLoadError

    loading = threading.Event()
    release = threading.Event()

    def factory(options):
        loading.set()
        release.wait(TIMEOUT_MS / 1000)
        raise ModelLoadError(options.model, "damaged")

    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(tiny_model_file))
    win = MainWindow(settings, factory, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    first, second = win.add_paths(songs)
    qtbot.waitUntil(loading.is_set, timeout=TIMEOUT_MS)
    win.controller.cancel(first)
    release.set()
    qtbot.waitUntil(lambda: first.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
    assert first.error == ""
    # the second starts then, and its model fails in turn (the stem cache looked first)
    qtbot.waitUntil(lambda: second.hold != "", timeout=TIMEOUT_MS)
    assert second.state is JobState.WAITING
    assert second.hold == "the chosen model does not load (see the Model menu)"
    win.close()


@pytest.mark.parametrize("added", ["at the start", "later"])
def test_a_device_chosen_earlier_and_gone_separates_on_automatic(
    qtbot, settings_store, monkeypatch, songs, tiny_model_file, added
):
    """A song given at the start (``stemgui song.mp3``, Open with) ran before the worker had
    said which devices there are, on the one gone, and failed as an unexpected error."""
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "device_choices", lambda: [("auto", "Automatic"), ("cpu", "CPU")])
    settings = S.Settings(settings_store)
    settings.set(S.DEVICE, "cuda:1")  # an external GPU, unplugged since
    settings.set(S.MODEL, str(tiny_model_file))
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    if added == "at the start":
        (first,) = win.add_paths(songs[1:])
        qtbot.waitUntil(lambda: first.state.ended, timeout=TIMEOUT_MS)
        assert first.state is JobState.DONE, first.error
    qtbot.waitUntil(lambda: win.menus.devices is not None, timeout=TIMEOUT_MS)
    assert win.menus.options().device == "auto" and settings.get(S.DEVICE) == "cuda:1"
    labels = [a.text() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic", "CPU", "cuda:1 (missing: Automatic is used)"]
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.DONE, job.error  # each song failed as an unexpected error
    win.close()


def test_a_device_is_said_missing_only_once_the_devices_are_known(qtbot, settings_store):
    """Until the worker had said which devices there are (torch loading, seconds), the Device
    menu said that the GPU chosen was missing and that Automatic was used."""
    settings = S.Settings(settings_store)
    settings.set(S.DEVICE, "cuda:1")
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    labels = [a.text() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic", "CPU", "cuda:1"]
    win.menus.probed([], [], [("auto", "Automatic (CPU)"), ("cpu", "CPU")])
    labels = [a.text() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic (CPU)", "CPU", "cuda:1 (missing: Automatic is used)"]
    win.menus.probed([], [], [("auto", "Automatic (GPU)"), ("cuda:1", "GPU"), ("cpu", "CPU")])
    labels = [a.text() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic (GPU)", "GPU", "CPU"]
    win.close()


def test_the_menus_say_what_each_model_and_quality_is(qtbot, settings_store, monkeypatch):
    import stemgui.ui.models as models

    monkeypatch.setattr(models, "store_names", lambda: ["bundled-model", "mine"])
    about = {"bundled-model": "Our small model, 8-bit: MUSDB SDR 4.2 dB", "mine": ""}
    monkeypatch.setattr(models, "model_descriptions", lambda: about)
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    menus = win.menus
    assert menus.model_menu.toolTipsVisible() and menus.quality_menu.toolTipsVisible()
    tips = {a.text(): a.toolTip() for a in menus.model_menu.actions() if a.isCheckable()}
    assert tips == {"bundled-model": about["bundled-model"], "mine": "mine"}  # none: its name
    tips = {a.text(): a.toolTip() for a in menus.quality_menu.actions() if a.actionGroup()}
    assert tips == {
        "Fast": "chunks overlap 10%",
        "Balanced": "chunks overlap 25%",
        "Best (slow)": "chunks overlap 25%; 2 passes at random delays, averaged",
    }
    win.close()


@pytest.mark.parametrize("how", ["by its path", "by a link to it"])
def test_a_model_file_of_the_store_shows_once_in_the_model_menu(
    qtbot, settings_store, tiny_model_file, tmp_path, how
):
    """A file of the model store chosen by file (Choose model file…) showed twice in the Model
    menu under one name; it is the store's entry, checked."""
    from stemgui.separation.store import default_user_dir

    default_user_dir().mkdir(parents=True)
    mine = default_user_dir() / "mine-1a2b3c4d.stemgui"
    mine.write_bytes(tiny_model_file.read_bytes())
    chosen = mine
    if how == "by a link to it":
        chosen = tmp_path / "elsewhere.stemgui"
        chosen.symlink_to(mine)
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(chosen))
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    win.menus.fill_model_menu()
    models = [a for a in win.menus.model_menu.actions() if a.isCheckable()]
    assert [a.text() for a in models if a.text() == "mine"] == ["mine"]
    assert [a.text() for a in models if a.isChecked()] == ["mine"]
    assert settings.get(S.MODEL) == str(chosen)  # what was chosen stays so
    win.close()


def test_the_model_menu_checks_the_store_s_default_when_none_is_chosen(
    qtbot, settings_store, tiny_model_file, tmp_path, monkeypatch, songs
):
    """With no model chosen the menu checked the first model listed, though the songs were
    separated with the store's default (a bundled one marked default, listed second)."""
    import json

    from stemgui.separation.hashing import file_sha256

    bundled = tmp_path / "bundled"
    bundled.mkdir()
    sha256 = file_sha256(tiny_model_file)
    entries = []
    for name, default in (("first", False), ("second", True)):
        (bundled / f"{name}.stemgui").write_bytes(tiny_model_file.read_bytes())
        entries.append({"name": name, "file": f"{name}.stemgui", "sha256": sha256})
        entries[-1]["default"] = default
    manifest = {"schema": 1, "models": entries}
    (bundled / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr("stemgui.separation.store.default_bundled_dir", lambda: bundled)
    settings = S.Settings(settings_store)
    settings.set(S.DEVICE, "cpu")
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    win.menus.fill_model_menu()
    models = [a for a in win.menus.model_menu.actions() if a.isCheckable()]
    assert [a.text() for a in models if a.isChecked()] == ["second"]
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.DONE and job.model_name == "second", job.error
    win.close()


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
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
        "from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "from stemgui.ui.window import MainWindow; import stemgui.ui.app;"
        "w = MainWindow(probe=False); w.show(); app.processEvents(); w.close();"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


class HalfwaySeparator:
    """Writes the first half of the stems, reports it ready, then waits for the gate."""

    sources: ClassVar[list[str]] = ["drums", "bass", "other", "vocals"]
    samplerate = 8000

    class model:
        audio_channels = 2

    def __init__(self, gate):
        self.gate = gate

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import SeparationCancelled
        from stemgui.separation.progress import Progress

        half = buffer.shape[1] // 2
        out[:, :, :half] = buffer[None, :, :half] / 4
        on_progress(Progress(1, 2, 0, 1, 0.5, 1.0, 0.5, half))
        assert self.gate.wait(TIMEOUT_MS / 1000)
        if cancel.is_set():
            raise SeparationCancelled("cancelled")
        out[:, :, half:] = buffer[None, :, half:] / 4
        on_progress(Progress(2, 2, 0, 1, 1.0, 1.0, 1.0, buffer.shape[1]))
        return out


class CannotSeparate(HalfwaySeparator):
    """A model that loads, and whose network fails inside its forward."""

    def __init__(self):
        super().__init__(None)

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import ModelRunError

        raise ModelRunError(
            "the model's HTDemucs network cannot separate any song (x); choose another model"
        )


def _cannot_separate_window(qtbot, settings_store, songs):
    """(a window whose chosen model "bundled" cannot separate, its two songs held for it)."""
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, "bundled")
    factory = lambda options: (CannotSeparate(), "bundled")  # noqa: E731
    win = MainWindow(settings, factory, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.store_models = ["bundled"]  # as the worker listed them
    jobs = win.add_paths(songs[:2])
    qtbot.waitUntil(lambda: jobs[0].hold != "", timeout=TIMEOUT_MS)
    return win, jobs


def _halfway_window(qtbot, settings_store):
    """(gate, a shown window whose songs separate halfway, then wait for the gate)."""
    import threading

    gate = threading.Event()
    win = MainWindow(
        S.Settings(settings_store),
        separator_factory=lambda options: (HalfwaySeparator(gate), "halfway"),
        output_factory=FakeOutput,
        probe=False,
    )
    qtbot.addWidget(win)
    win.show()
    return gate, win


def test_listen_while_it_separates_then_cancel_and_retry(qtbot, settings_store, songs):
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        (job,) = win.add_paths(songs[:1])
        qtbot.waitUntil(lambda: job.fraction == 0.5, timeout=TIMEOUT_MS)
        assert win.shown_job is job and win.player.loaded and win.player.can_play
        assert win.stems.waveforms["vocals"].frames_ready == 4000
        assert "separating 50 %" in win.song_title.text()
        assert win.selected_job() is job and win.queue.cancel_button.isEnabled()
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
        qtbot.waitUntil(lambda: job.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        # what was separated stays on screen and plays (the view went blank)
        assert win.shown_job is job and win.player.loaded
        assert win.stems.waveforms["vocals"].frames_ready == 4000
        assert win.queue.retry_button.isEnabled()
        qtbot.mouseClick(win.queue.retry_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert win.shown_job is job
        assert win.stems.waveforms["vocals"].frames_ready == 8000
    finally:
        gate.set()
        win.close()


def test_retrying_the_song_on_screen_takes_its_cancelled_stems_off(qtbot, settings_store, songs):
    """Retry of a cancelled song waiting behind another: what the cancel left was still shown
    and played (its stems file deleted) until the song's turn came."""
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        (first,) = win.add_paths(songs[:1])
        qtbot.waitUntil(lambda: first.fraction == 0.5, timeout=TIMEOUT_MS)
        win.controller.cancel(first)
        gate.set()
        qtbot.waitUntil(lambda: first.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        gate.clear()
        (second,) = win.add_paths(songs[1:2])
        qtbot.waitUntil(lambda: second.fraction == 0.5, timeout=TIMEOUT_MS)
        assert win.shown_job is first and win.player.loaded
        win.player.toggle()
        win.retry_job(first)
        assert first.state is JobState.WAITING
        assert win.shown_job is None and not win.player.loaded and win.stems.stemset is None
        assert win.song_title.text().endswith("(waiting)")  # its name stays, with its state
        # in the hint's place: its name, not "Drop songs or folders here" and the demo's button
        assert win.pages.currentWidget() is win.empty and not win.demo_button.isVisibleTo(win)
        assert win.hint.text().startswith(f"<h2>{first.path.name}</h2>")
        gate.set()
        qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert win.shown_job is first and win.stems.waveforms["vocals"].frames_ready == 8000
        win.remove_job(first)
        win.remove_job(second)
        assert "Drop songs or folders here" in win.hint.text()  # the hint as it was
    finally:
        gate.set()
        win.close()


def _selected_halfway(qtbot, win, song):
    """``song`` queued, separated half way (held there), selected, the queue's list focused."""
    (job,) = win.add_paths([song])
    qtbot.waitUntil(lambda: job.fraction == 0.5, timeout=TIMEOUT_MS)
    win.select(job)
    win.queue.view.setFocus()
    return job


def test_delete_never_throws_away_the_separation_running(qtbot, settings_store, songs):
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        job = _selected_halfway(qtbot, win, songs[0])
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Backspace)
        assert job in win.controller.model.jobs and job.state is JobState.SEPARATING
        assert "Cancel it first" in win.statusBar().currentMessage()
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
        qtbot.waitUntil(lambda: job.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
        assert job not in win.controller.model.jobs
        assert win.statusBar().currentMessage() == f"Removed {job.title} from the queue."
    finally:
        gate.set()
        win.close()


def test_delete_removes_a_song_being_cancelled(qtbot, settings_store, songs):
    """Cancel, then Delete at once: it said to cancel it first, and did nothing."""
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        job = _selected_halfway(qtbot, win, songs[0])
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
        assert job.status_text() == "removing…"
        assert win.statusBar().currentMessage() == f"Removed {job.title} from the queue."
        gate.set()
        qtbot.waitUntil(lambda: job not in win.controller.model.jobs, timeout=TIMEOUT_MS)
    finally:
        gate.set()
        win.close()


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


def test_stems_not_kept_are_said_once_per_cause(window):
    """Stems the cache could not keep were said in the log alone, and every start separated
    those songs again without a word: the banner says why once per cause."""
    window.controller.not_kept.emit("The stem cache folder /c cannot be written: ...")
    assert window.messages.about == "stemcache"
    assert window.message == "The stem cache folder /c cannot be written: ..."
    window.messages.clear("stemcache")
    window.controller.not_kept.emit("The stem cache folder /c cannot be written: ...")
    assert not window.banner.isVisibleTo(window)  # said already
    window.controller.not_kept.emit("The disk of the stem cache (/c) is full: ...")
    assert window.message == "The disk of the stem cache (/c) is full: ..."
    assert window.banner.isVisibleTo(window)


def test_a_stem_cache_that_cannot_be_cleared_says_so(window, tmp_path, monkeypatch):
    """Clear stem cache on a read-only cache said "Stem cache cleared: 1 songs", all kept."""
    cache = window.controller.worker.stem_cache = StemCache(tmp_path / "cache")
    data = np.ones((2, 2, 100), np.float32)
    assert cache.put("a" * 64, StemSet(("vocals", "other"), 8000, data, data.sum(axis=0)))
    monkeypatch.setattr(stemcache, "remove_tree", lambda folder: None)  # nothing goes
    window.menu_bar.clear_stem_cache()
    assert window.statusBar().currentMessage() == (
        "Stem cache cleared: 0 songs, 0 MB. The stems of 1 song could not be deleted from "
        f"{tmp_path / 'cache'}: make it writable, then clear it again (the log names the files)."
    )


def test_a_stem_cache_folder_that_cannot_be_read_is_said_by_clear(window, tmp_path, monkeypatch):
    """Clear stem cache on a folder that cannot be listed raised PermissionError out of the
    menu's slot; it says so in the status bar, as File ▸ Stem cache size… does."""
    cache = window.controller.worker.stem_cache = StemCache(tmp_path / "cache")

    def refused() -> list:
        raise PermissionError(13, "Permission denied", str(cache.root))

    monkeypatch.setattr(cache, "_entry_folders", refused)
    window.menu_bar.clear_stem_cache()
    assert window.statusBar().currentMessage() == (
        f"The stem cache folder {cache.root} cannot be read (Permission denied): make it a "
        "folder you can read and write."
    )


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


def test_two_stem_mode_gives_vocals_and_the_rest(qtbot, window, songs):
    window.menus.two_stems_action.trigger()
    assert window.settings.get(S.TWO_STEMS) == "vocals"
    (job,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    stems = job.stemset
    assert stems.names == ("vocals", "no_vocals")
    assert list(window.stems.rows) == ["vocals", "no_vocals"]
    assert window.stems.rows["no_vocals"].label.text() == "No vocals"
    # The tiny network is linear: the two stems still add up to what the four did.
    window.menus.two_stems_action.trigger()
    (four,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: four.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert four.stemset.names == ("drums", "bass", "other", "vocals")
    np.testing.assert_allclose(stems.data[0], four.stemset.data[3], atol=1e-6)
    np.testing.assert_allclose(stems.data[1], four.stemset.data[:3].sum(axis=0), atol=1e-5)


def test_same_file_same_settings_reuses_the_stems(qtbot, window, songs):
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
    (again,) = window.add_paths(songs[:1])
    assert again.state is JobState.DONE and again.stemset is first.stemset
    window.settings.set(S.QUALITY, "fast")
    (other,) = window.add_paths(songs[:1])
    assert other.state is not JobState.DONE
    qtbot.waitUntil(lambda: other.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert other.stemset is not first.stemset


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


def test_finished_songs_come_with_their_waveforms(qtbot, window, songs):
    _first, second = window.add_paths(songs)
    qtbot.waitUntil(lambda: second.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert second.waveforms is not None and second.waveforms.stemset is second.stemset
    assert second.waveforms["vocals"].frames_ready == second.stemset.frames
    window.select(second)
    assert window.shown_job is second
    assert window.stems.waveforms is second.waveforms  # nothing recomputed on the GUI thread


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
        "Unexpected error (division by zero), a fault in stemgui. "
        "Details are in the log file (Help ▸ Open log folder)."
    )
    assert any(r.levelname == "CRITICAL" and r.exc_info for r in caplog.records)


def test_stems_are_kept_between_sessions_until_the_cache_is_cleared(
    qtbot, settings_store, tiny_model_file, songs
):
    """Default: a second window (a restart) opens the song's stems from the cache without
    separating; File > Clear stem cache empties it; unticking Keep stems turns the cache off."""

    def session():
        settings = S.Settings(settings_store)
        settings.set(S.MODEL, str(tiny_model_file))
        settings.set(S.DEVICE, "cpu")
        win = MainWindow(settings, output_factory=FakeOutput, probe=False)
        qtbot.addWidget(win)
        (job,) = win.add_paths([songs[0]])
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        return win, job

    first, job = session()
    cache = first.controller.worker.stem_cache
    assert first.menu_bar.keep_stems_action.isChecked()
    qtbot.waitUntil(lambda: len(cache.keys()) == 1, timeout=TIMEOUT_MS)  # stored after DONE
    first.close()

    second, again = session()
    assert isinstance(again.stemset.data, np.memmap)  # read from the cache, not separated
    np.testing.assert_array_equal(np.asarray(again.stemset.data), job.stemset.data)
    second.menu_bar.clear_stem_cache()
    assert cache.keys() == []
    said = second.statusBar().currentMessage()
    assert said.startswith("Stem cache cleared: 1 song, ") and "freed" not in said
    assert "stay until removed or the app closes, and are separated again" in said  # it is open
    second.menu_bar.keep_stems_action.trigger()
    assert second.controller.worker.stem_cache is None
    assert S.Settings(settings_store).get(S.KEEP_STEMS) is False
    second.close()


def test_a_restored_song_keeps_the_settings_it_was_separated_with(
    qtbot, settings_store, tiny_model_file, songs
):
    """Separated with Fast, then Balanced chosen for the next songs: after a restart the song
    comes back from the stem cache as it was (it was separated again, Balanced, and the mix
    made on the Fast stems was put on the new ones)."""
    import json

    def window(quality):
        settings = S.Settings(settings_store)
        settings.set(S.MODEL, str(tiny_model_file))
        settings.set(S.DEVICE, "cpu")
        settings.set(S.QUALITY, quality)
        win = MainWindow(settings, output_factory=FakeOutput, probe=False)
        qtbot.addWidget(win)
        return win

    first = window("fast")
    (job,) = first.add_paths([songs[0]])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)  # stored
    first.close()
    saved = json.loads(S.Settings(settings_store).get(S.SESSION))
    assert saved[0]["options"]["overlap"] == 0.1

    second = window("balanced")
    (again,) = second.restore_session()
    qtbot.waitUntil(lambda: again.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert again.cache_key[-1].overlap == 0.1 and "Fast" in again.status_text()
    assert isinstance(again.stemset.data, np.memmap)  # from the cache, not separated again
    np.testing.assert_array_equal(np.asarray(again.stemset.data), job.stemset.data)
    second.close()


def test_a_session_keeps_a_song_queued_twice_and_leaves_out_only_damaged_songs(
    qtbot, settings_store, tiny_model_file, songs, tmp_path, monkeypatch
):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.TH").write_bytes(b"a model file chosen in its folder")

    fast = {"model": str(tiny_model_file), "device": "cpu", "segment": None, "overlap": 0.1}
    fast |= {"shifts": 0, "two_stems": None}
    session = [
        {"path": str(songs[0]), "strips": {"drums": [-6.0, False, True]}, "options": fast},
        {"path": 3},  # damaged: the whole queue was thrown away for it
        {"path": str(songs[0]), "strips": {"bass": [1.0, True, False, "new"]}},  # a newer one
        {"path": str(songs[0]), "options": {**fast, "device": "cuda"}},  # the same, on a GPU
        {"path": str(songs[1]), "options": {**fast, "model": "/gone/model.stemgui"}},
        {"path": str(songs[1]), "options": {**fast, "model": "net.TH"}},  # taken for a name
    ]
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(tiny_model_file))
    settings.set(S.SESSION, json.dumps(session))
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    jobs = win.restore_session()
    # the same song twice, made two ways (was once, without its mix)
    assert [(job.path, job.options) for job in jobs] == [
        (songs[0], SeparationOptions(**fast)),
        (songs[0], None),
        (songs[1], None),  # its model is gone: the settings of now
        (songs[1], SeparationOptions(**{**fast, "model": "net.TH"})),
    ]
    assert jobs[0].strips["drums"].mute and jobs[1].strips["bass"].solo
    assert "1 song of the last session could not be read and left out." in win.banner.text()
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    win.close()


def test_songs_of_the_last_session_moved_or_deleted_are_named(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """They were left out of the queue without a word: the songs were simply not there. A drive
    not connected is said too: "moved or deleted" had its user think the songs were lost."""
    import json

    deleted = write_song(tmp_path / "deleted.wav")
    saved = [{"path": str(path)} for path in (songs[0], songs[1], deleted, songs[1])]
    songs[1].rename(tmp_path / "b moved.wav")
    deleted.unlink()
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(tiny_model_file))
    settings.set(S.SESSION, json.dumps(saved))
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    (job,) = win.restore_session()
    assert job.path == songs[0]
    said = (
        "2 songs of the last session not found, waiting for their drive (or moved or deleted): "
        "b.wav, deleted.wav. They come back when found at the next start: connect the drive and "
        "press Look again, or Forget them and open them again from where they are now."
    )
    assert win.banner.text() == said
    # it stays (in the status bar, the song coming back and one added at the start replaced it)
    win.add_paths([write_song(tmp_path / "new.wav")])
    qtbot.waitUntil(lambda: all(job.state.ended for job in win.controller.model.jobs))
    assert win.banner.isVisible() and win.banner.text() == said
    win.close()


def test_finished_songs_off_screen_read_their_stems_from_the_cache(qtbot, window, songs):
    """A long queue does not keep every song's stems in RAM: once stored in the stem cache, a
    song that is not on screen reads them from there (memory-mapped), unchanged."""
    first, second = window.add_paths(songs[:2])
    qtbot.waitUntil(lambda: second.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert window.shown_job is first
    root = window.controller.worker.stem_cache.root

    def from_cache(job):
        name = getattr(job.stemset.data, "filename", None)
        return name is not None and root in Path(name).parents

    qtbot.waitUntil(lambda: from_cache(second), timeout=TIMEOUT_MS)  # parked once stored
    assert not from_cache(first)  # on screen: left alone
    kept = np.array(first.stemset.data)
    assert second.waveforms.stemset is second.stemset
    assert np.shares_memory(second.waveforms["drums"].samples, second.stemset.data)

    window.select(second)  # now the first one goes off screen
    qtbot.waitUntil(lambda: from_cache(first), timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(first.stemset.data, kept)
    assert window.stems.stemset is second.stemset


def test_a_song_added_again_shares_its_stems_file_until_no_row_holds_it(qtbot, window, songs):
    """A song added again takes the stems of its first row, not a second separation. Removing
    that row deleted the file both read (a long song's stems file); parking it left the other
    row on the deleted file, with waveforms made again on the GUI thread when shown; parked
    while the other row was on screen, the player's stems were swapped under it."""
    window.controller.worker.memmap_bytes = 0  # every song's stems in a file, as a long one's
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: bool(first.stem_entry), timeout=TIMEOUT_MS)  # separated, stored
    scratch = Path(first.stemset.data.filename)
    (second,) = window.add_paths(songs[:1])
    (third,) = window.add_paths(songs[:1])
    assert second.stemset is first.stemset is third.stemset and scratch.exists()
    window.controller.remove(third)
    assert scratch.exists()  # the other rows read it

    window.select(second)  # the same stems on screen: left as they are, playing
    assert second.stemset is first.stemset and Path(second.stemset.data.filename) == scratch
    assert window.player.stemset is second.stemset
    (other,) = window.add_paths(songs[1:2])
    qtbot.waitUntil(lambda: other.state is JobState.DONE, timeout=TIMEOUT_MS)
    window.select(other)  # off screen: both rows read the cache entry the first row made
    root = window.controller.worker.stem_cache.root
    assert root in Path(second.stemset.data.filename).parents
    assert second.stemset is first.stemset and second.waveforms.stemset is second.stemset
    assert not scratch.exists()  # no row holds it any more
    window.select(first)
    assert window.stems.waveforms is first.waveforms  # not made again


def test_a_new_setting_says_when_it_takes_effect(window):
    best = next(a for a in window.menus.quality_menu.actions() if a.text() == "Best (slow)")
    best.trigger()
    assert window.settings.get(S.QUALITY) == "best"
    assert window.statusBar().currentMessage() == (
        "Applies to the songs separated from now on. To redo a separated song with it, add the "
        "song again."
    )


def test_the_next_start_reopens_the_separated_songs_with_their_mix(
    qtbot, window, settings_store, songs
):
    first, gone = window.add_paths(songs[:2])
    qtbot.waitUntil(lambda: gone.state is JobState.DONE, timeout=TIMEOUT_MS)
    window.select(first)
    window.stems.rows["vocals"].gain.setValue(-6)
    window.stems.rows["drums"].solo.click()
    window.close()  # the session is kept on close
    songs[1].unlink()  # a file gone since is left out
    again = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(again)
    (job,) = again.restore_session()
    assert job.path == songs[0]
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)  # from the cache
    again.select(job)
    assert job.mixer.control("vocals").gain_db == -6.0 and job.mixer.control("drums").solo
    assert again.stems.rows["vocals"].gain.value() == -6
    again.close()
    S.Settings(settings_store).set(S.KEEP_STEMS, False)  # without the stem cache: nothing
    third = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(third)
    assert third.restore_session() == []
    third.close()


def test_without_a_display_the_app_says_to_use_separate_instead_of_aborting(monkeypatch, capsys):
    """Qt aborted the process (SIGABRT and a page about plugins) on a server or over ssh."""
    import sys

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


def test_a_missing_official_model_is_said_to_be_downloadable(qtbot, settings_store):
    """Never downloaded or deleted since, it is not downloaded: it was said to be 'missing
    (htdemucs)' and that Get models… 'downloads it again', of one never downloaded too."""
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, "htdemucs")
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.probed(
        [("stemgui-htdemucs-small", "", "")], [("htdemucs", "Hybrid Transformer", False)], []
    )
    assert win.menus.problem() == (
        "The chosen model “htdemucs” is not downloaded; Model ▸ Get models… downloads it. "
        "Choose one in the Model menu (installed: stemgui-htdemucs-small)."
    )
    win.close()


def test_a_model_file_is_named_alike_in_the_menu_and_the_queue():
    """aaaa1111-987cb8fd.th showed as "aaaa1111-987cb8fd" in the Model menu and as "aaaa1111"
    in the queue and the command line."""
    from stemgui.separation.spec import file_model_name
    from stemgui.ui.models import display_name

    assert display_name("/models/aaaa1111-987cb8fd.th") == "aaaa1111"
    assert file_model_name("/models/aaaa1111-987cb8fd.th") == "aaaa1111"
    assert display_name("/models/mine.stemgui") == "mine" and display_name("htdemucs") == "htdemucs"
    # a model of the store named with a dot (from htdemucs_v2.1.stemgui) showed as htdemucs_v2
    assert display_name("htdemucs_v2.1") == "htdemucs_v2.1"
    assert display_name("/models/htdemucs_v2.1.stemgui") == "htdemucs_v2.1"


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
    assert len(rows) == len(keyed) - 16  # every action with keys: the 18 numbered in 2 lines
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
