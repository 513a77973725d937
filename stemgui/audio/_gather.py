"""The frames of a song as a decoder gives them, gathered for :mod:`stemgui.audio.decode`.

In RAM, in chunks of about 6 s; past ``SPILL_BYTES``, when the caller gave a scratch folder
(``Scratch``), in an anonymous temporary file there (gone when closed, or when the process
dies), so that a long song that must still be resampled or was decoded by PyAV never sits whole
in RAM (1.3 GB for 60 minutes of stereo at 44.1 kHz).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stemgui.errors import FileError

logger = logging.getLogger(__name__)

CHUNK_FRAMES = 1 << 18
SPILL_BYTES = 128 << 20  # about 6 minutes of stereo float32 at 44.1 kHz

Allocate = Callable[[tuple[int, int]], np.ndarray]
"""``allocate(shape)``: the (channels, frames) float32 array a song is to be written into."""

Scratch = Callable[[], Path]
"""``scratch()``: the folder a long song spills into, made by its owner as it makes it every
time (the app's run folder with its lock: ``stemgui.ui.scratch.made_scratch_dir``), called the
first time a song spills; raises OSError when it cannot be made."""


def in_ram(shape: tuple[int, int]) -> np.ndarray:
    """The default ``Allocate``: a new array in RAM."""
    return np.empty(shape, dtype=np.float32)


def release_written(out: np.ndarray, released: int, written: int) -> int:
    """Let go of the pages of a memory-mapped ``out`` written so far (``spool.release_done``);
    return the frames let go of."""
    if not isinstance(out, np.memmap):
        return released
    from stemgui.spool import release_done

    return release_done(out, released, written)


def silence_non_finite(samples: np.ndarray) -> int:
    """Set NaN and infinite samples of ``samples`` to 0 in place, a block at a time; return how
    many there were. A mask of the whole song at once cost a quarter of its size again (300 MB
    for 60 minutes)."""
    bad = 0
    for start in range(0, samples.shape[1], CHUNK_FRAMES):
        block = samples[:, start : start + CHUNK_FRAMES]
        finite = np.isfinite(block)
        if not finite.all():
            bad += int(block.size - np.count_nonzero(finite))
            block[~finite] = 0.0
    return bad


class Gathered:
    """(channels, n) float32 blocks appended in order; NaN and infinite samples made 0 on the
    way (``non_finite`` counts them). ``samples`` gives the song read back."""

    def __init__(self, scratch: Scratch | None = None) -> None:
        self.frames = 0
        self.non_finite = 0
        self.channels = 0
        self._scratch = scratch
        self._folder: Path | None = None  # made by ``scratch`` as the song spills
        self._chunks: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._file = None

    def append(self, block: np.ndarray) -> None:
        self.channels = block.shape[0]
        self.non_finite += silence_non_finite(block)
        self.frames += block.shape[1]
        if self._file is not None:
            self._write(block)
            return
        self._pending.append(block)
        self._pending_frames += block.shape[1]
        if self._pending_frames >= CHUNK_FRAMES:
            self._seal()
            if self._scratch is not None and self.frames * self.channels * 4 > SPILL_BYTES:
                self._spill()

    def samples(self, frames: int) -> np.ndarray | Spilled:
        """The first ``frames`` frames, (channels, frames): one array in RAM (each chunk let go
        of once copied, last first, so that the song costs its size about once; thousands of
        small frames freed in order give nothing back to the system until the last), or read
        back from the file a slice at a time."""
        if self._file is not None:
            self._file.flush()
            return Spilled(self._file, self.channels, min(frames, self.frames))
        self._seal()
        samples = np.empty((self.channels, frames), dtype=np.float32)
        starts = np.cumsum([0] + [chunk.shape[1] for chunk in self._chunks[:-1]])
        while self._chunks:
            chunk, start = self._chunks.pop(), int(starts[len(self._chunks)])
            if start < frames:
                samples[:, start : start + chunk.shape[1]] = chunk[:, : frames - start]
            del chunk
        return samples

    def close(self) -> None:
        """Remove the file, if any (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _seal(self) -> None:
        if self._pending:
            self._chunks.append(np.concatenate(self._pending, axis=1, dtype=np.float32))
            self._pending, self._pending_frames = [], 0

    def _spill(self) -> None:
        try:
            self._folder = self._scratch()
            self._file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
                prefix="stemgui-decoding-", dir=self._folder
            )
        except OSError as error:  # the song stays in RAM, as it would without a folder
            where = self._folder or "the scratch folder"
            logger.warning("cannot decode into %s, decoding in memory: %s", where, error)
            self._scratch = None
            return
        while self._chunks:
            self._write(self._chunks.pop(0))

    def _write(self, block: np.ndarray) -> None:
        try:
            self._file.write(block.T.tobytes())  # frames one after the other
        except OSError as error:
            self.close()
            raise FileError(
                self._folder,
                f"cannot hold the song being decoded ({error.strerror or error}); free some"
                " space on that disk",
            ) from error


class Spilled:
    """A song in a temporary file, frame after frame, read as (channels, frames): only
    ``samples[:, start:stop]`` (a new array in RAM) is asked of it."""

    def __init__(self, file, channels: int, frames: int) -> None:
        self._file = file
        self.shape = (channels, frames)
        self.size = channels * frames

    def __getitem__(self, index: tuple[slice, slice]) -> np.ndarray:
        rows, columns = index
        if rows != slice(None):
            raise IndexError("a spilled song is read as samples[:, start:stop]")
        channels, frames = self.shape
        start, stop, step = columns.indices(frames)
        if step != 1:
            raise IndexError("a spilled song is read in one piece")
        block = np.empty((max(stop - start, 0), channels), dtype=np.float32)
        self._file.seek(start * channels * 4)
        if self._file.readinto(memoryview(block).cast("B")) != block.nbytes:
            raise OSError("the decoded song's temporary file was cut short")
        return block.T


@dataclass
class Raw:
    """What a reader gives :func:`stemgui.audio.decode.decode`: the song at its own rate."""

    samples: np.ndarray | Spilled  # (channels, frames) float32, NaN/infinite made 0
    samplerate: int
    roles: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()
    non_finite: int = 0  # samples that were NaN or infinite
    allocated: bool = False  # ``samples`` is the caller's array, the song as asked for
    gathered: Gathered | None = None  # where ``samples`` came from, to close once read
