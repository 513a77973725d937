"""decode(): every supported format gives back the tone it was made from, at the model rate."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.channels import convert_channels, downmix_matrix
from stemgui.audio.decode import DecodedAudio, decode, probe
from stemgui.audio.files import SUPPORTED_EXTENSIONS
from tests.audio.media import amplitude_at, av_write, spectrum_peak, tone

G = 1 / np.sqrt(2)

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


def test_mono_becomes_stereo(tmp_path):
    mono = tone(44100, amps=(0.3,))
    sf.write(tmp_path / "m.wav", mono[0], 44100, subtype="FLOAT")
    song = decode(tmp_path / "m.wav")
    assert song.original_channels == 1
    assert song.samples.shape == (2, 44100)
    np.testing.assert_array_equal(song.samples[0], mono[0])
    np.testing.assert_array_equal(song.samples[1], mono[0])


def test_stereo_to_mono_is_the_mean(tmp_path):
    sf.write(tmp_path / "s.wav", tone(44100).T, 44100, subtype="FLOAT")
    song = decode(tmp_path / "s.wav", channels=1)
    np.testing.assert_allclose(song.samples[0], tone(44100).mean(axis=0), atol=1e-7)


def test_six_channel_wav_downmix_known_answer(tmp_path):
    # FL, FR, FC, LFE, BL, BR as constants: the ITU weights, normalised by 1 + 2/sqrt(2).
    levels = np.array([0.8, -0.4, 0.6, 0.9, 0.2, -0.7], np.float32)
    data = np.repeat(levels[:, None], 1000, axis=1)
    sf.write(tmp_path / "six.wav", data.T, 44100, subtype="FLOAT")
    song = decode(tmp_path / "six.wav")
    fl, fr, fc, _lfe, bl, br = levels.astype(np.float64)
    norm = 1 + 2 * G
    expected_left = (fl + G * fc + G * bl) / norm
    expected_right = (fr + G * fc + G * br) / norm
    assert song.original_channels == 6
    np.testing.assert_allclose(song.samples[0], expected_left, atol=1e-6)
    np.testing.assert_allclose(song.samples[1], expected_right, atol=1e-6)


def _wave_extensible(path, data: np.ndarray, rate: int, mask: int) -> None:
    """A 16-bit WAVE_FORMAT_EXTENSIBLE file whose channel mask is ``mask``."""
    import struct

    channels = data.shape[0]
    pcm = (np.clip(data.T, -1, 1) * 32767).astype("<i2").tobytes()
    pcm_guid = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = (
        struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * channels * 2, channels * 2, 16)
        + struct.pack("<HHI", 22, 16, mask)
        + pcm_guid
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


@pytest.mark.parametrize(
    ("mask", "channel", "left", "right"),
    [
        (0x637, 3, G / (1 + 3 * G), 0.0),  # 7.0: FL FR FC BL BR SL SR; BL was taken as LFE
        (0x00F, 2, G / (1 + G), G / (1 + G)),  # 3.1: FL FR FC LFE; the centre went left only
        (0x03B, 2, 0.0, 0.0),  # 4.1: FL FR LFE BL BR; the LFE was mixed in as a centre
    ],
)
def test_a_wav_channel_mask_places_its_channels(tmp_path, mask, channel, left, right):
    data = np.zeros((bin(mask).count("1"), 1000))
    data[channel] = 0.5
    _wave_extensible(tmp_path / "surround.wav", data, 44100, mask)
    song = decode(tmp_path / "surround.wav")
    np.testing.assert_allclose(song.samples[:, 500], [0.5 * left, 0.5 * right], atol=1e-4)


def test_six_channel_aac_downmix_follows_the_layout(tmp_path):
    # 5.1(side) order: FL FR FC LFE SL SR. FC carries 440 Hz, SL carries 1000 Hz.
    data = np.zeros((6, 44100), np.float32)
    data[2] = tone(44100, freq=440.0, amps=(0.5,))[0]
    data[4] = tone(44100, freq=1000.0, amps=(0.5,))[0]
    av_write(tmp_path / "surround.m4a", data, 44100, "aac", "mp4", layout="5.1(side)")
    song = decode(tmp_path / "surround.m4a")
    assert song.original_channels == 6
    left, right = song.samples[:, 11025:33075]
    expected = 0.5 * G / (1 + 2 * G)
    assert amplitude_at(left, 44100, 440) == pytest.approx(expected, rel=0.06)
    assert amplitude_at(right, 44100, 440) == pytest.approx(expected, rel=0.06)
    assert amplitude_at(left, 44100, 1000) == pytest.approx(expected, rel=0.06)
    assert amplitude_at(right, 44100, 1000) < 0.01 * expected


def test_six_channel_opus_downmix_follows_the_vorbis_order(tmp_path):
    # FFmpeg stores 5.1 in the Vorbis order (FL FC FR BL BR LFE); libsndfile reads it so.
    data = np.zeros((6, 48000), np.float32)
    data[2] = tone(48000, freq=440.0, amps=(0.5,))[0]  # FC in FFmpeg's 5.1 order
    av_write(tmp_path / "surround.opus", data, 48000, "libopus", "ogg", layout="5.1")
    song = decode(tmp_path / "surround.opus")
    assert song.original_channels == 6
    left, right = song.samples[:, 11025:33075]
    expected = 0.5 * G / (1 + 2 * G)
    assert amplitude_at(left, 44100, 440) == pytest.approx(expected, rel=0.1)
    assert amplitude_at(right, 44100, 440) == pytest.approx(expected, rel=0.1)


def test_downmix_matrix_rows_never_exceed_one():
    for count in range(3, 9):
        matrix = downmix_matrix(None, count)
        assert matrix.shape == (2, count)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-6)
        assert (matrix >= 0).all()
    # LFE never reaches the stereo mix
    assert (downmix_matrix(None, 6)[:, 3] == 0).all()


def test_unknown_layout_is_averaged():
    matrix = downmix_matrix(None, 11)
    np.testing.assert_allclose(matrix, 1 / 11)
    matrix = downmix_matrix(("FL", "FR", "XYZ"), 3)
    np.testing.assert_allclose(matrix, 1 / 3)


def test_convert_channels_refuses_to_invent_surround():
    with pytest.raises(ValueError, match="2 channels to 6"):
        convert_channels(np.zeros((2, 10), np.float32), 6)


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


def test_joined_mp3s_are_decoded_whole(tmp_path):
    sf.write(tmp_path / "part.mp3", tone(44100, 0.5).T, 44100, format="MP3")
    part = (tmp_path / "part.mp3").read_bytes()
    (tmp_path / "joined.mp3").write_bytes(part + part)  # `cat part.mp3 part.mp3`
    song = decode(tmp_path / "joined.mp3")
    # libsndfile stopped at 0.5 s; the second part brings its own encoder delay and padding.
    assert 1.0 <= song.duration <= 1.15
    assert any("more audio than its header says" in w for w in song.warnings)


def test_ogg_pages_are_walked_by_length_not_found_by_chance():
    """ "OggS" with a beginning-of-stream flag inside a page's audio is not a second stream."""
    from stemgui.audio._partial_reads import ogg_is_chained

    def page(flags: int, body: bytes) -> bytes:
        return b"OggS" + bytes([0, flags]) + bytes(20) + bytes([1, len(body)]) + body

    by_chance = b"audio OggS\x00\x02 more audio"
    assert not ogg_is_chained(page(2, b"head") + page(0, by_chance) + page(4, b"end"))
    assert ogg_is_chained(page(2, b"one") + page(0, b"a") + page(2, b"two") + page(0, b"b"))


