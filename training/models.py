"""The model files the training commands read: stemgui checkpoints, and the official Demucs ``.th``
files, imported as the app opens them (``stemgui.separation.official``: a restricted unpickler,
the tensors mapped onto our network).

The commands load either with ``stemgui.separation.official.load_any``; ``export`` ships an
official file as a stemgui checkpoint written by ``as_stemgui_file`` (self-describing, loaded
without pickle), recording which file it was imported from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stemgui.separation.checkpoint import read_checkpoint, save_model
from stemgui.separation.hashing import file_sha256
from stemgui.separation.official import OFFICIAL_SUFFIX, load_any


def is_official(path: str | Path) -> bool:
    """Whether ``path`` names an official Demucs checkpoint (``.th``), by its suffix as the app
    tells them."""
    return Path(path).suffix == OFFICIAL_SUFFIX


def samplerate_of(path: str | Path) -> int:
    """The rate (Hz) the network of ``path`` runs at: what its validation tracks are decoded to.

    Raises:
        ModelLoadError: ``path`` does not read.
    """
    if is_official(path):
        return int(load_any(path).samplerate)
    return int(read_checkpoint(path)["models"][0]["samplerate"])


def sources_of(path: str | Path) -> list[str]:
    """The stems the network of ``path`` separates, in its order.

    Raises:
        ModelLoadError: ``path`` does not read.
    """
    if is_official(path):
        return list(load_any(path).sources)
    return list(read_checkpoint(path)["models"][0]["sources"])


def channels_of(path: str | Path) -> int:
    """The audio channels the network of ``path`` takes (2: stereo).

    Raises:
        ModelLoadError: ``path`` does not read.
    """
    if is_official(path):
        return int(load_any(path).audio_channels)
    return int(read_checkpoint(path)["models"][0]["audio_channels"])


def provenance_of(path: str | Path) -> dict[str, Any]:
    """How the weights of ``path`` were made, as its checkpoint records it; for an official file,
    which one it is (name and sha256): it records nothing of ours.

    Raises:
        ModelLoadError: ``path`` does not read.
    """
    path = Path(path)
    if is_official(path):
        return {"imported_from": {"file": path.name, "sha256": file_sha256(path)}}
    return dict(read_checkpoint(path).get("provenance") or {})


def as_stemgui_file(path: str | Path, folder: str | Path) -> Path:
    """``path`` itself for a stemgui checkpoint; for an official ``.th`` file, its network
    imported and written as ``folder/<name>.th.stemgui`` (float32, with ``provenance_of``).

    Raises:
        ModelLoadError: ``path`` does not load.
    """
    path = Path(path)
    if not is_official(path):
        return path
    # "<sig>-<hash>.th.stemgui": not read as a name ending in its own hash
    converted = Path(folder) / f"{path.name}.stemgui"
    save_model(load_any(path), converted, provenance=provenance_of(path))
    return converted
