"""The banner's words about a model that cannot be used: why, and where to choose another, once.

The engine's messages close with their own advice ("; choose another model"), and the banner
with its own: both were said, one after the other.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stemgui.ui import settings as S
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS

# ModelRunError's words (stemgui.separation.separator)
CANNOT_SEPARATE = "the model's HTDemucs network cannot separate any song (x); choose another model"


def _engine_says(kind: str) -> str:
    """The engine's own message, raised where it is made, for a model that ``kind``."""
    from stemgui.cli.models import load_model
    from stemgui.errors import ModelLoadError, one_line
    from stemgui.separation.building import architecture_class
    from stemgui.separation.store import ModelStore

    with pytest.raises(ModelLoadError) as refused:
        if kind == "unknown architecture":
            architecture_class(Path("/models/mine.stemgui"), "NoSuchNet")
        elif kind == "unknown name":
            ModelStore().load("nosuchmodel")
        else:  # "not downloaded": an official model whose files were deleted since
            load_model("htdemucs", download=False)
    return one_line(refused.value)


def _chooses(text: str) -> int:
    return len(re.findall(r"\bchoose\b", text, flags=re.IGNORECASE))


@pytest.fixture
def bundled_window(qtbot, settings_store):
    """A window whose chosen model is the store's "bundled" (as the worker listed it)."""
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, "bundled")
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.store_models = ["bundled"]
    yield win
    win.close()


def test_a_model_that_cannot_separate_says_to_choose_another_once(bundled_window):
    bundled_window.menus.model_failed("bundled", CANNOT_SEPARATE, True)
    assert bundled_window.banner.text() == (
        "The chosen model “bundled” cannot separate, so the songs wait: the model's HTDemucs "
        "network cannot separate any song (x). Choose another model in the Model menu or a "
        "model file (or mend this one): the queue goes on with it."
    )


@pytest.mark.parametrize("kind", ["unknown architecture", "unknown name", "not downloaded"])
def test_a_model_that_does_not_load_says_to_choose_another_once(bundled_window, kind):
    message = _engine_says(kind)
    assert _chooses(message) == 1  # the engine's own advice, left out of the banner
    bundled_window.menus.model_failed("bundled", message, False)
    text = bundled_window.banner.text()
    assert text.startswith("The chosen model “bundled” does not load, so the songs wait: ")
    assert _chooses(text) == 1 and "Choose another model in the Model menu" in text


def test_a_song_chosen_as_a_model_file_says_to_choose_one_once(qtbot, bundled_window, songs):
    """Its message says which files are models: the banner's "choose another file" went on."""
    bundled_window.menus.check_model_file(str(songs[0]))  # what Model ▸ Choose model file… does
    qtbot.waitUntil(lambda: bundled_window.banner.isVisibleTo(bundled_window), timeout=TIMEOUT_MS)
    assert bundled_window.banner.text() == (
        f"{songs[0]}: is a song, not a model; choose a model file (.stemgui, .th or .yaml). "
        "The model in use stays."
    )
