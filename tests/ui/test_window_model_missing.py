"""No model, or the chosen one missing: the window says so plainly, the songs wait, and they
start once a model is there."""

from __future__ import annotations

import pytest

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS, write_song


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
    labels = [a.text().replace("&", "") for a in win.menus.model_menu.actions()]
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
    assert win.menus.model_menu.actions()[0].iconText() == "mine (missing)"
    (tmp_path / "away.stemgui").rename(model)  # plugged in again
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert not win.banner.isVisibleTo(win) and not win.menus._watch.isActive()
    win.menus.fill_model_menu()
    assert win.menus.model_menu.actions()[0].iconText() == "mine"
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