def test_a_file_that_cannot_be_mapped_for_its_length_check_still_decodes(tmp_path, monkeypatch):
    """decode raises DecodeError and nothing else: the check for joined files must not leak
    an OSError (a network drive's I/O error)."""
    from stemgui.audio import _partial_reads

    def unreadable(path, head):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_partial_reads, "pyav_reason", unreadable)
    sf.write(tmp_path / "song.mp3", tone(44100, 1.0).T, 44100, format="MP3")
    assert decode(tmp_path / "song.mp3").frames > 40000


def test_chained_ogg_is_decoded_whole(tmp_path):
    sf.write(tmp_path / "part.ogg", tone(44100, 0.5).T, 44100, format="OGG", subtype="VORBIS")
    part = (tmp_path / "part.ogg").read_bytes()
    (tmp_path / "chained.ogg").write_bytes(part + part)  # a valid chain of two Ogg files
    song = decode(tmp_path / "chained.ogg")
    assert song.duration == pytest.approx(1.0, abs=0.02)
    assert song.warnings == ()


@pytest.mark.parametrize("frames", [10, 0x00FFFFFF])
def test_mp3_with_a_damaged_frame_count_is_decoded_whole(tmp_path, frames):
    # Too few frames cut the song short; too many were "too long for the memory available".
    sf.write(tmp_path / "good.mp3", tone(44100, 0.5).T, 44100, format="MP3")
    data = bytearray((tmp_path / "good.mp3").read_bytes())
    xing = data.index(b"Xing")
    assert data[xing + 7] & 1  # the frame count is there, right after the flags
    data[xing + 8 : xing + 12] = frames.to_bytes(4, "big")
    (tmp_path / "damaged.mp3").write_bytes(bytes(data))
    song = decode(tmp_path / "damaged.mp3")
    assert song.duration == pytest.approx(0.5, abs=0.03)
    assert any("header is damaged" in w for w in song.warnings)


