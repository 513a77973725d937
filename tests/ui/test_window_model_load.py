"""A model that does not load or cannot separate: the songs wait, the banner says why once,
and the queue goes on once the model is mended or another chosen."""

from __future__ import annotations

import pytest

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.stub_separators import CannotSeparate


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
    assert win.menus.model_menu.actions()[0].iconText() == "mine (does not load)"
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
    assert win.menus.model_menu.actions()[0].iconText() == "bundled (does not load)"
    win.close()


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
    assert win.menus.model_menu.actions()[0].iconText() == "bundled (cannot separate)"
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
