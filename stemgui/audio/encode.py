"""Write a float32 (channels, frames) buffer as wav, flac or mp3, atomically.

wav (16/24-bit PCM, 32-bit PCM or 32-bit float) and flac (16/24-bit) are written by soundfile,
block by block; mp3 by PyAV's bundled LAME encoder at a constant bit rate. Before quantising,
the clip mode of the Demucs command line is applied:

- ``rescale``: divide by ``max(1.01 * peak, 1)``, so nothing clips and quiet audio is untouched;
- ``clamp``: clip every sample to [-0.99, 0.99];
- ``none``: leave the samples as they are. Integer formats still saturate at full scale rather
  than wrap around; 32-bit float wav keeps values beyond ±1.

Every file goes through :func:`~stemgui.audio.atomic.atomic_path`: a failed write leaves nothing
under the final name, and an existing file is replaced only with ``overwrite=True``. Write
failures (the disk, the folder, the encoder: ``write_errors``) raise
:class:`~stemgui.errors.EncodeError` naming the file and saying what to do; anything else (a bug)
goes out as it is.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stemgui.audio.atomic import atomic_path, staged_path
from stemgui.errors import Cancelled, EncodeError

logger = logging.getLogger(__name__)

KINDS = ("wav", "flac", "mp3")
CLIP_MODES = ("rescale", "clamp", "none")
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MP3_SAMPLERATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_BLOCK_FRAMES = 1 << 16
_LOW_SPACE_BYTES = 1 << 20
RIFF_BYTES = 1 << 32
"""What a plain RIFF WAV holds: its sizes are 32-bit; past them a wav is written as RF64."""
_WAV_HEADER_ROOM = 1 << 20  # a wav's header, its INFO tags (2000 bytes each) and ID3 chunk
ELSEWHERE = "choose another folder"
"""What a write error says to do to write the file elsewhere (``explain_write_error``)."""


@dataclass(frozen=True)
class AudioFormat:
    """How to write a stem.

    ``kind`` "wav" | "flac" | "mp3"; ``bits`` 16 | 24 | 32 (wav and flac; 32 only for wav);
    ``float`` selects 32-bit float wav (requires bits=32); ``mp3_bitrate`` in kbps (mp3 only,
    constant bit rate); ``clip`` "rescale" | "clamp" | "none" (see the module docstring).
    Invalid combinations raise ValueError.
    """

    kind: str = "wav"
    bits: int = 16
    float: bool = False
    mp3_bitrate: int = 320
    clip: str = "rescale"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown audio format {self.kind!r}; use one of {KINDS}")
        if self.clip not in CLIP_MODES:
            raise ValueError(f"unknown clip mode {self.clip!r}; use one of {CLIP_MODES}")
        if self.kind == "wav" and self.bits not in (16, 24, 32):
            raise ValueError(f"wav is written with 16, 24 or 32 bits, not {self.bits}")
        if self.kind == "flac" and self.bits not in (16, 24):
            raise ValueError(f"flac is written with 16 or 24 bits, not {self.bits}")
        if self.float and (self.kind != "wav" or self.bits != 32):
            raise ValueError("float samples are only written as 32-bit wav")
        if self.kind == "mp3" and self.mp3_bitrate not in MP3_BITRATES:
            raise ValueError(f"mp3 bit rate {self.mp3_bitrate} kbps is not one of {MP3_BITRATES}")

    @property
    def extension(self) -> str:
        """File extension without the dot: "wav", "flac" or "mp3"."""
        return self.kind

    @property
    def subtype(self) -> str | None:
        """libsndfile subtype for wav/flac ("PCM_16", "PCM_24", "PCM_32", "FLOAT"); None for mp3."""
        if self.kind == "mp3":
            return None
        return "FLOAT" if self.float else f"PCM_{self.bits}"


def major_format(fmt: AudioFormat, channels: int, frames: int) -> str:
    """libsndfile's major format for ``frames`` frames of ``channels`` in ``fmt`` (wav or
    flac): "FLAC"; "WAV", the most widely read, while the file stays under the 4 GiB its RIFF
    sizes hold (``RIFF_BYTES``); "RF64" (EBU Tech 3306) past them, where libsndfile's WAV
    says 4 GiB and readers lose the rest (32-bit float stereo at 44.1 kHz: about 3.4 hours)."""
    if fmt.kind != "wav":
        return fmt.kind.upper()
    samples = channels * frames * fmt.bits // 8
    return "RF64" if samples + _WAV_HEADER_ROOM > RIFF_BYTES else "WAV"


def mp3_max_bitrate(samplerate: int) -> int:
    """The highest bit rate in kbps an mp3 holds at ``samplerate``: 320 at 32-48 kHz (MPEG-1),
    160 at 16-24 kHz (MPEG-2), 64 below (MPEG-2.5). LAME, asked for more, writes that without a
    word (320 kbps asked at 22.05 kHz: a 160 kbps file)."""
    return 320 if samplerate >= 32000 else 160 if samplerate >= 16000 else 64


def apply_clip(samples: np.ndarray, mode: str) -> np.ndarray:
    """Apply a clip mode to float samples (any shape); returns float32, never modifies the input."""
    samples = np.asarray(samples, dtype=np.float32)
    if mode == "rescale":
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        return samples / np.float32(max(1.01 * peak, 1.0))
    if mode == "clamp":
        return np.clip(samples, -0.99, 0.99)
    if mode == "none":
        return samples.copy()
    raise ValueError(f"unknown clip mode {mode!r}; use one of {CLIP_MODES}")


def write_audio(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    samplerate: int,
    fmt: AudioFormat,
    *,
    overwrite: bool = False,
    tags: Mapping[str, str] | None = None,
    part: Path | None = None,
) -> Path:
    """Write ``samples`` (channels, frames) float32 at ``samplerate`` to ``path`` in ``fmt``,
    with ``tags`` (``stemgui.audio.tags``: title, artist...).

    With ``part`` (``atomic.part_path_for(path)``), the file is written there and left for the
    caller to put in place (an export renames all its files together); errors still name
    ``path``, and ``overwrite`` is the caller's to check.

    Returns ``path``. Raises EncodeError when the folder is missing or not writable, the disk is
    full, the file exists and ``overwrite`` is False, or the format cannot hold this audio
    (mp3: at most 2 channels, the MPEG sample rates, and at each the bit rates of
    ``mp3_max_bitrate``). Bad arguments raise ValueError.
    """
    path = Path(path)
    samples = np.asarray(samples)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must have shape (channels, frames), got {samples.shape}")
    if samplerate <= 0:
        raise ValueError(f"samplerate must be positive, got {samplerate}")
    check_target(path, fmt, samples.shape[0], samplerate)
    samples = _finite(path, samples)
    samples = apply_clip(samples, fmt.clip)
    blocks = (
        samples[:, start : start + _BLOCK_FRAMES]
        for start in range(0, samples.shape[1], _BLOCK_FRAMES)
    )
    with encoding(path, overwrite, part) as written:
        write_encoded_blocks(
            written, blocks, samples.shape[0], samplerate, fmt, tags, frames=samples.shape[1]
        )
    logger.info("wrote %s (%s, %d frames)", path, fmt.kind, samples.shape[1])
    return path


@contextlib.contextmanager
def encoding(
    path: Path, overwrite: bool, part: Path | None = None, elsewhere: str = ELSEWHERE
) -> Iterator[Path]:
    """``atomic_path(path)`` whose write errors (``write_errors``) become one ``EncodeError``
    naming ``path`` and what to do (exists, disk full, read-only, codec errors...:
    ``explain_write_error``, with ``elsewhere``); nothing is left under ``path``. With
    ``part``: that temporary file (``atomic.staged_path``), which the caller puts in place;
    removed on failure. Any other exception (a bug in a block reader: an IndexError) goes out
    as it is, for the caller's unexpected-error path: no disk nor format can mend it."""
    staging = atomic_path(path, overwrite=overwrite) if part is None else staged_path(part)
    try:
        with staging as written:
            try:
                yield written
            except (Cancelled, EncodeError, FileExistsError):  # a cancel is no write error
                raise
            except write_errors() as error:
                # explained while the partial file still takes its room: libsndfile's "System
                # error." has no errno, and the disk is only seen full before the file goes
                reason = explain_write_error(path, error, elsewhere)
                raise EncodeError(path, reason) from error
    except FileExistsError:
        raise EncodeError(
            path, "already exists; allow overwriting or choose another name or folder"
        ) from None
    except (Cancelled, EncodeError):
        raise
    except write_errors() as error:  # the temporary file made, moved or synced
        raise EncodeError(path, explain_write_error(path, error, elsewhere)) from error


