"""The bad-input corpus: every kind of odd or broken song file the issue lists, made on the spot.

``make_corpus(folder)`` writes the files and returns one ``Case`` per kind: the path to give the
command line and what must come of it, either a separation (``error is None``) or one error line
that names the file and contains ``error``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.audio.media import av_write, png_bytes, tone

RATE = 44100
LONG_SECONDS = 120.0  # "a long file" in the default suite; bench/long_song_memory.py does the hour


@dataclass(frozen=True)
class Case:
    kind: str
    path: Path
    error: str | None = None  # None: must separate; else a part of the one error line
    original: np.ndarray | None = None  # (channels, frames) at the file's rate, when known
    samplerate: int = RATE


def noise(channels: int, frames: int, seed: int, scale: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((channels, frames)) * scale).astype(np.float32)


def _wav(path: Path, samples: np.ndarray, rate: int, subtype: str = "FLOAT") -> Path:
    sf.write(path, samples.T, rate, subtype=subtype)
    return path


def _cut(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def write_long_flac(path: Path, seconds: float, seed: int = 5) -> None:
    """A 16-bit stereo flac of tones and noise, written 10 s at a time."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    with sf.SoundFile(path, "w", RATE, 2, format="FLAC", subtype="PCM_16") as handle:
        for start in range(0, frames, 10 * RATE):
            n = min(10 * RATE, frames - start)
            t = (start + np.arange(n)) / RATE
            block = 0.05 * rng.standard_normal((n, 2)) + 0.2 * np.sin(2 * np.pi * 110 * t)[:, None]
            handle.write(block.astype(np.float32))


def unreadable_path(folder: Path) -> Path | None:
    """A path that even root cannot open for reading, or None where there is none.

    Root bypasses file permissions, but not this: a write-only sysfs attribute (mode 0200,
    e.g. ``/sys/bus/pci/uevent``) has no read method, and the kernel answers EACCES to any
    open for reading. A symbolic link named like a song points at it. Opening it to read
    does nothing to the system. As a normal user, a file with mode 0 does the same.
    """
    path = folder / "locked song.wav"
    if os.geteuid() != 0:
        _wav(path, tone(RATE, 0.1), RATE)
        path.chmod(0)
        return path
    for candidate in sorted(Path("/sys/bus").glob("*/uevent")):
        try:
            with open(candidate, "rb"):
                pass
        except PermissionError:
            path.symlink_to(candidate)
            return path
        except OSError:
            continue
    return None


