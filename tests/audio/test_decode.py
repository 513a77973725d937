"""decode(): every supported format gives back the tone it was made from, at the model rate.
Channels and downmixing: test_decode_channels.py; songs whose header is wrong about their
length: test_decode_length.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.decode import DecodedAudio, decode, probe
from stemgui.audio.files import SUPPORTED_EXTENSIONS
from tests.audio.media import av_write, spectrum_peak, tone

# name -> (writer, source rate, lossless, codec padding tolerance in frames at 44.1 kHz)
SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_24"),
    "aiff": ("AIFF", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
PYAV_FORMATS = {
    # extension: (audio codec, container, video codec, rate)
    "m4a": ("aac", "mp4", None, 44100),
    "m4b": ("aac", "mp4", None, 44100),  # an audiobook, or a DJ mix kept with its chapters
    "mp2": ("mp2", "mp2", None, 44100),
    "tta": ("tta", "tta", None, 44100),
    "opus": ("libopus", "ogg", None, 48000),
    "wma": ("wmav2", "asf", None, 44100),
    "mp4": ("aac", "mp4", "mpeg4", 44100),
    "mkv": ("libopus", "matroska", "mpeg4", 48000),
    "webm": ("libopus", "webm", "libvpx", 48000),
    "mov": ("aac", "mov", "mpeg4", 44100),
}
LOSSLESS = {"wav", "flac", "aiff", "tta"}


def make_song(folder, ext, seconds=1.0):
    """A stereo 440 Hz tone, left at 0.5 and right at 0.25, in format ``ext``."""
    path = folder / f"song.{ext}"
    if ext in SOUNDFILE_FORMATS:
        fmt, subtype = SOUNDFILE_FORMATS[ext]
        sf.write(path, tone(44100, seconds).T, 44100, format=fmt, subtype=subtype)
        return path, 44100
    codec, container, video, rate = PYAV_FORMATS[ext]
    av_write(path, tone(rate, seconds), rate, codec, container, video=video)
    return path, rate


@pytest.mark.parametrize("ext", [*SOUNDFILE_FORMATS, *PYAV_FORMATS])
def test_every_format_keeps_the_tone(tmp_path, ext):
    path, rate = make_song(tmp_path, ext)
    assert path.suffix in SUPPORTED_EXTENSIONS
    song = decode(path)
    assert isinstance(song, DecodedAudio)
    assert song.samples.dtype == np.float32
    assert song.samples.flags.c_contiguous
    assert song.samples.shape[0] == 2
    assert song.samplerate == 44100
    assert song.original_samplerate == rate
    assert song.original_channels == 2
    assert np.isfinite(song.samples).all()
    # Length right within the codec's padding (WMA drops ~1100 frames); an mp4's AAC is cut
    # to the length its edit list states (it was ~1000 frames longer, and so was every stem).
    tolerance = 0 if ext in LOSSLESS or ext in ("m4a", "m4b", "mp4") else 2048
    assert abs(song.frames - 44100) <= tolerance
    assert song.duration == pytest.approx(song.frames / 44100 if rate == 44100 else 1.0)
    middle = song.samples[:, 11025:33075]
    rel = 1e-3 if ext in LOSSLESS else 0.06
    for channel, amp in enumerate((0.5, 0.25)):
        freq, found = spectrum_peak(middle[channel], 44100)
        assert freq == pytest.approx(440, abs=2.1)
        assert found == pytest.approx(amp, rel=rel)


def test_lossless_wav_is_bit_exact(tmp_path):
    data = (np.random.default_rng(0).integers(-32768, 32767, (2, 3000)) / 32768).astype(np.float32)
    sf.write(tmp_path / "x.wav", data.T, 44100, subtype="PCM_16")
    song = decode(tmp_path / "x.wav")
    np.testing.assert_array_equal(song.samples, data)
    assert song.duration == pytest.approx(3000 / 44100)
    assert song.path == tmp_path / "x.wav"


def test_resampling_48k_to_44k1_keeps_the_tone(tmp_path):
    sf.write(tmp_path / "hi.wav", tone(48000, freq=1000.0).T, 48000, subtype="FLOAT")
    song = decode(tmp_path / "hi.wav", samplerate=44100)
    assert song.original_samplerate == 48000
    assert song.frames == 44100
    assert song.duration == pytest.approx(1.0)
    for channel, amp in enumerate((0.5, 0.25)):
        freq, found = spectrum_peak(song.samples[channel, 4410:-4410], 44100)
        assert freq == pytest.approx(1000, abs=1.5)
        assert found == pytest.approx(amp, rel=2e-3)


def test_other_target_rate(tmp_path):
    sf.write(tmp_path / "x.wav", tone(44100, freq=300.0).T, 44100)
    song = decode(tmp_path / "x.wav", samplerate=16000)
    assert song.samplerate == 16000
    assert song.frames == 16000
    assert spectrum_peak(song.samples[0, 2000:-2000], 16000)[0] == pytest.approx(300, abs=1.5)


def test_nan_and_inf_are_replaced_by_silence(tmp_path, caplog):
    data = tone(44100, seconds=0.1)
    data[0, 10] = np.nan
    data[1, 20] = np.inf
    data[1, 30] = -np.inf
    sf.write(tmp_path / "nan.wav", data.T, 44100, subtype="FLOAT")
    with caplog.at_level(logging.WARNING, logger="stemgui.audio.decode"):
        song = decode(tmp_path / "nan.wav")
    assert np.isfinite(song.samples).all()
    assert song.samples[0, 10] == 0 and song.samples[1, 20] == 0 and song.samples[1, 30] == 0
    keep = np.isfinite(data)
    np.testing.assert_array_equal(song.samples[keep], data[keep])
    assert any("3 NaN or infinite" in w for w in song.warnings)
    assert "3 NaN or infinite" in caplog.text


def test_clean_file_has_no_warnings(tmp_path):
    sf.write(tmp_path / "x.wav", tone(44100, seconds=0.1).T, 44100)
    assert decode(tmp_path / "x.wav").warnings == ()


def test_bad_arguments_are_value_errors(tmp_path):
    sf.write(tmp_path / "x.wav", tone(44100, seconds=0.1).T, 44100)
    with pytest.raises(ValueError):
        decode(tmp_path / "x.wav", samplerate=0)
    with pytest.raises(ValueError):
        decode(tmp_path / "x.wav", channels=0)


def test_probe_reads_headers(tmp_path):
    sf.write(tmp_path / "x.flac", tone(48000, seconds=2.0).T, 48000, subtype="PCM_24")
    info = probe(tmp_path / "x.flac")
    assert (info.samplerate, info.channels, info.codec, info.container) == (
        48000,
        2,
        "pcm_24",
        "flac",
    )
    assert info.duration == pytest.approx(2.0)

    path, _ = make_song(tmp_path, "mp4")
    info = probe(path)
    assert (info.samplerate, info.channels, info.codec) == (44100, 2, "aac")
    assert "mp4" in info.container
    assert info.duration == pytest.approx(1.0, abs=0.05)

    av_write(tmp_path / "six.m4a", np.zeros((6, 4410), np.float32), 44100, "aac", "mp4")
    assert probe(tmp_path / "six.m4a").channels == 6


# -- into the caller's array (a long song's memory-mapped file) ---------------------------------


class Allocations:
    """An ``allocate`` for decode() that records its calls; ``memmap`` ones go to files."""

    def __init__(self, folder=None):
        self.folder, self.shapes, self.arrays = folder, [], []

    def __call__(self, shape):
        self.shapes.append(shape)
        if self.folder is None:
            array = np.full(shape, np.nan, dtype=np.float32)
        else:
            path = self.folder / f"mix-{len(self.shapes)}.f32"
            array = np.memmap(path, dtype=np.float32, mode="w+", shape=shape)
        self.arrays.append(array)
        return array


@pytest.mark.parametrize("ext", ["wav", "flac", "m4a", "opus"])
def test_a_song_is_decoded_into_the_callers_array(tmp_path, ext):
    path, _ = make_song(tmp_path, ext)
    alone = decode(path)
    allocations = Allocations(tmp_path)
    song = decode(path, allocate=allocations)
    assert allocations.shapes == [alone.samples.shape]
    assert song.samples is allocations.arrays[0]  # the memmap itself, no copy of it
    np.testing.assert_array_equal(song.samples, alone.samples)


def test_mono_into_the_callers_array_is_made_stereo(tmp_path):
    sf.write(tmp_path / "mono.wav", tone(44100, 0.5)[0], 44100, subtype="FLOAT")
    allocations = Allocations()
    song = decode(tmp_path / "mono.wav", allocate=allocations)
    assert allocations.shapes == [(2, 22050)]
    np.testing.assert_array_equal(song.samples[0], tone(44100, 0.5)[0])
    np.testing.assert_array_equal(song.samples[1], song.samples[0])


def test_a_file_shorter_than_its_header_asks_for_a_second_array(tmp_path):
    sf.write(tmp_path / "whole.mp3", tone(44100, 2.0).T, 44100, format="MP3")
    whole = (tmp_path / "whole.mp3").read_bytes()
    cut = tmp_path / "cut.mp3"  # its Xing header still says 2 s
    cut.write_bytes(whole[: len(whole) // 2])
    alone = decode(cut)
    allocations = Allocations(tmp_path)
    song = decode(cut, allocate=allocations)
    assert allocations.shapes == [(2, 88200), alone.samples.shape]
    assert 0 < song.frames < 88200 and song.warnings == alone.warnings
    assert song.samples is allocations.arrays[1]
    np.testing.assert_array_equal(song.samples, alone.samples)


def test_a_failing_allocation_is_the_callers_error_not_the_files(tmp_path):
    from stemgui.errors import FileError

    path, _ = make_song(tmp_path, "wav")

    def full_disk(shape):
        raise FileError(tmp_path, "not enough free space for this song's stems")

    with pytest.raises(FileError, match="not enough free space") as raised:
        decode(path, allocate=full_disk)
    assert type(raised.value) is FileError  # not a DecodeError blaming the song


@pytest.mark.parametrize("rate", [48000, 22050, 8000, 96000, 44101])
def test_resampling_a_block_at_a_time_gives_julius_samples_for_the_whole_song(monkeypatch, rate):
    import julius
    import torch

    from stemgui.audio.resample import BlockResampler, resample_rates

    samples = np.random.default_rng(rate).standard_normal((2, 60_001)).astype(np.float32)
    resampler = BlockResampler(rate, 44100, block_frames=5000)  # many blocks
    out = np.full((2, resampler.length(samples.shape[1])), np.nan, dtype=np.float32)
    for start, block in resampler.blocks(samples):
        out[:, start : start + block.shape[1]] = block
    old, new = resample_rates(rate, 44100)
    whole = julius.resample_frac(torch.from_numpy(samples), old, new).numpy()
    assert out.shape == whole.shape
    np.testing.assert_allclose(out, whole, rtol=0, atol=1e-6)


def test_pyav_joins_its_chunks_in_order(tmp_path, monkeypatch):
    from stemgui.audio import _gather

    path, _ = make_song(tmp_path, "m4a", seconds=2.0)
    whole = decode(path)
    monkeypatch.setattr(_gather, "CHUNK_FRAMES", 3000)  # some 30 chunks, not one
    song = decode(path)
    np.testing.assert_array_equal(song.samples, whole.samples)
    assert song.frames == 88200  # the encoder's padding cut, as from one chunk


@pytest.mark.parametrize("ext", ["m4a", "opus", "wav48", "mono"])
def test_a_long_song_is_spilled_to_the_scratch_folder_and_gone_after(tmp_path, monkeypatch, ext):
    from stemgui.audio import _gather

    if ext == "wav48":  # libsndfile, resampled
        path = tmp_path / "song.wav"
        sf.write(path, tone(48000, 2.0).T, 48000, subtype="FLOAT")
    elif ext == "mono":  # libsndfile, made stereo
        path = tmp_path / "song.wav"
        sf.write(path, tone(44100, 2.0)[0], 44100, subtype="FLOAT")
    else:
        path, _ = make_song(tmp_path, ext, seconds=2.0)
    in_ram = decode(path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    files, folders = [], []
    real = _gather.tempfile.TemporaryFile

    def seen(*args, **kwargs):
        file = real(*args, **kwargs)
        if kwargs.get("prefix") == "stemgui-decoding-":  # not the decoders' stderr
            folders.append(kwargs["dir"])
            files.append(file)
        return file

    monkeypatch.setattr(_gather.tempfile, "TemporaryFile", seen)
    monkeypatch.setattr(_gather, "CHUNK_FRAMES", 3000)
    monkeypatch.setattr(_gather, "SPILL_BYTES", 40_000)  # 0.1 s: the song is long
    song = decode(path, scratch=lambda: scratch, allocate=Allocations())
    np.testing.assert_allclose(song.samples, in_ram.samples, rtol=0, atol=1e-6)
    assert folders == [scratch] and files[0].closed  # spilled there, and gone
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("rate", [44100, 48000])  # read straight in; resampled into it
def test_no_memory_for_the_song_is_a_decode_error_naming_it(tmp_path, rate):
    from stemgui.errors import DecodeError

    path = tmp_path / "long.wav"
    sf.write(path, tone(rate, 0.5).T, rate)

    def no_memory(shape):
        raise MemoryError

    with pytest.raises(DecodeError, match="too long to decode in the memory available") as raised:
        decode(path, allocate=no_memory)
    assert raised.value.path == path
