"""What the exporter tests share: the song's rate and stem names, a float format, stems on disk,
listing and reading back what was written."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from stemgui.audio.encode import AudioFormat

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")
FLOAT32 = AudioFormat(kind="wav", bits=32, float=True, clip="none")


def on_disk(folder, data: np.ndarray) -> np.memmap:
    """``data`` copied into a float32 file in ``folder``, as a long song's stems are spooled."""
    spool = np.memmap(folder / "spool.f32", np.float32, "w+", shape=data.shape)
    spool[:] = data
    return spool


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def everything_under(folder):
    """Every file and folder, hidden temporary files too."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def read(path):
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T  # (channels, frames)
