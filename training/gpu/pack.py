"""Pack multitracks as small Opus stem folders for the GPU machine (``.gpu/data/<track>/``).

Opus (libsndfile's default rate) keeps a 7-second stereo stem near 100 KB at about 20 dB SNR; the
four sources are written (the trainer forms mixtures as their sum) at 48 kHz, the rate Opus
requires, and ``training.data`` resamples them back to 44.1 kHz when it first caches them.

    python -m training.gpu.pack --data ../shared/data/musdb18-7/train --out .gpu/data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def pack(roots: list[str], out: Path) -> int:
    """Write every track under ``roots`` as ``out/<name>/<source>.ogg``, and what they were
    packed from in ``out/packed.json`` (run provenance names that, not this machine's folder);
    returns the count."""
    from training import data as data_mod

    tracks = data_mod.discover(roots)
    out.mkdir(parents=True, exist_ok=True)
    record = {"from": [data_mod.describe(root) for root in roots], "format": "Ogg Opus, 48 kHz"}
    (out / data_mod.PACK_RECORD).write_text(json.dumps(record) + "\n", encoding="utf-8")
    for track in tracks:
        signals = data_mod.read_track(track)  # (1 + sources, 2, frames) at 44.1 kHz
        folder = out / track.name
        folder.mkdir(parents=True, exist_ok=True)
        for source, signal in zip(data_mod.SOURCES, signals[1:]):
            write_opus(folder / f"{source}.ogg", signal)
    return len(tracks)


def write_opus(path: Path, signal: np.ndarray, samplerate: int = 44100) -> None:
    """(channels, frames) -> Ogg Opus at 48 kHz through libsndfile (which honours the pre-skip,
    so the decoded stem is aligned with the original: about 20 dB SNR at its default rate)."""
    import julius
    import soundfile as sf
    import torch

    resampled = julius.resample_frac(
        torch.from_numpy(np.ascontiguousarray(signal)), samplerate, 48000
    )
    part = path.with_name(f".{path.name}.part")
    sf.write(part, resampled.numpy().T, 48000, format="OGG", subtype="OPUS")
    part.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.gpu.pack", description=__doc__)
    parser.add_argument(
        "--data",
        nargs="+",
        action="extend",  # given twice, both roots' tracks (argparse's store kept the last)
        required=True,
        help="data roots",
    )
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    from stemgui.errors import StemguiError

    try:
        count = pack(args.data, Path(args.out))
    except (OSError, ValueError, StemguiError) as error:  # a data folder, a track, the disk
        print(f"pack: {error}", file=sys.stderr)
        return 1
    print(f"packed {count} tracks into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