def test_a_variable_bit_rate_mp3_without_its_header_is_decoded_whole(tmp_path):
    """libsndfile takes the length of an mp3 without a Xing header from its size at the first
    frame's bit rate: 2 s of which the first frame is dense read as 0.75 s, without a word."""
    from stemgui.audio._partial_reads import _frame_size, mp3_header

    song = tone(44100, 2.0)
    song[:, 44100:] = 0.3 * np.random.default_rng(0).standard_normal((2, 44100))  # denser
    sf.write(tmp_path / "vbr.mp3", song.T, 44100, format="MP3", bitrate_mode="VARIABLE")
    data = (tmp_path / "vbr.mp3").read_bytes()
    first = mp3_header(data).first_frame  # the Xing frame, as an mp3 cutter leaves it out
    stripped = data[:first] + data[first + _frame_size(data, first) :]
    (tmp_path / "stripped.mp3").write_bytes(stripped)
    decoded = decode(tmp_path / "stripped.mp3")
    # without the header's LAME tag, the encoder's delay and padding are decoded too
    assert decoded.duration == pytest.approx(2.0, abs=0.06)
    assert decoded.warnings == ()


@pytest.mark.parametrize(
    ("first", "second"),
    [((22050, 2), (44100, 2)), ((44100, 1), (44100, 2))],
    ids=["rate changes", "channels change"],
)
def test_stream_whose_format_changes_part_way_keeps_its_speed(tmp_path, first, second):
    # Joined ADTS files, as TV recordings and joined downloads are: 0.5 s of each part.
    parts = b""
    for index, (rate, channels) in enumerate((first, second)):
        part = tmp_path / f"part{index}.aac"
        av_write(part, tone(rate, 0.5, amps=(0.5,) * channels), rate, "aac", "adts")
        parts += part.read_bytes()
    (tmp_path / "joined.aac").write_bytes(parts)
    song = decode(tmp_path / "joined.aac")
    assert song.duration == pytest.approx(1.0, abs=0.1)
    freq, _ = spectrum_peak(song.samples[0, -16384:-2048], 44100)
    assert freq == pytest.approx(440, abs=5)  # not an octave down


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


def test_named_roles_drive_the_downmix():
    side = downmix_matrix(("FL", "FR", "FC", "LFE", "SL", "SR"), 6)
    np.testing.assert_allclose(side, downmix_matrix(None, 6), atol=1e-7)
    # Quad: back channels go to their own side only.
    quad = downmix_matrix(("FL", "FR", "BL", "BR"), 4)
    np.testing.assert_allclose(quad[0], np.array([1, 0, G, 0]) / (1 + G), atol=1e-7)
    np.testing.assert_allclose(quad[1], np.array([0, 1, 0, G]) / (1 + G), atol=1e-7)


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
    song = decode(path, scratch=scratch, allocate=Allocations())
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
