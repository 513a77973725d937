"""Fixtures of the reliability tests: an isolated command-line run with the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.logs import reset_logging
from stemgui.separation import registry
from stemgui.separation.checkpoint import save_model
from tests.reliability.helpers import MODEL_NAME, TinyNet


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Log file and model store folders in tmp, TinyNet registered, cwd in tmp."""
    from stemgui.separation import store

    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(store, "default_bundled_dir", lambda: tmp_path / "bundled")
    monkeypatch.setattr(store, "default_user_dir", lambda: tmp_path / "user")
    monkeypatch.chdir(tmp_path)
    registry.register("TinyNet", TinyNet)
    yield tmp_path
    registry.unregister("TinyNet")
    reset_logging()


@pytest.fixture
def model_file(isolated) -> Path:
    path = isolated / "models" / f"{MODEL_NAME}.stemgui"
    path.parent.mkdir()
    save_model(TinyNet().eval(), path)
    return path
