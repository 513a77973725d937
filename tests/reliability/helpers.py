"""A tiny known-answer model and an isolated command-line environment for the reliability tests
and the command-line tests: the builders behind the fixtures ``isolated`` and ``model_file``
(tests/conftest.py) and ``bundled`` (tests/cli/conftest.py), and readers of what a run wrote
and said.

``TinyNet`` multiplies the normalised mix by a fixed factor per stem, so that every stem the
command line writes has a known answer (see ``expected_stems``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import nn

from stemgui.logs import reset_logging
from stemgui.separation import registry
from stemgui.separation.checkpoint import save_model
from stemgui.separation.hashing import file_sha256
from stemgui.separation.normalisation import mix_statistics

RATE = 44100
NAMES = ["drums", "bass", "other", "vocals"]
FACTORS = [0.5, 0.25, 0.125, 0.0625]
MODEL_NAME = "tiny"


class TinyNet(nn.Module):
    """(batch, channels, time) -> (batch, sources, channels, time): source k = factor_k * mix."""

    def __init__(
        self,
        sources=tuple(NAMES),
        factors=tuple(FACTORS),
        samplerate: int = RATE,
        audio_channels: int = 2,
        segment: float | None = 1.0,
    ) -> None:
        super().__init__()
        self._init_kwargs = dict(
            sources=list(sources),
            factors=list(factors),
            samplerate=samplerate,
            audio_channels=audio_channels,
            segment=segment,
        )
        self.sources = list(sources)
        self.samplerate = samplerate
        self.audio_channels = audio_channels
        self.segment = segment
        self.factors = nn.Parameter(torch.tensor(list(factors), dtype=torch.float32))

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        return mix[:, None] * self.factors.view(1, -1, 1, 1)


def write_song(path: Path, seconds: float = 0.3, seed: int = 0) -> np.ndarray:
    """A zero-mean stereo float wav of noise; returns its samples (channels, frames)."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal((2, int(seconds * RATE))) * 0.1
    # Zero mean: the Separator normalises by the mix's mean and std, so that stem k comes out as
    # factor_k * (mix - mean) + mean; with mean 0 the known answer is factor_k * mix.
    samples = (samples - samples.mean()).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples.T, RATE, subtype="FLOAT")
    return samples


def expected_stems(mix: np.ndarray) -> np.ndarray:
    """What TinyNet through the Separator gives for ``mix`` (channels, frames):
    ``factor_k * (mix - mean) + mean`` per stem (the Separator normalises by the mix's mean and
    std and adds them back)."""
    mean, _std = mix_statistics(mix)
    factors = np.asarray(FACTORS, dtype=np.float64)[:, None, None]
    return (factors * (mix.astype(np.float64) - mean) + mean).astype(np.float32)


def read(path: Path) -> np.ndarray:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def stem_folder(root: Path, track: str) -> Path:
    """Where the default template puts the stems of ``track`` (its name made file-safe)."""
    from stemgui.export.naming import safe_name

    return root / "separated" / MODEL_NAME / safe_name(track)


def isolate(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """Log file and model store folders in ``tmp_path``, TinyNet registered, cwd in
    ``tmp_path`` while the caller holds it (yields ``tmp_path``); logging handlers removed
    after."""
    from stemgui.separation import store

    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(store, "default_bundled_dir", lambda: tmp_path / "bundled")
    monkeypatch.setattr(store, "default_user_dir", lambda: tmp_path / "user")
    monkeypatch.chdir(tmp_path)
    registry.register("TinyNet", TinyNet)
    yield tmp_path
    registry.unregister("TinyNet")
    reset_logging()


def save_tiny_model(folder: Path) -> Path:
    """A TinyNet checkpoint written to ``folder``/models/tiny.stemgui; returns its path."""
    path = folder / "models" / f"{MODEL_NAME}.stemgui"
    path.parent.mkdir()
    save_model(TinyNet().eval(), path)
    return path


def install_bundled(tmp_path: Path, model_file: Path) -> str:
    """``model_file`` installed as the bundled default model ``tiny-bundled`` (in the bundled
    models' folder of ``isolate``); returns its name."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    sha256 = file_sha256(model_file)
    name = f"tiny-{sha256[:8]}.stemgui"
    (folder / name).write_bytes(model_file.read_bytes())
    manifest = {
        "schema": 1,
        "models": [
            {"name": "tiny-bundled", "file": name, "sha256": sha256, "default": True,
             "description": "scales the mix"},
        ],
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return "tiny-bundled"
