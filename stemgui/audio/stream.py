"""Write long audio block by block, from a reader, without the whole signal in memory.

``write_audio`` (``stemgui.audio.encode``) takes a whole (channels, frames) array and makes a
few full-size temporaries on the way (finite check, clip). For the stems of a long song, kept on
disk in an ``np.memmap`` spool, :func:`write_blocks` does the same job a block at a time: the
peak for the ``rescale`` clip mode is found in a first pass, then every block is cleaned of
NaN/infinite samples, clipped, quantised and written. Same formats, same atomic temporary file,
same ``EncodeError`` messages as ``write_audio``.

:func:`stem_reader` reads a stem out of a memory-mapped spool, letting go of the pages it read,
so that the pages of a 60-minute stem do not stay in (and count against) this process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from stemgui.audio import encode
from stemgui.audio.encode import AudioFormat

logger = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 18
"""Frames per block read and written (2 MiB of stereo float32)."""

BlockReader = Callable[[int, int], np.ndarray]
"""``read(start, stop)`` -> frames [start, stop) as (channels, stop - start) float32."""


def stem_reader(data: np.ndarray, index: int) -> BlockReader:
    """A reader of stem ``index`` of ``data`` (sources, channels, frames).

    An ``np.memmap`` is read through its mapping, and the pages read are let go of at once, so
    that the pages of a 60-minute stem are not kept in (and counted against) this process. Not
    through its file's name: the app deletes that file once no song shows it (a song parked or
    removed, a cache entry evicted or cleared), and an export still reading it failed with "the
    folder disappeared"; a mapping stays readable after its file is deleted.
    """
    return _reader(data, lambda start, stop: data[index, :, start:stop])


def array_reader(samples: np.ndarray) -> BlockReader:
    """A reader of ``samples`` (channels, frames), a song's mix: as ``stem_reader``."""
    return _reader(samples, lambda start, stop: samples[:, start:stop])


def _reader(array: np.ndarray, part: Callable[[int, int], np.ndarray]) -> BlockReader:
    if not isinstance(array, np.memmap):
        return lambda start, stop: np.asarray(part(start, stop), dtype=np.float32)
    from stemgui.spool import release_pages

    def read(start: int, stop: int) -> np.ndarray:
        block = np.array(part(start, stop), dtype=np.float32)  # a copy
        release_pages(array, start, stop, flush=False)
        return block

    return read


def peak(read: BlockReader, frames: int, block_frames: int = BLOCK_FRAMES) -> float:
    """The largest absolute finite sample of the ``frames`` frames ``read`` gives (0 if none)."""
    loudest = 0.0
    for start in range(0, frames, block_frames):
        loudest = max(loudest, block_peak(finite(read(start, min(start + block_frames, frames)))))
    return loudest


def finite(block: np.ndarray) -> np.ndarray:
    """``block`` with its NaN and infinite samples as 0 (a copy only when it has some)."""
    ok = np.isfinite(block)
    return block if ok.all() else np.where(ok, block, np.float32(0.0))


def block_peak(block: np.ndarray) -> float:
    """The largest absolute sample of ``block`` (0 for an empty one)."""
    return float(np.max(np.abs(block))) if block.size else 0.0


def write_blocks(
    path: str | os.PathLike[str],
    read: BlockReader,
    channels: int,
    frames: int,
    samplerate: int,
    fmt: AudioFormat,
    *,
    overwrite: bool = False,
    block_frames: int = BLOCK_FRAMES,
    tags: Mapping[str, str] | None = None,
    part: Path | None = None,
    elsewhere: str = encode.ELSEWHERE,
) -> Path:
    """Write the ``frames`` frames that ``read`` gives to ``path`` in ``fmt``, block by block.

    Equivalent to ``write_audio(path, <all blocks joined>, samplerate, fmt, overwrite=...,
    tags=..., part=...)`` (same file, same errors) with one block in memory at a time; ``read`` is
    called twice per block with the ``rescale`` clip mode (peak, then write). ``elsewhere``: what
    an error says to do to write the file to another folder (``encode.explain_write_error``).

    Raises:
        EncodeError: as ``write_audio``.
    """
    path = Path(path)
    if samplerate <= 0 or channels < 1 or frames < 0:
        raise ValueError(f"bad stream: {channels} channels, {frames} frames at {samplerate} Hz")
    encode.check_target(path, fmt, channels, samplerate)
    spans = [(a, min(a + block_frames, frames)) for a in range(0, frames, block_frames)]
    scale = np.float32(1.0)
    bad = 0
    if fmt.clip == "rescale":
        scale = np.float32(max(1.01 * peak(read, frames, block_frames), 1.0))

    def blocks():
        nonlocal bad
        for a, b in spans:
            block = np.asarray(read(a, b), dtype=np.float32)
            finite = np.isfinite(block)
            if not finite.all():
                bad += int(block.size - np.count_nonzero(finite))
                block = np.where(finite, block, np.float32(0.0))
            yield block / scale if fmt.clip == "rescale" else encode.apply_clip(block, fmt.clip)

    with encode.encoding(path, overwrite, part, elsewhere) as written:
        encode.write_encoded_blocks(
            written, blocks(), channels, samplerate, fmt, tags, frames=frames
        )
    if bad:
        logger.warning("%s: %d NaN or infinite samples written as silence", path, bad)
    logger.info("wrote %s (%s, %d frames, in blocks)", path, fmt.kind, frames)
    return path
