"""Decode any song to one float32 buffer of shape (channels, frames) at the model's rate.

soundfile (libsndfile: wav, flac, ogg/vorbis/opus, aiff, mp3; :mod:`._soundfile`) is tried
first; PyAV (its bundled FFmpeg; :mod:`._pyav`) reads everything else: m4a/aac, wma, and the first
audio stream of a video (mp4, mkv, webm, mov), and the files libsndfile would read only in part
(joined mp3s, chained Oggs, an mp3 header with a damaged length: see :mod:`._partial_reads`). The
result is resampled with julius a block at a time (:mod:`stemgui.audio.resample`; torch is
imported only when the rate differs) and converted to the requested channel count (see
:mod:`stemgui.audio.channels`), into an array the caller may hand out: a long song goes to a
memory-mapped file without ever being whole in RAM (:mod:`._gather`).

A file that cannot be used raises :class:`~stemgui.errors.DecodeError` and nothing else: missing,
a folder, not readable, empty, truncated or corrupt, not audio at all, no audio stream, an
unsupported codec, zero frames, or only NaN/infinite samples (a folder, a device and a file that
is not audio at all raise its subclass :class:`~stemgui.errors.NotAudioError`). Isolated
NaN/infinite samples are replaced by silence with a warning. Damaged packets in the middle of a
compressed stream are replaced by silence of their length, so that the audio after them stays in
time with the original, and a file cut short decodes what is there; both are reported in
:attr:`DecodedAudio.warnings` and the log.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

from stemgui.audio import _partial_reads, _pyav, _soundfile
from stemgui.audio._gather import Allocate, Raw, Scratch, in_ram, release_written
from stemgui.audio.channels import convert_channels, wave_mask_roles
from stemgui.audio.files import NOT_REGULAR_FILE, is_special, link_loop, link_to_nothing
from stemgui.audio.resample import BlockResampler
from stemgui.audio.sniff import not_audio_kind
from stemgui.errors import DecodeError, NotAudioError

logger = logging.getLogger(__name__)

_HEAD_BYTES = 4096
_BLOCK_FRAMES = 1 << 18  # converted and written at a time


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded song.

    ``samples`` has shape (channels, frames), float32, at ``samplerate``. ``original_samplerate``,
    ``original_channels`` and ``original_frames`` describe the file (its stems written back at
    its rate have that many frames: ``stemgui.stems.stemset.StemSet.song``); ``duration`` is its
    length in seconds.
    ``warnings`` lists what was repaired on the way (damaged packets, NaN samples).
    """

    samples: np.ndarray
    samplerate: int
    original_samplerate: int
    original_channels: int
    original_frames: int
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


