"""The sample rate an export is written at.

The stems come out of the model at its rate (44.1 kHz). The app writes them at the song's own
rate by default (``ExportRequest.samplerate``), so that the stems of a 48 kHz song line up
sample for sample with it in a DAW session at 48 kHz; they are resampled a block at a time as
they are written (``stemgui.export.sources``). ``song_rate`` reads a song's rate from its
headers, ``export_rate`` picks the rate to write in a format, and ``check_rate`` refuses one a
format cannot hold.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from stemgui.errors import ExportError

if TYPE_CHECKING:
    from stemgui.audio.encode import AudioFormat

logger = logging.getLogger(__name__)


def song_rate(path: str | Path) -> int | None:
    """The sample rate of the song at ``path``, from its headers; None when it cannot be read
    (moved or deleted since it was separated: its stems are then written at their own rate)."""
    from stemgui.audio.decode import probe
    from stemgui.errors import DecodeError

    try:
        return probe(path).samplerate
    except DecodeError as error:
        logger.info("%s: its sample rate is unknown (%s); exporting at the stems'", path, error)
        return None


def holds(fmt: AudioFormat, samplerate: int) -> bool:
    """Whether files in ``fmt`` can hold audio at ``samplerate`` (mp3 only a few rates, and
    below 32 kHz not every bit rate: ``mp3_max_bitrate``; a Stems file 44.1 kHz alone)."""
    from stemgui.audio.encode import MP3_SAMPLERATES, mp3_max_bitrate
    from stemgui.audio.stem_mp4 import STEM_RATE

    if fmt.kind == "stem":
        return samplerate == STEM_RATE
    if fmt.kind != "mp3":
        return samplerate > 0
    return samplerate in MP3_SAMPLERATES and fmt.mp3_bitrate <= mp3_max_bitrate(samplerate)


def export_rate(fmt: AudioFormat, song: int | None, stems: int) -> int | None:
    """The ``ExportRequest.samplerate`` that writes a song's stems at its own rate ``song``:
    None (the stems' rate ``stems``, nothing resampled) when the song is at that rate, its rate
    is unknown, or ``fmt`` cannot hold it (a 96 kHz song as mp3; a 22.05 kHz one as an mp3 of
    320 kbps, which LAME would write at 160)."""
    if song is None or song == stems or not holds(fmt, song):
        return None
    return song


def check_rate(samplerate: int | None, fmt: AudioFormat, folder: Path) -> None:
    """Refuse a ``samplerate`` to export at that is impossible or that ``fmt`` cannot hold.

    Raises:
        ExportError: about ``folder``, naming the rate and what to do.
    """
    if samplerate is None or holds(fmt, samplerate):
        return
    if samplerate <= 0:
        raise ExportError(folder, f"a sample rate of {samplerate} Hz is impossible")
    if fmt.kind == "stem":
        raise ExportError(
            folder, f"a Stems file is at 44.1 kHz, not {samplerate} Hz; choose the stems' own rate"
        )
    from stemgui.audio.encode import MP3_SAMPLERATES, mp3_max_bitrate

    if samplerate not in MP3_SAMPLERATES:
        raise ExportError(
            folder,
            f"mp3 cannot hold audio at {samplerate} Hz; choose wav or flac, or the stems' own rate",
        )
    most = mp3_max_bitrate(samplerate)
    raise ExportError(
        folder,
        f"an mp3 at {samplerate} Hz holds at most {most} kbps, not {fmt.mp3_bitrate}; choose "
        f"{most} kbps or less, wav or flac, or the stems' own rate",
    )
