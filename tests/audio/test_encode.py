"""write_audio: exact bit depths, clip modes of the Demucs CLI, mp3 bit rates, RF64 past 4 GiB.
Its refusals and failures are in test_encode_failures.py."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
import soundfile as sf

from stemgui.audio import encode
from stemgui.audio.decode import decode
from stemgui.audio.encode import MP3_BITRATES, AudioFormat, apply_clip, write_audio
from stemgui.errors import EncodeError
from tests.audio.encode_rig import no_leftovers, noise
from tests.audio.media import spectrum_peak, tone


@pytest.mark.parametrize(
    ("kind", "bits", "subtype"),
    [("wav", 16, "PCM_16"), ("wav", 24, "PCM_24"), ("wav", 32, "PCM_32"), ("flac", 16, "PCM_16"),
     ("flac", 24, "PCM_24")],
)  # fmt: skip
def test_integer_formats_round_trip_exactly(tmp_path, kind, bits, subtype):
    data = noise()
    fmt = AudioFormat(kind=kind, bits=bits, clip="none")
    path = write_audio(tmp_path / f"x.{fmt.extension}", data, 44100, fmt)
    assert path == tmp_path / f"x.{kind}"
    info = sf.info(path)
    assert (info.subtype, info.samplerate, info.channels, info.frames) == (subtype, 44100, 2, 4000)
    read, _ = sf.read(path, dtype="int32", always_2d=True)
    expected = np.rint(data.astype(np.float64) * 2 ** (bits - 1)).astype(np.int64)
    np.testing.assert_array_equal(read.T.astype(np.int64) >> (32 - bits), expected)
    assert no_leftovers(tmp_path)


def test_float_wav_is_bit_exact_and_keeps_overs(tmp_path):
    data = noise(peak=1.7)
    fmt = AudioFormat(kind="wav", bits=32, float=True, clip="none")
    path = write_audio(tmp_path / "x.wav", data, 48000, fmt)
    assert sf.info(path).subtype == "FLOAT"
    read, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == 48000
    np.testing.assert_array_equal(read.T, data)


def test_integer_formats_saturate_instead_of_wrapping(tmp_path):
    data = np.array([[1.5, -1.5, 1.0, -1.0, 0.5]], np.float32)
    path = write_audio(tmp_path / "x.wav", data, 44100, AudioFormat(bits=16, clip="none"))
    read, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(read, [32767, -32768, 32767, -32768, 16384])


def test_long_buffers_are_written_in_blocks(tmp_path):
    data = noise(frames=encode._BLOCK_FRAMES * 2 + 123)
    path = write_audio(tmp_path / "x.flac", data, 44100, AudioFormat("flac", 24))
    read, _ = sf.read(path, dtype="float32", always_2d=True)
    # rescale leaves a 0.9 peak alone; 24-bit quantisation error only
    np.testing.assert_allclose(read.T, data, atol=2**-23)


@pytest.mark.parametrize("bitrate", [128, 320])
def test_mp3_has_the_tone_the_length_and_the_bit_rate(tmp_path, bitrate):
    data = tone(44100, seconds=2.0)
    fmt = AudioFormat(kind="mp3", mp3_bitrate=bitrate)
    path = write_audio(tmp_path / "x.mp3", data, 44100, fmt)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name.startswith("mp3")
        assert stream.codec_context.bit_rate == bitrate * 1000
    # constant bit rate: the size is the rate times the duration, plus headers
    assert path.stat().st_size == pytest.approx(bitrate * 1000 / 8 * 2.0, rel=0.05)
    song = decode(path)
    assert abs(song.frames - 88200) <= 1152
    for channel, amp in enumerate((0.5, 0.25)):
        freq, found = spectrum_peak(song.samples[channel, 22050:66150], 44100)
        assert freq == pytest.approx(440, abs=2.1)
        assert found == pytest.approx(amp, rel=0.06)


@pytest.mark.parametrize("fmt", [AudioFormat("wav"), AudioFormat("flac"), AudioFormat("mp3")])
def test_a_folder_deeper_than_libsndfile_takes_is_written(tmp_path, fmt):
    """Paths of 1100 bytes: libsndfile opens at most 1024 ("System error." for wav and flac,
    mp3 went through); Linux takes 4095."""
    folder = tmp_path
    while len(os.fsencode(folder)) < 1100:
        folder = folder / ("p" * 200)
    folder.mkdir(parents=True)
    path = write_audio(folder / f"x.{fmt.extension}", noise(), 44100, fmt)
    assert abs(decode(path).frames - 4000) <= 1152  # mp3: whole frames


@pytest.mark.parametrize("frames", [1152 * 20 + 5, 1152 * 20 + 10, 1152 * 20 + 46, 1152 * 3 + 47])
@pytest.mark.parametrize("channels", [1, 2])
def test_an_mp3_decodes_to_the_song_s_length(tmp_path, frames, channels):
    """Its LAME header says how much padding to drop at the end. For lengths of 5..46 past a
    multiple of 1152, FFmpeg's muxer wrote only its last packet's: stems 1-42 samples longer."""
    path = write_audio(tmp_path / "x.mp3", noise(frames)[:channels], 44100, AudioFormat("mp3"))
    assert decode(path).frames == frames  # libsndfile (mpg123)
    with av.open(str(path)) as container:  # FFmpeg
        assert sum(frame.samples for frame in container.decode(audio=0)) == frames


def test_mono_mp3(tmp_path):
    path = write_audio(tmp_path / "m.mp3", tone(44100, 0.5, amps=(0.5,)), 44100, AudioFormat("mp3"))
    song = decode(path)
    assert song.original_channels == 1


def test_clip_rescale_known_answers():
    loud = np.array([[2.0, -1.0, 0.5]], np.float32)
    np.testing.assert_allclose(apply_clip(loud, "rescale"), loud / 2.02, rtol=1e-6)
    quiet = np.array([[0.5, -0.25]], np.float32)
    np.testing.assert_array_equal(apply_clip(quiet, "rescale"), quiet)
    # just above 1/1.01: divided by 1.01 * peak
    edge = np.array([[0.995, 0.1]], np.float32)
    np.testing.assert_allclose(apply_clip(edge, "rescale"), edge / (1.01 * 0.995), rtol=1e-6)
    assert apply_clip(np.zeros((2, 0), np.float32), "rescale").shape == (2, 0)


def test_clip_clamp_and_none_known_answers():
    data = np.array([[1.2, -3.0, 0.5, 0.99, -0.995]], np.float32)
    np.testing.assert_allclose(apply_clip(data, "clamp"), [[0.99, -0.99, 0.5, 0.99, -0.99]])
    out = apply_clip(data, "none")
    np.testing.assert_array_equal(out, data)
    assert out is not data


def test_clip_mode_is_applied_on_write(tmp_path):
    data = np.array([[2.0, -1.0, 0.5]], np.float32)
    fmt = AudioFormat(kind="wav", bits=32, float=True, clip="rescale")
    read, _ = sf.read(write_audio(tmp_path / "x.wav", data, 44100, fmt), dtype="float32")
    np.testing.assert_allclose(read, data[0] / 2.02, rtol=1e-6)


def test_nan_is_written_as_silence(tmp_path):
    data = np.array([[0.5, np.nan, np.inf, -0.5]], np.float32)
    fmt = AudioFormat(bits=32, float=True, clip="none")
    read, _ = sf.read(write_audio(tmp_path / "x.wav", data, 44100, fmt), dtype="float32")
    np.testing.assert_array_equal(read, [0.5, 0.0, 0.0, -0.5])


def test_format_validation():
    assert AudioFormat().extension == "wav"
    assert AudioFormat("flac", 24).extension == "flac"
    assert AudioFormat("mp3", mp3_bitrate=192).extension == "mp3"
    for bad in (
        dict(kind="ogg"),
        dict(kind="wav", bits=8),
        dict(kind="flac", bits=32),
        dict(kind="wav", bits=24, float=True),
        dict(kind="flac", bits=32, float=True),
        dict(kind="mp3", mp3_bitrate=100),
        dict(clip="soft"),
    ):
        with pytest.raises(ValueError):
            AudioFormat(**bad)


@pytest.mark.parametrize(
    ("rate", "most"), [(8000, 64), (12000, 64), (16000, 160), (24000, 160), (32000, 320)]
)
def test_an_mp3_never_has_a_lower_bit_rate_than_asked(tmp_path, rate, most):
    """LAME, asked for 320 kbps at 22.05 kHz, wrote a 160 kbps file without a word: the most
    an mp3 holds there. Up to that the file has the bit rate asked; above it, refused."""
    silence = np.zeros((2, rate), np.float32)
    path = write_audio(tmp_path / "x.mp3", silence, rate, AudioFormat("mp3", mp3_bitrate=most))
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.bit_rate == most * 1000
    above = min(b for b in MP3_BITRATES if b > most) if most < 320 else None
    if above is not None:
        with pytest.raises(EncodeError) as refused:
            write_audio(tmp_path / "y.mp3", silence, rate, AudioFormat("mp3", mp3_bitrate=above))
        assert refused.value.reason == (
            f"an mp3 at {rate} Hz holds at most {most} kbps, not {above}; choose {most} kbps or "
            "less, or wav or flac"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp3"]


def test_an_mp3_of_absurdly_loud_samples_is_written_not_a_crash(tmp_path):
    """With clip mode "none", samples near 1e6 (gains of +120 dB) made LAME fail an assertion
    and abort the whole process: run in a child, so that the suite would see it."""
    import subprocess
    import sys

    script = (
        "import numpy as np, sys\n"
        "from stemgui.audio.encode import AudioFormat, write_audio\n"
        "noise = (np.random.default_rng(0).standard_normal((2, 44100)) * 1e6).astype('f4')\n"
        "write_audio(sys.argv[1], noise, 44100, AudioFormat('mp3', clip='none'))\n"
    )
    path = tmp_path / "loud.mp3"
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-300:]
    samples, rate = sf.read(path, dtype="float32")
    assert rate == 44100 and len(samples) == 44100 and np.isfinite(samples).all()


@pytest.mark.parametrize(
    ("fmt", "hours", "expected"),
    [
        (AudioFormat(bits=32, float=True), 3.3, "WAV"),
        (AudioFormat(bits=32, float=True), 3.5, "RF64"),  # past 4 GiB: 3.38 h
        (AudioFormat(bits=24), 4.5, "WAV"),
        (AudioFormat(bits=24), 4.6, "RF64"),  # 4.51 h
        (AudioFormat(bits=16), 6.7, "WAV"),
        (AudioFormat(bits=16), 6.8, "RF64"),  # 6.76 h
        (AudioFormat("flac", bits=24), 20, "FLAC"),  # no 4 GiB limit
    ],
)
def test_a_wav_past_4_gib_is_rf64_and_plain_wav_below(fmt, hours, expected):
    """Stereo at 44.1 kHz. libsndfile's WAV past 4 GiB says 4 GiB: readers lose the rest."""
    assert encode.major_format(fmt, 2, round(hours * 3600 * 44100)) == expected


