"""Multitrack data: MUSDB18 ``.stem.mp4`` files and folders of stems, decoded once and cached.

A track is five aligned signals — the mixture and the four sources — stored after the first
decode as one float32 ``.npy`` array of shape (1 + sources, channels, frames) in a cache folder,
then memory-mapped, so that drawing random excerpts (``training.sampler``) costs no decoding.

Layouts understood:
- ``NAME.stem.mp4`` (MUSDB18): audio streams 0 mixture, 1 drums, 2 bass, 3 other, 4 vocals.
- a folder holding ``drums``, ``bass``, ``other``, ``vocals`` files (wav, flac, …) and optionally
  ``mixture`` (MUSDB18-HQ, a user's own multitracks); without a mixture file the mixture is the sum.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stemgui.audio.atomic import atomic_path, clean_stale_parts
from stemgui.audio.files import SUPPORTED_EXTENSIONS, is_special
from stemgui.errors import DecodeError, NotAudioError
from training.options import writable_folder

log = logging.getLogger(__name__)

SOURCES = ("drums", "bass", "other", "vocals")
SAMPLERATE = 44100

# The standard MUSDB18 validation tracks (taken from the training split).
MUSDB_VALIDATION = frozenset(
    {
        "Actions - One Minute Smile",
        "Clara Berry And Wooldog - Waltz For My Victims",
        "Johnny Lokke - Promises & Lies",
        "Patrick Talbot - A Reason To Leave",
        "Triviul - Angelsaint",
        "Alexander Ross - Goodbye Bolero",
        "Fergessen - Nos Palpitants",
        "Leaf - Summerghost",
        "Skelpolu - Human Mistakes",
        "Young Griffo - Pennies",
        "ANiMAL - Rockshow",
        "James May - On The Line",
        "Meaxic - Take A Step",
        "Traffic Experiment - Sirens",
    }
)

# Written by ``training.gpu.pack`` into the folder it fills: which data it was packed from, and how.
PACK_RECORD = "packed.json"

# A track's signals may differ this much in length (AAC streams: a few samples), in seconds; and
# it must last this long (the oracle baseline's 4096-point STFT needs 0.1 s).
MAX_LENGTH_GAP = 0.1
MIN_SECONDS = 0.2

STEM_SUFFIX = ".stem.mp4"
# What a track is, in the words of the messages that name one.
TRACK_LAYOUTS = "a .stem.mp4 file or a folder of drums, bass, other and vocals files"
_AUDIO_SUFFIXES = SUPPORTED_EXTENSIONS  # what the app decodes: .opus and .m4a stems too


@dataclass(frozen=True)
class TrackSource:
    """Where one multitrack lives: a ``.stem.mp4`` file or a folder of stem files."""

    name: str
    path: Path

    @property
    def is_stem_file(self) -> bool:
        return self.path.name.endswith(STEM_SUFFIX)


def discover(roots: Iterable[str | Path]) -> list[TrackSource]:
    """Every multitrack under ``roots``, sorted by name.

    Raises:
        FileNotFoundError: a root does not exist.
        ValueError: a root is a file other than a ``.stem.mp4``; two tracks have one name
            (``cd1/01`` and ``cd2/01``), naming both; a stems folder holds two files of one
            stem.
    """
    found: dict[str, TrackSource] = {}
    for root in map(Path, roots):
        if not os.path.exists(root):  # Path.exists raised "File name too long" on a long name
            raise FileNotFoundError(f"{root}: no such data folder")
        if root.is_file() and not root.name.endswith(STEM_SUFFIX):  # one stem: bass.wav
            # bass.wav and ../bass.wav: their folder as written, . and .., says nothing
            named = root.parent.name not in ("", "..")
            folder = root.parent if named else Path(os.path.abspath(root)).parent
            raise ValueError(
                f"{root}: is a file, not a track ({TRACK_LAYOUTS}) nor a folder of tracks; name "
                f"its folder, {folder}"
            )
        # A root may itself be one track: a .stem.mp4 file or a stems folder.
        candidates = [root] if root.is_file() else [root, *sorted(root.rglob("*"))]
        for path in candidates:
            if path.is_file() and path.name.endswith(STEM_SUFFIX):
                name = path.name[: -len(STEM_SUFFIX)]
            elif path.is_dir() and (files := _stem_files(path)):
                if special := [p.name for p in files.values() if is_special(p)]:
                    one = len(special) == 1  # opening a pipe waits for a writer for ever
                    log.warning(
                        "%s: left out, its %s %s (a named pipe, a socket or a device); put %s",
                        path,
                        " and ".join(special),
                        "is not a regular file" if one else "are not regular files",
                        "an audio file in its place" if one else "audio files in their place",
                    )
                    continue
                missing = [s for s in SOURCES if s not in files]
                if missing:  # a misnamed or missing stem: say so rather than drop the track
                    log.warning(
                        "%s: left out, it has no %s (a stems folder holds audio files named "
                        "%s, and maybe mixture)",
                        path,
                        " or ".join(missing),
                        ", ".join(SOURCES),
                    )
                    continue
                extra = sorted(
                    p.name
                    for p in path.iterdir()
                    if p.is_file()
                    and p.suffix.lower() in _AUDIO_SUFFIXES
                    and p not in files.values()
                )
                if extra:  # a piano stem: trained without it, but a mixture file may hold it
                    log.warning(
                        "%s: %s left out (the stems are %s)%s",
                        path,
                        ", ".join(extra),
                        ", ".join(SOURCES),
                        "; its mixture file may hold them, and validation then scores another "
                        "input than training saw: add them to other"
                        if "mixture" in files
                        else "",
                    )
                name = path.name
            else:
                continue
            earlier = found.setdefault(name, TrackSource(name, path)).path
            if earlier.resolve() != path.resolve():  # not the same track reached twice
                raise ValueError(
                    f"two tracks named {name}: {earlier} and {path}; tracks are told apart by "
                    "name (validation, scores): rename one, or leave one out of the data roots"
                )
    return [found[name] for name in sorted(found)]


def describe(root: str | Path) -> str:
    """A data root as a reader on another machine knows it: its last two folders
    (``musdb18-7/train``), or for a copy ``training.gpu.pack`` wrote, what it was packed from."""
    root = Path(root).resolve()
    record = root / PACK_RECORD
    if record.is_file():
        packed = json.loads(record.read_text(encoding="utf-8"))
        return f"{', '.join(packed['from'])} (packed as {packed['format']})"
    return "/".join(root.parts[-2:])


def split_validation(
    tracks: Sequence[TrackSource], validation: Iterable[str] = MUSDB_VALIDATION
) -> tuple[list[TrackSource], list[TrackSource]]:
    """(train, valid): tracks named in ``validation`` go to valid, the others to train."""
    names = set(validation)
    return [t for t in tracks if t.name not in names], [t for t in tracks if t.name in names]


def _stem_files(folder: Path) -> dict[str, Path]:
    """The audio files of ``folder`` named after a source or "mixture", by that role: a named
    pipe, a socket or a device so named too (``is_special``), for ``discover`` to refuse.

    Raises:
        ValueError: two files of one role (``drums.wav`` and ``drums.flac``), naming both.
    """
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        # os.path: a link to nothing or a loop is no file; a folder named drums.wav neither
        there = os.path.exists(path) and not os.path.isdir(path)
        if there and path.suffix.lower() in _AUDIO_SUFFIXES:
            role = path.stem.lower()
            if role in files:  # which one was read hung on the order the disk lists them
                raise ValueError(
                    f"{folder}: two {role} files, {files[role].name} and {path.name}; keep one"
                )
            if role in SOURCES or role == "mixture":
                files[role] = path
    return files


def read_track(track: TrackSource, samplerate: int = SAMPLERATE) -> np.ndarray:
    """Decode a multitrack: float32 (1 + sources, channels, frames), the mixture first.

    All signals are cut to the shortest one (AAC streams may differ by a few samples).

    Raises:
        DecodeError: a file does not decode; the signals differ in length by more than
            ``MAX_LENGTH_GAP`` seconds (a stem that does not cover the song); it lasts under
            ``MIN_SECONDS``.
    """
    if track.is_stem_file:
        signals = _read_stem_mp4(track.path, samplerate)
    else:
        signals = _read_stem_folder(track.path, samplerate)
    lengths = [s.shape[-1] for s in signals]
    frames = min(lengths)
    if max(lengths) - frames > MAX_LENGTH_GAP * samplerate:
        seconds = ", ".join(
            f"{role} {length / samplerate:.2f}"
            for role, length in zip(("mixture", *SOURCES), lengths)
        )
        raise DecodeError(
            track.path, f"its signals differ in length ({seconds} s); each must cover the song"
        )
    if frames < MIN_SECONDS * samplerate:
        raise DecodeError(
            track.path, f"it lasts {frames / samplerate:.2f} s; a track needs {MIN_SECONDS} s"
        )
    return np.stack([s[:, :frames] for s in signals]).astype(np.float32, copy=False)


def _read_stem_mp4(path: Path, samplerate: int) -> list[np.ndarray]:
    import av

    try:
        with av.open(str(path)) as container:
            streams = list(container.streams.audio)
            if len(streams) < 1 + len(SOURCES):
                raise DecodeError(
                    path,
                    f"a stem file needs {1 + len(SOURCES)} audio streams (mixture, "
                    f"{', '.join(SOURCES)}); this one has {len(streams)}",
                )
            signals = []
            for stream in streams[: 1 + len(SOURCES)]:
                container.seek(0)
                resampler = av.AudioResampler(format="fltp", layout="stereo", rate=samplerate)
                chunks = []
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray())
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
                signals.append(np.concatenate(chunks, axis=1).astype(np.float32))
    except av.error.FFmpegError as error:
        # FFmpeg's own words, without its "[Errno 1094995529] ...: '<the path again>'"
        raise DecodeError(
            path,
            f"cannot be read as a stem file ({error.strerror or error}): it is cut short, "
            "damaged or not a .stem.mp4; download it again, or move it out of the data folder",
        ) from error
    return signals


def _read_stem_folder(folder: Path, samplerate: int) -> list[np.ndarray]:
    from stemgui.audio.decode import decode

    files = _stem_files(folder)
    if not all(s in files for s in SOURCES):
        raise DecodeError(folder, f"a stems folder needs files named {', '.join(SOURCES)}")

    def read(role: str) -> np.ndarray:
        try:
            return decode(files[role], samplerate=samplerate).samples
        except NotAudioError as error:  # the app's advice, "choose a song", means nothing here
            said = error.reason.partition(";")[0]  # "is not an audio file (it looks like text)"
            raise DecodeError(
                error.path,
                f"{said}; put the track's {role} stem in its place, or move {folder} out of "
                "the data folder",
            ) from None

    stems = [read(s) for s in SOURCES]
    if "mixture" in files:
        mixture = read("mixture")
    else:
        frames = min(s.shape[-1] for s in stems)
        mixture = np.sum([s[:, :frames] for s in stems], axis=0)
    return [mixture, *stems]


class TrackCache:
    """Decoded tracks kept as ``.npy`` files in ``folder`` and memory-mapped on use."""

    def __init__(self, folder: str | Path, samplerate: int = SAMPLERATE) -> None:
        self.folder = Path(folder)
        self.samplerate = samplerate

    def _file(self, track: TrackSource) -> Path:
        """The cache file of ``track`` as its files are now: a stem rewritten in a stems folder
        (which leaves the folder's own size and time as they were) makes another."""
        files = [track.path] if track.is_stem_file else sorted(_stem_files(track.path).values())
        stats = [(p.resolve(), p.stat()) for p in files]
        key = "|".join(f"{path}|{stat.st_size}|{stat.st_mtime_ns}" for path, stat in stats)
        key += f"|{self.samplerate}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in track.name)[:60]
        return self.folder / f"{safe}-{digest}.npy"

    def load(self, track: TrackSource) -> np.ndarray:
        """(1 + sources, channels, frames) float32, memory-mapped read-only; a cached file
        that is damaged (a disk filled, a copy cut short) is decoded again."""
        target = self._file(track)
        if os.path.exists(target):  # Path.exists raised on a cache folder's name too long
            try:
                return np.load(target, mmap_mode="r")
            except (OSError, ValueError, EOFError) as error:
                log.warning("%s: damaged (%s); decoding %s again", target, error, track.name)
                target.unlink(missing_ok=True)
        # A file in the way ("[Errno 17] File exists"), or a folder that cannot be written:
        # said before the decode, not as "[Errno 13] Permission denied: '<track>.npy'" after it.
        writable_folder(self.folder, "cache folder (--cache, or a recipe's [data] cache)")
        self.folder.mkdir(parents=True, exist_ok=True)
        # what a killed decode left (a full song's part holds hundreds of MB), a minute old
        clean_stale_parts(self.folder, older_than=60)
        data = read_track(track, self.samplerate)
        # each process its own part: torchrun's ranks decode a cold cache side by side; the
        # same bytes from whichever rank renames last
        with atomic_path(target, overwrite=True) as part, open(part, "wb") as handle:
            np.save(handle, data)
        log.info("cached %s (%d frames)", track.name, data.shape[-1])
        return np.load(target, mmap_mode="r")
