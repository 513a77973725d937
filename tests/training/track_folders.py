"""What the data tests share: a track folder of four tones as its stems, with or without
a mixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from training import data


def _tones(frames=44100, rate=44100):
    t = np.arange(frames) / rate
    return [0.2 * np.sin(2 * np.pi * f * t) for f in (110.0, 220.0, 440.0, 880.0)]


def _stems_folder(root: Path, with_mixture: bool) -> Path:
    folder = root / "Song A"
    folder.mkdir(parents=True)
    tones = _tones()
    for name, tone in zip(data.SOURCES, tones):
        sf.write(folder / f"{name}.wav", np.stack([tone, -tone]).T, 44100, subtype="FLOAT")
    if with_mixture:
        mix = np.sum(tones, axis=0)
        sf.write(folder / "mixture.wav", np.stack([mix, -mix]).T, 44100, subtype="FLOAT")
    return folder
