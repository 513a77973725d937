"""Decode any song to one float32 buffer of shape (channels, frames) at the model's rate.

soundfile (libsndfile: wav, flac, ogg/vorbis/opus, aiff, mp3) is tried first; PyAV (its bundled
FFmpeg) reads everything else: m4a/aac, wma, and the first audio stream of a video (mp4, mkv,
webm, mov), and the files libsndfile would read only in part (joined mp3s, chained Oggs, an mp3
header with a damaged length: see :mod:`stemgui.audio._partial_reads`). The result is resampled
with julius (torch, imported only when the rate differs) and converted to the requested channel
count (see :mod:`stemgui.audio.channels`).

A file that cannot be used raises :class:`~stemgui.errors.DecodeError` and nothing else: missing,
a folder, not readable, empty, truncated or corrupt, not audio at all, no audio stream, an
unsupported codec, zero frames, or only NaN/infinite samples. Isolated NaN/infinite samples are
replaced by silence with a warning. Damaged packets in the middle of a compressed stream are
replaced by silence of their length, so that the audio after them stays in time with the
original, and a file cut short decodes what is there; both are reported in
:attr:`DecodedAudio.warnings` and the log.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

import numpy as np

from stemgui.audio import _partial_reads, _pyav
from stemgui.audio._gather import Gathered, Spilled, silence_non_finite
from stemgui.audio.channels import VORBIS_ROLES, convert_channels, wave_mask_roles
from stemgui.audio.sniff import not_audio_kind
from stemgui.errors import DecodeError

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {
        # libsndfile
        ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".aifc", ".mp3",
        # FFmpeg (PyAV): audio containers
        ".m4a", ".aac", ".wma", ".mka", ".ac3", ".caf", ".wv",
        # FFmpeg (PyAV): videos, first audio stream
        ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".wmv",
    }
)  # fmt: skip

_HEAD_BYTES = 4096


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded song.

    ``samples`` has shape (channels, frames), float32, at ``samplerate``. ``original_samplerate``
    and ``original_channels`` describe the file; ``duration`` is its length in seconds.
    ``warnings`` lists what was repaired on the way (damaged packets, NaN samples).
    """

    samples: np.ndarray
    samplerate: int
    original_samplerate: int
    original_channels: int
    duration: float
    path: Path
    warnings: tuple[str, ...] = field(default=())

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learns from a file's headers without decoding it.

    ``duration`` is in seconds, None when the container does not say. ``container`` is the file
    format ("wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2"), ``codec`` the audio codec ("pcm_16", "aac").
    """

    path: Path
    duration: float | None
    samplerate: int
    channels: int
    codec: str
    container: str


Allocate = Callable[[tuple[int, int]], np.ndarray]


def decode(
    path: str | os.PathLike[str],
    samplerate: int = 44100,
    channels: int = 2,
    *,
    allocate: Allocate | None = None,
    scratch: Path | None = None,
) -> DecodedAudio:
    """Read ``path`` as float32 (channels, frames) at ``samplerate``; DecodeError if unusable.

    ``channels`` is 1 or 2 (or the file's own count): mono is duplicated to stereo, multichannel
    is downmixed to stereo, anything is averaged to mono.

    ``allocate(shape)`` gives the C-ordered float32 array the song is written into, a block at
    a time (default: a new one in RAM); a caller that keeps a long song off the RAM hands out a
    memory-mapped file, whose pages written are let go of (``stemgui.spool``). A wav, flac or
    mp3 at ``samplerate`` with ``channels`` goes straight into it; other songs are decoded at
    their own rate first, a long one into an anonymous temporary file in the ``scratch`` folder
    if given, else in RAM (about its size). ``allocate`` is called again when a file turns out
    shorter than its header said, after the array of the first call was dropped: the last
    call's array holds the song.
    """
    if samplerate <= 0:
        raise ValueError(f"samplerate must be positive, got {samplerate}")
    if channels <= 0:
        raise ValueError(f"channels must be positive, got {channels}")
    path = Path(path)
    head = _check_file(path)

    warnings: list[str] = []
    raw = None
    try:
        pyav_reason = _partial_reads.pyav_reason(path, head)
    except (OSError, ValueError):  # unreadable now: libsndfile says so in its words, or PyAV
        logger.debug("%s: its whole length was not checked", path, exc_info=True)
        pyav_reason = None
    if pyav_reason is None:
        raw = _read_soundfile(path, head, allocate, (samplerate, channels), scratch)
    elif pyav_reason:
        logger.warning("%s: %s", path, pyav_reason)
        warnings.append(pyav_reason)
    if raw is None:
        raw = _read_pyav(path, head, scratch)
    try:
        return _decoded(path, head, raw, warnings, samplerate, channels, allocate)
    finally:
        if raw.gathered is not None:
            raw.gathered.close()  # its file, if any


def _decoded(
    path: Path,
    head: bytes,
    raw: _Raw,
    warnings: list[str],
    samplerate: int,
    channels: int,
    allocate: Allocate | None,
) -> DecodedAudio:
    warnings.extend(raw.warnings)
    source_channels, frames = raw.samples.shape
    if raw.roles is None and source_channels > 2:  # libsndfile's: the order a WAV's mask says
        raw.roles = wave_mask_roles(head, source_channels)
    if frames == 0:
        _refuse(path, head, _pyav.ZERO_FRAMES)

    if raw.non_finite == raw.samples.size:
        raise DecodeError(
            path, "contains no valid samples (all are NaN or infinite); the file is damaged"
        )
    if raw.non_finite:
        message = f"{raw.non_finite} NaN or infinite samples replaced by silence"
        logger.warning("%s: %s", path, message)
        warnings.append(message)

    rate = raw.samplerate
    samples = _finish(path, head, raw, samplerate, channels, allocate)
    return DecodedAudio(
        samples=samples,
        samplerate=samplerate,
        original_samplerate=rate,
        original_channels=source_channels,
        duration=frames / rate,
        path=path,
        warnings=tuple(warnings),
    )


def _finish(
    path: Path,
    head: bytes,
    raw: _Raw,
    samplerate: int,
    channels: int,
    allocate: Allocate | None,
) -> np.ndarray:
    """``raw`` at ``samplerate`` with ``channels``, written a block at a time into the array
    ``allocate`` gives (``raw.samples`` itself when it is that already, or needs no change and
    no array was asked for)."""
    samples, rate = raw.samples, raw.samplerate
    source, frames = samples.shape
    unchanged = rate == samplerate and source == channels and isinstance(samples, np.ndarray)
    if raw.allocated or (allocate is None and unchanged):
        return samples
    try:
        resampler = _BlockResampler(rate, samplerate) if rate != samplerate else None
    except ValueError as error:
        raise DecodeError(path, f"cannot be used: {error}; the file is damaged") from error
    length = resampler.length(frames) if resampler else frames
    if length == 0:  # a sample or two at a higher rate resamples to nothing
        _refuse(path, head, _pyav.ZERO_FRAMES)

    def convert(block: np.ndarray) -> np.ndarray:
        try:
            return convert_channels(block, channels, raw.roles)
        except ValueError as error:
            raise DecodeError(
                path, f"cannot be converted to {channels} channels: {error}"
            ) from error

    released = 0
    try:
        out = (allocate or _in_ram)((channels, length))
        if resampler is None:
            blocks = (
                (start, convert(samples[:, start : start + _READ_BLOCK_FRAMES]))
                for start in range(0, frames, _READ_BLOCK_FRAMES)
            )
        else:  # the fewer channels first: a downmix before, a duplication after
            blocks = resampler.blocks(
                samples,
                before=convert if source > channels else None,
                after=convert if source <= channels else None,
            )
        for start, block in blocks:
            out[:, start : start + block.shape[1]] = block
            released = _release_written(out, released, start + block.shape[1])
    except MemoryError:
        raise DecodeError(path, "is too long to decode in the memory available") from None
    except RuntimeError as error:  # torch reports allocation failures as RuntimeError
        if "memory" not in str(error).lower():
            raise
        raise DecodeError(path, "is too long to decode in the memory available") from error
    return out


def _in_ram(shape: tuple[int, int]) -> np.ndarray:
    return np.empty(shape, dtype=np.float32)


def _release_written(out: np.ndarray, released: int, written: int) -> int:
    """Let go of the pages of a memory-mapped ``out`` written so far (``spool.release_done``)."""
    if not isinstance(out, np.memmap):
        return released
    from stemgui.spool import release_done

    return release_done(out, released, written)


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read duration, rate, channels and codec from the headers; raise DecodeError if unusable."""
    import soundfile as sf

    path = Path(path)
    head = _check_file(path)
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError, ValueError, OSError):
        logger.debug("%s: soundfile cannot probe it, trying PyAV", path, exc_info=True)
    else:
        if info.frames == 0:
            _refuse(path, head, _pyav.ZERO_FRAMES)
        if info.samplerate > 0:
            return AudioInfo(
                path=path,
                duration=info.frames / info.samplerate,
                samplerate=int(info.samplerate),
                channels=int(info.channels),
                codec=str(info.subtype).lower(),
                container=str(info.format).lower(),
            )
    try:
        found = _pyav.probe(path)
    except _pyav.Failure as failure:
        _refuse(path, head, failure.reason)
    return AudioInfo(path=path, **found)


