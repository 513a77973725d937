"""The separation choices in the menus (model, quality, device, two stems): what each entry is,
which is checked, a device gone, and when a new choice takes effect."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS


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
    labels = [a.iconText() for a in win.menus.device_menu.actions()]
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
    labels = [a.iconText() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic", "CPU", "cuda:1"]
    win.menus.probed([], [], [("auto", "Automatic (CPU)"), ("cpu", "CPU")])
    labels = [a.iconText() for a in win.menus.device_menu.actions()]
    assert labels == ["Automatic (CPU)", "CPU", "cuda:1 (missing: Automatic is used)"]
    win.menus.probed([], [], [("auto", "Automatic (GPU)"), ("cuda:1", "GPU"), ("cpu", "CPU")])
    labels = [a.iconText() for a in win.menus.device_menu.actions()]
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
    tips = {a.iconText(): a.toolTip() for a in menus.model_menu.actions() if a.isCheckable()}
    assert tips == {"bundled-model": about["bundled-model"], "mine": "mine"}  # none: its name
    tips = {a.iconText(): a.toolTip() for a in menus.quality_menu.actions() if a.actionGroup()}
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
    assert [a.iconText() for a in models if a.iconText() == "mine"] == ["mine"]
    assert [a.iconText() for a in models if a.isChecked()] == ["mine"]
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
    assert [a.iconText() for a in models if a.isChecked()] == ["second"]
    (job,) = win.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.DONE and job.model_name == "second", job.error
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


def test_a_new_setting_says_when_it_takes_effect(window):
    best = next(a for a in window.menus.quality_menu.actions() if a.iconText() == "Best (slow)")
    best.trigger()
    assert window.settings.get(S.QUALITY) == "best"
    assert window.statusBar().currentMessage() == (
        "Applies to the songs separated from now on. To redo a separated song with it, add the "
        "song again."
    )


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
