"""Fuzzing the decoder: random bytes, and real wav/flac/mp3/m4a files with bytes flipped or cut.

Whatever the bytes, ``decode`` returns finite float32 audio or raises ``DecodeError``; no other
exception escapes. The number of examples is bounded so that the test stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemgui.audio.decode import decode
from stemgui.errors import DecodeError
from tests.audio.media import av_write, tone

FORMATS = ("wav", "flac", "mp3", "m4a")


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    samples = tone(22050, 0.2)
    found = {}
    for ext in FORMATS:
        path = folder / f"song.{ext}"
        if ext == "m4a":
            av_write(path, samples, 22050, "aac", "mp4")
        else:
            sf.write(path, samples.T, 22050, format=ext.upper())
        found[ext] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        song = decode(path, samplerate=22050)
    except DecodeError as error:
        assert error.path == path and error.reason
    else:
        assert song.samples.dtype == np.float32 and song.samples.shape[0] == 2
        assert song.frames > 0 and np.isfinite(song.samples).all()


mutation = st.tuples(st.integers(0, 1 << 20), st.integers(0, 255))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ext=st.sampled_from(FORMATS),
    flips=st.lists(mutation, min_size=1, max_size=8),
    keep=st.floats(0.0, 1.0),
    header_only=st.booleans(),
)
def test_mutated_real_files(originals, scratch, ext, flips, keep, header_only):
    data = bytearray(originals[ext])
    span = min(len(data), 64) if header_only else len(data)  # headers are where decoders trust
    for position, value in flips:
        data[position % span] = value
    data = data[: max(1, int(len(data) * keep))] if keep < 0.9 else data
    check(scratch / f"mutated.{ext}", bytes(data))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ext=st.sampled_from([*FORMATS, "ogg", "mp4", "bin"]), data=st.binary(min_size=1, max_size=4096)
)
def test_random_bytes(scratch, ext, data):
    check(scratch / f"random.{ext}", data)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(prefix=st.sampled_from([b"RIFF", b"fLaC", b"ID3\x03", b"\xff\xfb", b"OggS"]),
       data=st.binary(min_size=0, max_size=2048))  # fmt: skip
def test_magic_then_garbage(scratch, prefix, data):
    """A valid signature followed by garbage: the decoders get past their first check."""
    check(scratch / "magic.wav", prefix + data)


def _wav_with_rate(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit stereo wav of ``samples`` (channels, frames) whose header says ``rate`` Hz."""
    import struct

    pcm = np.round(samples.T * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 2, rate, (rate * 4) & 0xFFFFFFFF, 4, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm))
    return b"RIFF" + struct.pack("<I", len(body) + len(pcm)) + body + pcm


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rate=st.one_of(st.integers(8000, 2_000_000), st.integers(2_000_000, 2**32 - 1)))
def test_any_rate_in_the_header(scratch, rate):
    """A header's rate (a damaged one, or a prime like 100003 Hz) never makes the resampler
    build a filter bank of gigabytes: audio or DecodeError, in bounded memory."""
    check(scratch / "rate.wav", _wav_with_rate(tone(22050, 0.05), rate))


@settings(max_examples=300, deadline=None)
@given(source=st.integers(1, 10_000_000), target=st.sampled_from([44100, 48000, 22050]))
def test_resample_rates_bound_the_filter_bank_and_keep_the_pitch(source, target):
    from stemgui.audio.resample import _MAX_FILTER_VALUES, _filter_values, resample_rates

    old, new = resample_rates(source, target)
    assert _filter_values(old, new) <= _MAX_FILTER_VALUES
    assert abs(new / old - target / source) <= 5e-4 * target / source


def test_prime_rate_decodes_with_the_right_pitch(tmp_path):
    """1000003 Hz (prime): julius's exact filter bank would be 44100 x ~1001155 values (176 GB,
    built in a Python loop); the approximated ratio keeps the pitch and the length."""
    from tests.audio.media import spectrum_peak

    rate = 1000003
    path = tmp_path / "prime.wav"
    path.write_bytes(_wav_with_rate(tone(rate, 0.2, freq=1000.0), rate))
    song = decode(path)
    assert abs(song.frames - 0.2 * 44100) <= 2
    freq, amplitude = spectrum_peak(song.samples[0], 44100)
    assert abs(freq - 1000.0) < 10 and abs(amplitude - 0.5) < 0.02