def find_audio_files(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> list[Path]:
    """Expand ``paths`` into the songs to process.

    Files are kept as given whatever their extension (decode reports what is wrong with them).
    Folders are searched recursively for files with a supported extension (any case), skipping
    hidden files and folders (names starting with "."), and their finds are sorted by path,
    component by component, ignoring case ("cd1/02.mp3" < "cd2/01.mp3" < "Intro.mp3"). The order of
    ``paths`` is kept and each file appears once. A path that does not exist is kept, so that the
    caller reports it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    seen: set[Path] = set()

    def add(candidate: Path) -> None:
        key = candidate.absolute()
        if key not in seen:
            seen.add(key)
            found.append(candidate)

    for item in paths:
        path = Path(item)
        if not path.is_dir():
            add(path)
            continue
        matches = []
        for root, dirs, files in os.walk(path):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_EXTENSIONS:
                    matches.append(Path(root) / name)
        for match in sorted(matches, key=lambda p: _sort_key(p.relative_to(path))):
            add(match)
    return found


# -- internals -----------------------------------------------------------------------------


def _sort_key(relative: Path) -> tuple:
    """Folder by folder, ignoring case first ("b.mp3" before "C.mp3"), then exactly."""
    return tuple((part.casefold(), part) for part in relative.parts)


@dataclass
class _Raw:
    samples: np.ndarray | Spilled  # (channels, frames) float32, NaN/infinite made 0
    samplerate: int
    roles: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()
    non_finite: int = 0  # samples that were NaN or infinite
    allocated: bool = False  # ``samples`` is the caller's array, the song as asked for
    gathered: Gathered | None = None  # where ``samples`` came from, to close once read


def _check_file(path: Path) -> bytes:
    """Fail early on a missing, folder, unreadable or empty path; return the first bytes."""
    if path.is_dir():
        raise DecodeError(path, "is a folder, not a file; choose an audio file inside it")
    if path.exists() and not path.is_file():
        raise DecodeError(path, "is not a regular file (a device or a pipe); choose an audio file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise DecodeError(path, "does not exist; check the name or choose another file") from None
    except PermissionError:
        raise DecodeError(
            path, "cannot be read: permission denied; check the file's permissions"
        ) from None
    except OSError as error:
        raise DecodeError(path, f"cannot be read: {error.strerror or error}") from error
    if not head:
        raise DecodeError(path, "is empty (0 bytes); the download or copy did not finish")
    return head


_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _c_stderr_to_log(path: Path) -> Iterator[None]:
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


def _read_soundfile(
    path: Path,
    head: bytes,
    allocate: Allocate | None,
    wanted: tuple[int, int],
    scratch: Path | None,
) -> _Raw | None:
    """Decode with libsndfile, or return None when it cannot (PyAV gets its turn). A song at
    the ``wanted`` (rate, channels) is read into the array ``allocate`` gives, if any; another
    is gathered (``scratch``: see :mod:`._gather`)."""
    import soundfile as sf

    gathered = None
    try:
        with _c_stderr_to_log(path), sf.SoundFile(str(path)) as handle:
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
    return _Raw(data, int(rate), roles, warnings, bad, allocated, gathered)


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
        samples = (allocate or _in_ram)((channels, expected))
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
        released = _release_written(samples, released, done)
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


def _read_pyav(path: Path, head: bytes, scratch: Path | None) -> _Raw:
    try:
        decoded = _pyav.decode(path, scratch)
    except _pyav.Failure as failure:
        _refuse(path, head, failure.reason)
    except MemoryError:
        raise DecodeError(path, "is too long to decode in the memory available") from None
    except ValueError as error:  # PyAV's word for frames it cannot convert or join
        logger.debug("%s: PyAV cannot decode it", path, exc_info=True)
        raise DecodeError(
            path, "could not be decoded: it is damaged; try re-downloading or re-exporting it"
        ) from error
    gathered = decoded.gathered
    try:
        samples = gathered.samples(decoded.frames)
    except MemoryError:
        gathered.close()
        raise DecodeError(path, "is too long to decode in the memory available") from None
    return _Raw(
        samples,
        decoded.samplerate,
        decoded.roles,
        decoded.warnings,
        gathered.non_finite,
        gathered=gathered,
    )


def _refuse(path: Path, head: bytes, reason: str) -> NoReturn:
    """Raise DecodeError with ``reason``, unless the bytes show it is not audio at all."""
    kind = not_audio_kind(head)
    if kind is not None:
        raise DecodeError(
            path, f"is not an audio file (it looks like {kind}); choose a song or a video"
        )
    raise DecodeError(path, reason)


# julius builds one filter per output phase: (target / gcd) filters of (source / gcd + 2 * width)
# taps. An odd rate (a prime, or a damaged header) makes that bank gigabytes, built in a Python
# loop; above this many values the ratio is approximated instead (see ``resample_rates``).
_MAX_FILTER_VALUES = 1 << 22
_MAX_SOURCE_RATE = 10_000_000  # beyond any real recording: a damaged header
_GOOD_ENOUGH = 1e-4  # relative pitch error of an approximated ratio: 0.17 cent, inaudible


def _filter_width(old: int, new: int) -> int:
    """How many input frames julius's filter reaches either side (its zeros=24, rolloff)."""
    return math.ceil(24 * old / (min(old, new) * 0.945))


def _filter_values(source: int, target: int) -> int:
    """Values in julius's filter bank for ``source`` -> ``target`` Hz."""
    gcd = math.gcd(source, target)
    old, new = source // gcd, target // gcd
    if old == new:
        return 0
    return new * (2 * _filter_width(old, new) + old)


def resample_rates(source: int, target: int) -> tuple[int, int]:
    """The (old, new) rates to hand julius for ``source`` -> ``target`` Hz.

    The exact pair when its filter bank is small (every common rate); otherwise the nearest
    ratio with a small enough bank, which changes the pitch by far less than anyone hears
    (under 0.05 %, less than a cent). ValueError for rates no recording has.
    """
    if not 0 < source <= _MAX_SOURCE_RATE:
        raise ValueError(f"a sample rate of {source} Hz is impossible")
    if _filter_values(source, target) <= _MAX_FILTER_VALUES:
        return source, target
    ratio = Fraction(target, source)
    fitting = []
    for bound in (10, 30, 100, 300, 1000, 3000, 10000):  # smallest bank first: faster
        approx = ratio.limit_denominator(bound)
        if approx and _filter_values(approx.denominator, approx.numerator) <= _MAX_FILTER_VALUES:
            error = abs(approx - ratio) / ratio
            if error <= _GOOD_ENOUGH:
                return approx.denominator, approx.numerator
            fitting.append((error, approx))
    if not fitting:
        raise ValueError(f"cannot resample {source} Hz to {target} Hz")
    best = min(fitting)[1]
    return best.denominator, best.numerator


class _BlockResampler:
    """julius's resampling of a song, a block at a time: the samples of one
    ``julius.resample_frac`` of the whole song, without its copies of it (the padded input and
    the convolution's output cost 4.3 times the song at the peak).

    julius cuts the input in periods of ``old`` frames, each giving ``new`` frames; one
    period's output reads ``width`` frames either side of it. A block of periods is resampled
    with a margin of whole periods around it that covers that reach, and its output cut back
    to its own periods; at the ends of the song, julius's own padding applies, as in one call.
    """

    def __init__(self, source: int, target: int) -> None:
        import julius

        old, new = resample_rates(source, target)
        if (old, new) != (source, target):
            logger.info("resampling %d Hz as %d/%d of it (an approximation)", source, new, old)
        gcd = math.gcd(old, new)
        self.old, self.new = old // gcd, new // gcd
        self._julius = julius.ResampleFrac(self.old, self.new)
        self._margin = -(-_filter_width(self.old, self.new) // self.old)  # in periods

    def length(self, frames: int) -> int:
        """The frames ``frames`` input frames resample to (as julius counts them)."""
        return self.new * frames // self.old

    def blocks(
        self,
        samples: np.ndarray,
        before: Callable[[np.ndarray], np.ndarray] | None = None,
        after: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first output frame, block) of ``samples`` (channels, frames) resampled, in order;
        ``before``/``after`` change each block's channels before or after it is resampled."""
        import torch

        frames = samples.shape[1]
        length, periods = self.length(frames), -(-frames // self.old)
        step = max(_READ_BLOCK_FRAMES // self.old, 1)
        for first in range(0, periods, step):
            last = min(first + step, periods)
            low = max(first - self._margin, 0)
            piece = samples[:, low * self.old : min((last + self._margin) * self.old, frames)]
            if before is not None:
                piece = before(piece)
            with torch.inference_mode():
                resampled = self._julius(torch.from_numpy(np.ascontiguousarray(piece))).numpy()
            skip = (first - low) * self.new
            count = min((last - first) * self.new, length - first * self.new)
            if count > 0:
                block = resampled[:, skip : skip + count]
                yield first * self.new, block if after is None else after(block)
