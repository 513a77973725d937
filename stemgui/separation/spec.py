"""What a model spec names: a model file, or a model of the store by its name; and where the
models shipped with the app lie. Imports no torch: the window asks it before torch is loaded."""

from __future__ import annotations

import re
import sys
from pathlib import Path

MODEL_SUFFIXES = (".th", ".yaml", ".yml", ".stemgui", ".pt", ".safetensors")
HASHED_STEM = re.compile(r"^(?P<name>.+)-(?P<prefix>[0-9a-f]{8})$")
"""A file name's stem ending in the first 8 hex digits of its sha256 (``htdemucs-1a2b3c4d``)."""


def names_a_file(spec: str | Path) -> bool:
    """True for a spec that names a model file by its suffix or a folder in it (``bag.yml``,
    ``C:/models/net.TH``, ``./mine``), not a name in the model store (``htdemucs``)."""
    path = Path(spec)
    return path.suffix.lower() in MODEL_SUFFIXES or len(path.parts) > 1


def file_model_name(path: str | Path) -> str:
    """A model file's name, as the menus, the queue and ``{model}`` show it: its stem without
    a ``-<8 hex of sha256>`` suffix (``mymodel-1a2b3c4d.stemgui`` -> ``mymodel``)."""
    stem = Path(path).stem
    match = HASHED_STEM.match(stem)
    return match["name"] if match else stem


def default_bundled_dir() -> Path:
    """``resources/models`` of the source tree, or of the frozen app (PyInstaller)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    root = Path(frozen_root) if frozen_root else Path(__file__).resolve().parents[2]
    return root / "resources" / "models"
