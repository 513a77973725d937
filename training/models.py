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
    return Path(path).suffix.lower() == OFFICIAL_SUFFIX  # .TH too (a FAT drive, an 8.3 copy)


def network_settings(path: str | Path) -> tuple[int, list[str], int]:
    """The rate (Hz), stems (in its order) and audio channels (2: stereo) of the network of
    ``path`` (of a bag, its first member's, which every member shares): what its validation
    tracks are decoded to and scored against. An official file is loaded once for all three.

    Raises:
        ModelLoadError: ``path`` does not read.
    """
    if is_official(path):
        model = load_any(path)
        rate, sources, channels = model.samplerate, model.sources, model.audio_channels
    else:
        network = read_checkpoint(path)["models"][0]
        rate, sources, channels = (network[k] for k in ("samplerate", "sources", "audio_channels"))
    return int(rate), list(sources), int(channels)


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
