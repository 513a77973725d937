"""decode()'s channels: mono made stereo, stereo to mono, and surround downmixed to stereo by the
layout its file states (a WAV channel mask, AAC's and Opus' orders, named roles)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.channels import convert_channels, downmix_matrix
from stemgui.audio.decode import decode
from tests.audio.media import amplitude_at, av_write, tone

G = 1 / np.sqrt(2)


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


def test_named_roles_drive_the_downmix():
    side = downmix_matrix(("FL", "FR", "FC", "LFE", "SL", "SR"), 6)
    np.testing.assert_allclose(side, downmix_matrix(None, 6), atol=1e-7)
    # Quad: back channels go to their own side only.
    quad = downmix_matrix(("FL", "FR", "BL", "BR"), 4)
    np.testing.assert_allclose(quad[0], np.array([1, 0, G, 0]) / (1 + G), atol=1e-7)
    np.testing.assert_allclose(quad[1], np.array([0, 1, 0, G]) / (1 + G), atol=1e-7)
