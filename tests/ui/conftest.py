"""Fixtures of the window tests: a tiny registered model, songs on disk, isolated settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemgui.ui.separation_options import SeparationOptions
from tests.separation.model_files_helpers import TinyNet
from tests.ui.song_window import model_window

TIMEOUT_MS = 60_000  # how long a test waits for the worker: generous for a busy CI machine

RATE = 8000


class UiTinyNet(TinyNet):
    """The separation tests' TinyNet under a name of our own in the registry."""


def write_song(path: Path, seconds: float = 1.0, rate: int = RATE, seed: int = 0) -> Path:
    """A stereo 16-bit wav of noise plus a tone."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(frames)
    right = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(frames)
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), rate, subtype="PCM_16")
    return path


@pytest.fixture
def songs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "songs"
    (folder / "sub").mkdir(parents=True)
    return [
        write_song(folder / "a.wav", seed=1),
        write_song(folder / "sub" / "b.wav", seed=2),
    ]


@pytest.fixture
def panel(qtbot):
    """A stem panel showing four stems of ``make_stemset``, with a mixer of its own."""
    from stemgui.stems.mixer import MixerState
    from stemgui.ui.stemview import StemPanel
    from stemgui.ui.timeline import Timeline
    from tests.ui.song_window import NAMES, make_stemset

    timeline = Timeline()
    widget = StemPanel(timeline)
    qtbot.addWidget(widget)
    stemset = make_stemset()
    mixer = MixerState(NAMES)
    widget.show_song(stemset, mixer)
    widget.resize(800, 500)
    widget.show()
    return widget


@pytest.fixture
def corrupt_song(tmp_path: Path) -> Path:
    path = tmp_path / "songs" / "broken.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(100))
    return path


@pytest.fixture
def settings_store(tmp_path: Path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """A TinyNet checkpoint in our format (the class stays registered for the session)."""
    import torch

    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model

    registry.register("UiTinyNet", UiTinyNet)
    torch.manual_seed(0)
    model = UiTinyNet(samplerate=RATE, segment=0.25)
    path = tmp_path_factory.mktemp("models") / "tiny.stemgui"
    save_model(model, path)
    return path


@pytest.fixture
def window(qtbot, settings_store, tiny_model_file):
    win = model_window(qtbot, settings_store, tiny_model_file)
    yield win
    win.close()


@pytest.fixture
def smoke_window(qtbot, tmp_path, tiny_model_file):
    """``make(separator_factory=None)``: a window for the smoke test (``tests/ui/test_smoke*.py``)
    with its throw-away settings and the tiny model, separating with what ``separator_factory``
    gives (None: the window's own)."""
    from stemgui.ui import settings as S
    from stemgui.ui import smoke
    from stemgui.ui.window import MainWindow
    from tests.fakes import FakeOutput

    def make(separator_factory=None):
        settings = smoke.throwaway_settings(tmp_path / "settings.ini")
        settings.set(S.MODEL, str(tiny_model_file))
        settings.set(S.DEVICE, "cpu")
        win = MainWindow(
            settings, separator_factory, output_factory=FakeOutput, probe=separator_factory is None
        )
        qtbot.addWidget(win)
        return win

    return make


@pytest.fixture
def drums_song(tmp_path: Path) -> Path:
    """Rock drums at 120 BPM in the test's folder (``tests.ui.drums_window.rock_song``)."""
    from tests.ui.drums_window import rock_song

    return rock_song(tmp_path)


@pytest.fixture
def drums_win(qtbot, settings_store, monkeypatch):
    """A window that separates songs into their drums (``tests.ui.drums_window.drums_window``),
    its separations stopped after the test."""
    from tests.ui.drums_window import drums_window

    window = drums_window(qtbot, settings_store, monkeypatch)
    yield window
    window.controller.shutdown()


@pytest.fixture
def damaged_manifest(tmp_path: Path, monkeypatch) -> Path:
    """The bundled models' folder, whose manifest.json is no JSON."""
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "manifest.json").write_text("{ not json")
    monkeypatch.setattr("stemgui.separation.store.default_bundled_dir", lambda: bundled)
    return bundled


@pytest.fixture
def tiny_options(tiny_model_file: Path) -> SeparationOptions:
    """The tiny model on the CPU, as the stem cache tests separate with it."""
    return SeparationOptions(model=str(tiny_model_file), device="cpu")