def decode(
    path: str | os.PathLike[str],
    samplerate: int = 44100,
    channels: int = 2,
    *,
    allocate: Allocate | None = None,
    scratch: Scratch | None = None,
) -> DecodedAudio:
    """Read ``path`` as float32 (channels, frames) at ``samplerate``; DecodeError if unusable.

    ``channels`` is 1 or 2 (or the file's own count): mono is duplicated to stereo, multichannel
    is downmixed to stereo, anything is averaged to mono.

    ``allocate(shape)`` gives the C-ordered float32 array the song is written into, a block at
    a time (default: a new one in RAM); a caller that keeps a long song off the RAM hands out a
    memory-mapped file, whose pages written are let go of (``stemgui.spool``). A wav, flac or
    mp3 at ``samplerate`` with ``channels`` goes straight into it; other songs are decoded at
    their own rate first, a long one into an anonymous temporary file in the folder that
    ``scratch()`` makes (once the song is that long) if given, else in RAM (about its size).
    ``allocate`` is called again when a file turns out shorter than its header said, after the
    array of the first call was dropped: the last call's array holds the song.
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
        raw = _soundfile.read(path, head, allocate, (samplerate, channels), scratch)
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
    raw: Raw,
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
        original_frames=frames,
        duration=frames / rate,
        path=path,
        warnings=tuple(warnings),
    )


def _finish(
    path: Path,
    head: bytes,
    raw: Raw,
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
        resampler = BlockResampler(rate, samplerate, _BLOCK_FRAMES) if rate != samplerate else None
    except ValueError as error:
        raise DecodeError(path, f"cannot be used: {error}; the file is damaged") from error
    length = resampler.length(frames) if resampler else frames
    if length == 0:  # a sample or two at a higher rate resamples to nothing
        _refuse(
            path,
            head,
            f"is too short: {frames} frame(s) at {rate} Hz are none at {samplerate} Hz; "
            "choose a longer song",
        )

    def convert(block: np.ndarray) -> np.ndarray:
        try:
            return convert_channels(block, channels, raw.roles)
        except ValueError as error:
            raise DecodeError(
                path, f"cannot be converted to {channels} channels: {error}"
            ) from error

    released = 0
    try:
        out = (allocate or in_ram)((channels, length))
        if resampler is None:
            blocks = (
                (start, convert(samples[:, start : start + _BLOCK_FRAMES]))
                for start in range(0, frames, _BLOCK_FRAMES)
            )
        else:  # the fewer channels first: a downmix before, a duplication after
            blocks = resampler.blocks(
                samples,
                before=convert if source > channels else None,
                after=convert if source <= channels else None,
            )
        for start, block in blocks:
            out[:, start : start + block.shape[1]] = block
            released = release_written(out, released, start + block.shape[1])
    except MemoryError:
        raise DecodeError(path, "is too long to decode in the memory available") from None
    except RuntimeError as error:  # torch reports allocation failures as RuntimeError
        if "memory" not in str(error).lower():
            raise
        raise DecodeError(path, "is too long to decode in the memory available") from error
    return out


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read duration, rate, channels and codec from the headers; raise DecodeError if unusable."""
    import soundfile as sf

    path = Path(path)
    head = _check_file(path)
    try:
        with _soundfile.c_stderr_to_log(path):
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


def refuse_special(path: str | os.PathLike[str]) -> None:
    """Refuse ``path`` if it is, or leads to, a named pipe, a socket or a device, told without
    opening it: opening a pipe that has no writer waits for ever. Callers that read a song
    before decoding it (the app hashes it for the stem cache) call it first.

    Raises:
        NotAudioError: saying so; a file, a folder and a missing path pass (decoding says what
            is wrong with the last two).
    """
    if not os.path.isdir(path) and is_special(path):
        raise NotAudioError(Path(path), f"is {NOT_REGULAR_FILE}; choose an audio file")


# -- internals -----------------------------------------------------------------------------


def _check_file(path: Path) -> bytes:
    """Fail early on a missing, folder, unreadable or empty path; return the first bytes."""
    # os.path's tests: pathlib's raise on a name too long for the disk, which open() says in words
    if os.path.isdir(path):
        raise NotAudioError(path, "is a folder, not a file; choose an audio file inside it")
    refuse_special(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        if path.is_symlink():  # the link is there to see: where it leads is not
            raise DecodeError(path, link_to_nothing(path)) from None
        raise DecodeError(path, "does not exist; check the name or choose another file") from None
    except PermissionError:
        raise DecodeError(
            path, "cannot be read: permission denied; check the file's permissions"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:  # not "Too many levels of symbolic links": what to do
            raise DecodeError(path, link_loop(path)) from None
        raise DecodeError(path, f"cannot be read: {error.strerror or error}") from error
    if not head:
        raise DecodeError(path, "is empty (0 bytes); the download or copy did not finish")
    return head


def _read_pyav(path: Path, head: bytes, scratch: Scratch | None) -> Raw:
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
    return Raw(
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
        raise NotAudioError(
            path, f"is not an audio file (it looks like {kind}); choose a song or a video"
        )
    raise DecodeError(path, reason)
