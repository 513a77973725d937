"""What a model spec names: a model file, or a model of the store by its name."""

from __future__ import annotations

from pathlib import Path

MODEL_SUFFIXES = (".th", ".yaml", ".yml", ".stemgui", ".pt", ".safetensors")


def names_a_file(spec: str | Path) -> bool:
    """True for a spec that names a model file by its suffix or a folder in it (``bag.yml``,
    ``C:/models/net.TH``, ``./mine``), not a name in the model store (``htdemucs``)."""
    path = Path(spec)
    return path.suffix.lower() in MODEL_SUFFIXES or len(path.parts) > 1
