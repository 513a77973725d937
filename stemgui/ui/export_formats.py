"""The export dialog's formats: each of ``settings.EXPORT_FORMATS`` as an ``AudioFormat``, the
mp3 bit rates it offers, and how it says a sample rate."""

from __future__ import annotations

from typing import Any

MP3_BITRATES = (128, 192, 256, 320)


def audio_format(kind: str, mp3_bitrate: int = 320) -> Any:
    """The ``AudioFormat`` of one of ``settings.EXPORT_FORMATS``; for "stem", the
    ``StemFileFormat`` of one Stems file per song."""
    from stemgui.audio.encode import AudioFormat
    from stemgui.audio.stem_mp4 import StemFileFormat

    if kind == "stem":
        return StemFileFormat()
    formats = {
        "wav16": dict(kind="wav", bits=16),
        "wav24": dict(kind="wav", bits=24),
        "wav32f": dict(kind="wav", bits=32, float=True, clip="none"),  # keeps every sample
        "flac16": dict(kind="flac", bits=16),
        "flac24": dict(kind="flac", bits=24),
        "mp3": dict(kind="mp3", mp3_bitrate=int(mp3_bitrate)),
    }
    return AudioFormat(**formats[kind])


def khz(rate: int) -> str:
    """ "44.1 kHz", "48 kHz"."""
    return f"{rate / 1000:g} kHz"
