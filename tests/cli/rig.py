"""What the command-line tests share: an isolated run of ``stemgui-separate`` in process, with a
tiny known-answer model, and readers of what it wrote and said.

The model multiplies the mixture by a fixed factor per stem, so every written stem has a known
answer: ``stem_k = factor_k * mix``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemgui.logs import reset_logging
from stemgui.separation import registry
from stemgui.separation.checkpoint import save_model
from stemgui.separation.hashing import file_sha256
from tests.reliability.helpers import RATE, TinyNet


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Log file and model store folders in tmp (empty), the tiny architecture registered, cwd in
    tmp; logging handlers removed after."""
    from stemgui.separation import store

    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(store, "default_bundled_dir", lambda: tmp_path / "bundled")
    monkeypatch.setattr(store, "default_user_dir", lambda: tmp_path / "user")
    monkeypatch.chdir(tmp_path)
    registry.register("TinyNet", TinyNet)
    yield
    registry.unregister("TinyNet")
    reset_logging()


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "models" / "tiny.stemgui"
    path.parent.mkdir()
    save_model(TinyNet().eval(), path)
    return path


@pytest.fixture
def bundled(tmp_path, model_file) -> str:
    """``model_file`` installed as the bundled default model ``tiny-bundled``."""
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


def read(path: Path) -> np.ndarray:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]
