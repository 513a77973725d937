"""libsndfile (soundfile) back end of :mod:`stemgui.audio.decode`: wav, flac, ogg/vorbis/opus,
aiff and mp3, with what its log says about a file cut short."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from stemgui.audio import _partial_reads
from stemgui.audio._gather import (
    Allocate,
    Gathered,
    Raw,
    Scratch,
    Spilled,
    in_ram,
    release_written,
    silence_non_finite,
)
from stemgui.audio.channels import VORBIS_ROLES
from stemgui.errors import DecodeError

logger = logging.getLogger(__name__)

_stderr_lock = threading.Lock()


@contextlib.contextmanager
def c_stderr_to_log(path: Path) -> Iterator[None]:
    """Send what the C libraries print on the process's stderr meanwhile to the log.

    libsndfile's mp3 decoder (libmpg123) prints there straight away: "Warning: Xing stream
    size off by more than 1%", "error: Giving up resync after 1024 bytes", lines naming no file,
    some saying "error" about a song that then decodes. What they mean is said in our own words
    (``_cut_short``, ``_partial_reads``); they go to the log, with the file's name, at debug
    level. Whatever another thread writes to stderr meanwhile goes there too.
    """
    with _stderr_lock:  # one redirection at a time, or the saved stderr would be a capture
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no stderr (a windowed app on Windows)
            yield
            return
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                said = capture.read().decode("utf-8", "replace").strip()
                if said:
                    logger.debug("%s: the decoder said: %s", path, " | ".join(said.splitlines()))


def read(
    path: Path,
    head: bytes,
    allocate: Allocate | None,
    wanted: tuple[int, int],
    scratch: Scratch | None,
) -> Raw | None:
    """Decode with libsndfile, or return None when it cannot (PyAV gets its turn). A song at
    the ``wanted`` (rate, channels) is read into the array ``allocate`` gives, if any; another
    is gathered (``scratch``: see :mod:`._gather`)."""
    import soundfile as sf

    gathered = None
    try:
        with c_stderr_to_log(path), sf.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            if (rate, handle.channels) == wanted:
                data, bad, allocated = _read_blocks(handle, allocate)  # (channels, frames)
            else:
                gathered = Gathered(scratch)
                data, allocated = _gather_blocks(handle, gathered), False
                bad = gathered.non_finite
            log = handle.extra_info
            stated, kind = max(int(handle.frames), 0), handle.format
    except MemoryError:
        _close(gathered)
        raise DecodeError(path, "is too long to decode in the memory available") from None
    except _NoArray as failure:
        raise failure.__cause__ from None
    except (sf.SoundFileError, RuntimeError, ValueError, OSError):
        _close(gathered)
        logger.debug("%s: soundfile cannot read it, trying PyAV", path, exc_info=True)
        return None
    if data.shape[1] == 0:
        _close(gathered)
        return None  # let PyAV try: it may read what libsndfile cannot, or confirm it is empty
    warnings: tuple[str, ...] = ()
    message = _cut_short(kind, log, head, data.shape[1], stated, rate)
    if message:
        logger.warning("%s: %s", path, message)
        warnings = (message,)
    roles = VORBIS_ROLES.get(data.shape[0]) if kind == "OGG" else None
    return Raw(data, int(rate), roles, warnings, bad, allocated, gathered)


def _close(gathered: Gathered | None) -> None:
    if gathered is not None:
        gathered.close()


def _cut_short(kind: str, log: str, head: bytes, frames: int, stated: int, rate: int) -> str | None:
    """What to tell the user when libsndfile's read shows the file was cut short, or None.

    ``kind`` is libsndfile's format name, ``log`` its log of the file, ``head`` the file's first
    bytes; ``frames`` were read of the ``stated`` the header gave.
    """
    if _header_promises_more(log):
        return "the file is shorter than its header says (truncated); decoded what is there"
    # An mp3 without a Xing/Info/VBRI header has its length estimated from its size, which
    # shrinks with a cut: only a stated length tells that frames are missing.
    if (
        kind == "MP3"
        and _partial_reads.states_length(head)
        and stated - frames > (_MP3_SLACK * stated + 2 * _MP3_FRAME)
    ):
        return (
            f"the file ends early: {frames / rate:.1f} s of the {stated / rate:.1f} s its"
            " header announces were decoded; it was cut short (an unfinished download or"
            " copy?), get it again if you can"
        )
    if kind == "OGG" and _OGG_CUT_SHORT.search(log):
        return (
            f"the file ends early: it stops without its last page, after {frames / rate:.1f} s;"
            " it was cut short (an unfinished download or copy?), get it again if you can"
        )
    return None


_MP3_SLACK = 0.01  # as libmpg123 allows a Xing header before it calls it off
_MP3_FRAME = 1152
# libsndfile's log of an Ogg Vorbis/Opus file that stops before its end-of-stream page.
_OGG_CUT_SHORT = re.compile(
    r"Last page lacks an end-of-stream bit|File ended unexpectedly without an End-Of-Stream"
)


_READ_BLOCK_FRAMES = 1 << 18


class _NoArray(Exception):
    """``allocate`` failed (its error is the cause): not a reason to try PyAV."""


def _read_blocks(handle, allocate: Allocate | None) -> tuple[np.ndarray, int, bool]:
    """Read an open ``soundfile.SoundFile`` into one (channels, frames) float32 array, into the
    one ``allocate`` gives if any; return it, how many samples were NaN or infinite (made 0),
    and whether it is ``allocate``'s.

    Block by block into the final array, so that a long song costs its own size once, not
    twice (a whole (frames, channels) read followed by its transposed copy), or nothing in a
    memory-mapped file. A file shorter than its header says yields the frames that are there,
    in RAM.
    """
    channels, expected = handle.channels, max(int(handle.frames), 0)
    try:
        samples = (allocate or in_ram)((channels, expected))
    except MemoryError:
        raise
    except Exception as error:  # the caller's (a full disk): not the file's fault
        raise _NoArray from error
    block = np.empty((min(_READ_BLOCK_FRAMES, max(expected, 1)), channels), dtype=np.float32)
    done = released = bad = 0
    while done < expected:
        n = handle.read(out=block[: min(len(block), expected - done)]).shape[0]
        if n == 0:
            break
        bad += silence_non_finite(block[:n].T)
        samples[:, done : done + n] = block[:n].T
        done += n
        released = release_written(samples, released, done)
    if done < expected:
        samples = np.array(samples[:, :done])  # in RAM: ``allocate`` gets the length after
        return samples, bad, False
    return samples, bad, allocate is not None


def _gather_blocks(handle, gathered: Gathered) -> np.ndarray | Spilled:
    """Read an open ``soundfile.SoundFile`` into ``gathered``; return what it holds."""
    expected = max(int(handle.frames), 0)
    while gathered.frames < expected:
        count = min(_READ_BLOCK_FRAMES, expected - gathered.frames)
        block = handle.read(count, "float32", always_2d=True)
        if len(block) == 0:
            break
        gathered.append(block.T)
    return gathered.samples(gathered.frames)


# libsndfile's log of a wav/aiff whose data chunk was cut: "data : 4000 (should be 1956)"
_CHUNK_SIZE_LOG = re.compile(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


_UNKNOWN_LENGTH = 0xFFFFFFFF  # what live recorders write before they know the length


def _header_promises_more(log: str) -> bool:
    """True when libsndfile reports a data chunk larger in the header than in the file."""
    return any(
        int(found) < int(declared) < _UNKNOWN_LENGTH
        for declared, found in _CHUNK_SIZE_LOG.findall(log)
    )