def write_errors() -> tuple[type[Exception], ...]:
    """What writing a file can raise: the OS's (``OSError``: disk full, read-only...),
    libsndfile's (``soundfile.SoundFileError``, "System error." among them) and FFmpeg's, its
    LAME encoder's included (``av.FFmpegError``). Imported when an error is matched, not
    before: PyAV loads FFmpeg."""
    import av
    import soundfile

    return (OSError, soundfile.SoundFileError, av.FFmpegError)


def check_target(path: Path, fmt: AudioFormat, channels: int, samplerate: int) -> None:
    folder = path.parent
    if not folder.exists():
        raise EncodeError(path, f"cannot be written: the folder {folder} does not exist; create it")
    if not folder.is_dir():
        raise EncodeError(path, f"cannot be written: {folder} is not a folder")
    if path.is_dir():
        raise EncodeError(path, "is a folder; choose a file name")
    if fmt.kind == "mp3":
        if channels > 2:
            raise EncodeError(path, f"mp3 holds at most 2 channels, not {channels}; use wav/flac")
        if samplerate not in MP3_SAMPLERATES:
            raise EncodeError(
                path, f"mp3 cannot hold audio at {samplerate} Hz; choose wav or flac instead"
            )
        if fmt.mp3_bitrate > (most := mp3_max_bitrate(samplerate)):
            raise EncodeError(
                path,
                f"an mp3 at {samplerate} Hz holds at most {most} kbps, not {fmt.mp3_bitrate}; "
                f"choose {most} kbps or less, or wav or flac",
            )