def test_rf64_begins_where_the_header_would_take_a_wav_past_4_gib():
    room = encode.RIFF_BYTES - encode._WAV_HEADER_ROOM  # what the samples may take
    fmt = AudioFormat(bits=32, float=True)
    assert encode.major_format(fmt, 2, room // 8) == "WAV"
    assert encode.major_format(fmt, 2, room // 8 + 1) == "RF64"


@pytest.mark.parametrize("streamed", [False, True])
def test_a_wav_that_would_pass_4_gib_reads_back_as_rf64(tmp_path, monkeypatch, streamed):
    """Without writing 4 GiB: the limit lowered to 1000 stereo float frames."""
    from stemgui.audio.stream import array_reader, write_blocks

    monkeypatch.setattr(encode, "RIFF_BYTES", encode._WAV_HEADER_ROOM + 1000 * 8)
    fmt = AudioFormat(bits=32, float=True, clip="none")
    tags = {"title": "Night Drive (Vocals)", "bpm": "120", "key": "Am"}
    for frames, container in ((1000, b"RIFF"), (1001, b"RF64")):
        path = tmp_path / f"{frames}.wav"
        samples = noise(frames)
        if streamed:
            write_blocks(path, array_reader(samples), 2, frames, 44100, fmt, tags=tags)
        else:
            write_audio(path, samples, 44100, fmt, tags=tags)
        assert path.read_bytes()[:4] == container
        back, _rate = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(back.T, samples)
        assert sf.info(path).format == container.decode().replace("RIFF", "WAV")
        assert sf.SoundFile(path).title == "Night Drive (Vocals)"