def make_corpus(folder: Path, long_seconds: float = LONG_SECONDS) -> list[Case]:
    """Write the corpus into ``folder`` (created); one Case per kind, each a distinct track name."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def ok(kind: str, path: Path, original=None, samplerate=RATE) -> None:
        cases.append(Case(kind, path, None, original, samplerate))

    def bad(kind: str, path: Path, error: str) -> None:
        cases.append(Case(kind, path, error))

    # -- broken or not audio ------------------------------------------------------------------
    (folder / "zero.wav").write_bytes(b"")
    bad("zero-byte file", folder / "zero.wav", "is empty (0 bytes)")

    whole = _wav(folder / ".whole.wav", tone(RATE, 0.5), RATE)
    ok("truncated wav (cut in the data)", _cut(whole, folder / "cut-wav.wav", 0.5))
    (folder / "cut-header.wav").write_bytes(whole.read_bytes()[:30])
    bad("truncated wav (cut in the header)", folder / "cut-header.wav", "truncated or corrupt")

    sf.write(folder / ".whole.flac", tone(RATE, 1.0).T, RATE)
    ok("truncated flac", _cut(folder / ".whole.flac", folder / "cut-flac.flac", 0.5))
    sf.write(folder / ".whole.mp3", tone(RATE, 1.0).T, RATE, format="MP3")
    ok("truncated mp3", _cut(folder / ".whole.mp3", folder / "cut-mp3.mp3", 0.5))
    av_write(folder / ".whole.mp4", tone(RATE, 0.5), RATE, "aac", "mp4")
    bad("truncated mp4", _cut(folder / ".whole.mp4", folder / "cut-mp4.mp4", 0.5),
        "truncated or corrupt")  # fmt: skip

    (folder / "lyrics.mp3").write_text("Hello, this is not a song.\n" * 40, encoding="utf-8")
    bad("text renamed .mp3", folder / "lyrics.mp3", "not an audio file (it looks like text)")
    (folder / "cover.wav").write_bytes(png_bytes())
    bad("PNG renamed .wav", folder / "cover.wav", "it looks like a PNG image")
    av_write(folder / "video.mp4", None, RATE, None, "mp4", video="mpeg4")
    bad("video without audio", folder / "video.mp4", "no audio stream")

    samples = noise(2, 4410, seed=1)
    raw = bytearray(_wav(folder / "liar.wav", samples, RATE).read_bytes())
    at = raw.index(b"data")
    size = struct.unpack("<I", raw[at + 4 : at + 8])[0]
    raw[at + 4 : at + 8] = struct.pack("<I", size * 3)  # claims three times the frames
    (folder / "liar.wav").write_bytes(bytes(raw))
    ok("wav header claiming more frames", folder / "liar.wav", samples)

    all_nan = np.full((2, 1000), np.nan, np.float32)
    bad("only NaN samples", _wav(folder / "all-nan.wav", all_nan, RATE), "NaN or infinite")

    # -- odd but valid ----------------------------------------------------------------------
    for rate, seconds in ((1, 3.0), (8000, 0.3), (384000, 0.2)):
        data = noise(2, int(rate * seconds), seed=rate)
        path = _wav(folder / f"rate-{rate}.wav", data, rate)
        ok(f"sample rate {rate} Hz", path, data, rate)
    for channels in (1, 6, 8):
        data = noise(channels, 8820, seed=channels)
        ok(f"{channels} channel(s)", _wav(folder / f"ch-{channels}.wav", data, RATE), data)
    for subtype in ("PCM_U8", "PCM_24", "DOUBLE"):
        data = noise(2, 8820, seed=7)
        ok(f"{subtype} samples", _wav(folder / f"{subtype.lower()}.wav", data, RATE, subtype))
    for value in (np.nan, np.inf):
        data = noise(2, 8820, seed=9)
        data[:, 100:200] = value
        data[0, 5000] = -value
        ok(f"{value} samples", _wav(folder / f"with-{value}.wav", data, RATE), data)
    silent = np.zeros((2, 8820), np.float32)
    ok("all-silent song", _wav(folder / "silent.wav", silent, RATE), silent)
    short = noise(2, int(0.02 * RATE), seed=11)
    ok("20 ms song", _wav(folder / "short.wav", short, RATE), short)
    write_long_flac(folder / "long.flac", long_seconds)
    ok(f"{long_seconds:g} s song", folder / "long.flac")

    # -- names and paths ----------------------------------------------------------------------
    quoted = noise(2, 4410, seed=12)
    name = 'Bjørk – “Jóga” it\'s a "demo" 日本.wav'
    ok("non-ASCII name, spaces and quotes", _wav(folder / name, quoted, RATE), quoted)
    deep = folder.joinpath(*[f"level-{i:02d}-{'x' * 30}" for i in range(6)])
    deep.mkdir(parents=True)
    long_path = deep / ("a-rather-long-song-title-" * 4 + ".wav")
    _wav(long_path, quoted, RATE)
    assert len(str(long_path)) > 250
    ok("path of 250+ characters", long_path, quoted)

    (folder / "album.wav").mkdir()
    bad("directory given as a file", folder / "album.wav", "no audio files in this folder")
    bad("missing file", folder / "missing.flac", "does not exist")
    locked = unreadable_path(folder)
    if locked is not None:
        bad("file without read permission", locked, "permission denied")
    return cases