def _finite(path: Path, samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    finite = np.isfinite(samples)
    if finite.all():
        return samples
    bad = int(samples.size - np.count_nonzero(finite))
    logger.warning("%s: %d NaN or infinite samples written as silence", path, bad)
    return np.where(finite, samples, np.float32(0.0))


def write_encoded_blocks(
    part: Path,
    blocks: Iterable[np.ndarray],
    channels: int,
    samplerate: int,
    fmt: AudioFormat,
    tags: Mapping[str, str] | None = None,
    *,
    frames: int,
) -> None:
    """Write (channels, n) blocks in order in ``fmt``, with ``tags``: mp3 through LAME, the
    rest through libsndfile, quantising integer formats ourselves (saturating, rounded).
    ``frames``: how many the blocks hold, which makes a wav RF64 or not (``major_format``).
    Shared by ``write_audio`` and ``stream.write_blocks``."""
    if fmt.kind == "mp3":
        from stemgui.audio import _mp3

        _mp3.write(part, blocks, channels, samplerate, fmt.mp3_bitrate, tags)
        return
    import soundfile as sf

    from stemgui.audio.tags import add_tags_libsndfile_lacks, set_soundfile_tags

    # Opened here, handed over as a descriptor: libsndfile refuses paths over 1024 bytes (the
    # OS takes 4095), and an open that fails says why (errno) where libsndfile says "System
    # error.". A descriptor rather than a file object: libsndfile writes to it itself, so a
    # failed write is its error, not one lost in a callback.
    with (
        open(part, "wb") as file,
        sf.SoundFile(
            file.fileno(),
            mode="w",
            samplerate=samplerate,
            channels=channels,
            format=major_format(fmt, channels, frames),
            subtype=fmt.subtype,
            closefd=False,
        ) as handle,
    ):
        set_soundfile_tags(handle, tags or {})
        for block in blocks:
            handle.write(_quantise(block.T, fmt))
    add_tags_libsndfile_lacks(part, fmt.kind, tags or {})


def _quantise(block: np.ndarray, fmt: AudioFormat) -> np.ndarray:
    """float32 (frames, channels) -> what soundfile writes exactly for ``fmt``.

    16 bits: int16. 24 and 32 bits: int32 (libsndfile keeps the top 24 bits for PCM_24, so the
    24-bit value is shifted up by 8). Float: float32 as is.
    """
    if fmt.float:
        return np.ascontiguousarray(block, dtype=np.float32)
    bits = fmt.bits
    scale = float(1 << (bits - 1))
    values = np.clip(np.rint(block.astype(np.float64) * scale), -scale, scale - 1)
    if bits == 16:
        return values.astype(np.int16)
    values = values.astype(np.int32)
    return values << (32 - bits) if bits < 32 else values


def explain_write_error(path: Path, error: BaseException, elsewhere: str = ELSEWHERE) -> str:
    """A user-facing reason for a failed write of ``path``, with what to do: ``elsewhere``
    says how to write it to another folder, where the disk is full or the folder not writable
    (a drag cannot choose one)."""
    code = error.errno if isinstance(error, OSError) else None
    if code == errno.EEXIST:
        return (
            "could not be written: another program or export wrote this file meanwhile; "
            "export again and allow overwriting"
        )
    if code == errno.ENOSPC or _disk_nearly_full(path.parent):
        return f"could not be written: the disk is full; free some space or {elsewhere}"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        # the one that refused: not the folders of the template still to be made in it
        folder = next((p for p in path.parents if os.path.lexists(p)), path.parent)
        return (
            f"could not be written: the folder {folder} is not writable; "
            f"{elsewhere} or change its permissions"
        )
    # removed, or replaced by a file, meanwhile; libsndfile's "System error." has no errno
    if code in (errno.ENOENT, errno.ENOTDIR) or (code is None and not path.parent.is_dir()):
        return f"could not be written: the folder {path.parent} disappeared; create it again"
    detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    detail = getattr(error, "error_string", None) or detail  # libsndfile's, without its fd
    return f"could not be written ({detail or type(error).__name__}); try another folder or format"


def _disk_nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _LOW_SPACE_BYTES
    except OSError:
        return False
