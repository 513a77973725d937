"""What the exporter tests share: the song's rate and stem names, a float format, reading back."""

from __future__ import annotations

import soundfile as sf

from stemgui.audio.encode import AudioFormat

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")
FLOAT32 = AudioFormat(kind="wav", bits=32, float=True, clip="none")


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def read(path):
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T  # (channels, frames)
