"""decode() and probe() refuse unusable files with a DecodeError that says why, and nothing else."""

from __future__ import annotations

import builtins
import os
import re
import struct

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.decode import decode, probe
from stemgui.errors import DecodeError
from tests.audio.media import av_write, png_bytes, tone
from tests.pipes import without_waiting


def wav_with_format_tag(tag: int) -> bytes:
    """A RIFF/WAVE file whose 'fmt ' chunk names codec ``tag`` (0x9999: no such codec)."""
    fmt = struct.pack("<HHIIHH", tag, 2, 44100, 44100 * 4, 4, 16)
    data = b"\x01\x02" * 4000
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def reason_of(path) -> str:
    with pytest.raises(DecodeError) as caught:
        decode(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(str(path))
    return caught.value.reason


def test_missing_file(tmp_path):
    assert "does not exist" in reason_of(tmp_path / "nope.mp3")


def test_a_link_to_a_missing_file_says_where_it_points(tmp_path):
    """A dangling link said only "does not exist", while the user sees the link right there."""
    (tmp_path / "song.mp3").symlink_to(tmp_path / "moved" / "song.mp3")
    reason = reason_of(tmp_path / "song.mp3")
    assert reason == (
        f"is a link to {tmp_path / 'moved' / 'song.mp3'}, which does not exist; "
        "fix or remove the link"
    )


def test_folder_given_as_a_file(tmp_path):
    folder = tmp_path / "album.wav"
    folder.mkdir()
    assert "is a folder" in reason_of(folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    assert "not a regular file" in without_waiting(lambda: reason_of(pipe), pipe)


def test_no_read_permission(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    sf.write(path, tone(44100, 0.1).T, 44100)
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: make open() answer as the OS would for a normal user
        real_open = builtins.open

        def guarded_open(file, *args, **kwargs):
            if os.fspath(file) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
    assert "permission denied" in reason_of(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.flac"
    path.write_bytes(b"")
    assert "empty (0 bytes)" in reason_of(path)


def test_truncated_m4a(tmp_path):
    whole = av_write(tmp_path / "whole.m4a", tone(44100, 0.5), 44100, "aac", "mp4")
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "truncated or corrupt" in reason_of(cut)


def test_wav_cut_inside_its_header(tmp_path):
    sf.write(tmp_path / "whole.wav", tone(44100, 0.1).T, 44100)
    cut = tmp_path / "cut.wav"
    cut.write_bytes((tmp_path / "whole.wav").read_bytes()[:30])
    assert "truncated or corrupt" in reason_of(cut)


def test_corrupt_flac(tmp_path):
    sf.write(tmp_path / "good.flac", tone(44100, 0.5).T, 44100)
    noise = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.flac"
    bad.write_bytes((tmp_path / "good.flac").read_bytes()[:100] + noise)
    assert "truncated or corrupt" in reason_of(bad)


def test_truncated_flac_keeps_what_is_there_and_warns(tmp_path):
    sf.write(tmp_path / "good.flac", tone(44100, 1.0).T, 44100)
    whole = (tmp_path / "good.flac").read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole[: len(whole) // 2])
    song = decode(cut)
    assert 0 < song.frames < 44100
    assert song.warnings and "truncated or corrupt" in song.warnings[0]
    np.testing.assert_allclose(song.samples, tone(44100, 1.0)[:, : song.frames], atol=1e-4)


@pytest.mark.parametrize(
    ("ext", "fmt", "subtype", "rate"),
    [
        ("mp3", "MP3", "MPEG_LAYER_III", 44100),
        ("ogg", "OGG", "VORBIS", 44100),
        ("opus", "OGG", "OPUS", 48000),
    ],
)
def test_compressed_file_cut_short_warns(tmp_path, ext, fmt, subtype, rate):
    # Noise, so that the audio outweighs the codec's headers and the cut falls inside it.
    noise = np.random.default_rng(3).uniform(-0.3, 0.3, (2 * rate, 2)).astype(np.float32)
    whole = tmp_path / f"whole.{ext}"
    sf.write(whole, noise, rate, format=fmt, subtype=subtype)
    assert decode(whole).warnings == ()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    song = decode(cut)
    assert 0.5 < song.duration < 1.9
    assert song.warnings and "the file ends early" in song.warnings[0]


def test_the_mp3_decoder_s_own_messages_go_to_the_log_not_the_terminal(tmp_path, capfd, caplog):
    """libmpg123 printed "Warning: Xing stream size off by more than 1%..." on stderr, naming
    no file, beside our own warning about the cut."""
    import logging

    noise = np.random.default_rng(3).uniform(-0.3, 0.3, (88200, 2)).astype(np.float32)
    whole = tmp_path / "whole.mp3"
    sf.write(whole, noise, 44100, format="MP3", subtype="MPEG_LAYER_III")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    capfd.readouterr()
    for read in (decode, probe):  # probe too: the export dialog reads the song's rate
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="stemgui.audio._soundfile"):
            read(cut)
        assert "Xing" not in capfd.readouterr().err
        said = [r.getMessage() for r in caplog.records if "the decoder said" in r.getMessage()]
        assert len(said) == 1 and "cut.mp3" in said[0] and "Xing stream size" in said[0]


def test_damage_inside_a_flac_becomes_silence_and_the_rest_stays_in_time(tmp_path):
    noise = (np.random.default_rng(0).standard_normal((2, 88200)) * 0.1).astype(np.float32)
    sf.write(tmp_path / "good.flac", noise.T, 44100)
    data = bytearray((tmp_path / "good.flac").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 200] = bytes(200)  # one FLAC frame (4096 frames of audio) lost
    (tmp_path / "damaged.flac").write_bytes(bytes(data))
    song = decode(tmp_path / "damaged.flac")
    assert song.frames == 88200
    assert song.warnings and "replaced by silence" in song.warnings[0]
    # After the damage the audio sits where it was, not 4096 frames early.
    np.testing.assert_allclose(song.samples[:, -22050:], noise[:, -22050:], atol=1e-4)
    silent = np.flatnonzero(~song.samples.any(axis=0))
    assert len(silent) == 4096 and silent[-1] - silent[0] == 4095


@pytest.mark.parametrize("lost", [2000, 8000])
def test_damage_inside_an_mp3_is_not_called_a_damaged_header(tmp_path, lost):
    """8000 bytes are past the 4 KB a frame header was looked for in: the frames after them
    went uncounted, and the file was said to have a damaged header."""
    noise = (np.random.default_rng(4).uniform(-0.3, 0.3, (88200, 2))).astype(np.float32)
    sf.write(tmp_path / "good.mp3", noise, 44100, format="MP3")
    data = bytearray((tmp_path / "good.mp3").read_bytes())
    third = len(data) // 3
    data[third : third + lost] = bytes(lost)  # frames lost; the header is intact
    (tmp_path / "damaged.mp3").write_bytes(bytes(data))
    song = decode(tmp_path / "damaged.mp3")
    assert song.duration > 1.8
    assert song.warnings and not any("header" in warning for warning in song.warnings)


@pytest.mark.parametrize("garbage", ["zeros", "noise"])
@pytest.mark.parametrize("bitrate", ["constant", "variable"])
def test_damage_inside_an_mp3_becomes_silence_and_the_rest_stays_in_time(
    tmp_path, garbage, bitrate
):
    """An mp3's packets carry no time: the packets lost to 8 KB of damage (18 at 144 kbps,
    0.47 s) pulled the rest of the song earlier, and the warning said it stayed in time."""
    from stemgui.audio.encode import AudioFormat, write_audio

    rng = np.random.default_rng(5)
    noise = rng.uniform(-0.3, 0.3, (2, 6 * 44100)).astype(np.float32)
    good = tmp_path / "good.mp3"
    if bitrate == "constant":  # LAME at 128 kbps: every frame 417 or 418 bytes
        write_audio(good, noise, 44100, AudioFormat("mp3", mp3_bitrate=128, clip="none"))
    else:  # libsndfile's LAME, at a variable rate
        sf.write(good, noise.T, 44100, format="MP3")
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    damage = bytes(8000) if garbage == "zeros" else rng.integers(0, 256, 8000, np.uint8).tobytes()
    data[middle : middle + 8000] = damage
    (tmp_path / "damaged.mp3").write_bytes(bytes(data))
    clean, song = decode(good), decode(tmp_path / "damaged.mp3")
    assert song.warnings and "replaced by silence" in song.warnings[-1]
    assert abs(song.frames - clean.frames) < 1152  # the encoder's padding, at most
    silent = np.flatnonzero(~song.samples.any(axis=0))
    assert len(silent) % 1152 == 0 and 8000 / 640 < len(silent) / 1152 < 8000 / 320
    # After the damage (and the frame the bit reservoir spoils) the song is where it was.
    after = slice(silent[-1] + 4 * 1152, clean.frames - 4410)
    np.testing.assert_allclose(song.samples[:, after], clean.samples[:, after], atol=1e-4)


def test_wav_cut_inside_its_data_keeps_what_is_there_and_warns(tmp_path, caplog):
    data = tone(44100, 0.1)
    sf.write(tmp_path / "whole.wav", data.T, 44100, subtype="FLOAT")
    cut = tmp_path / "cut.wav"
    cut.write_bytes((tmp_path / "whole.wav").read_bytes()[:20000])
    song = decode(cut)
    assert 0 < song.frames < 4410
    np.testing.assert_array_equal(song.samples, data[:, : song.frames])
    assert song.warnings and "truncated" in song.warnings[0]
    assert "truncated" in caplog.text


def test_streamed_wav_with_unknown_length_is_not_called_truncated(tmp_path):
    sf.write(tmp_path / "whole.wav", tone(44100, 0.1).T, 44100)
    raw = bytearray((tmp_path / "whole.wav").read_bytes())
    at = raw.index(b"data")
    raw[at + 4 : at + 8] = b"\xff\xff\xff\xff"  # what a live recorder writes before it knows
    (tmp_path / "live.wav").write_bytes(bytes(raw))
    song = decode(tmp_path / "live.wav")
    assert song.frames == 4410
    assert song.warnings == ()


def test_pyav_value_error_becomes_decode_error(tmp_path, monkeypatch):
    from stemgui.audio import _pyav

    def refuse(path, scratch=None):
        raise ValueError("Frame does not match AudioResampler setup.")

    monkeypatch.setattr(_pyav, "decode", refuse)
    path = av_write(tmp_path / "song.m4a", tone(44100, 0.1), 44100, "aac", "mp4")
    assert "damaged" in reason_of(path)


def test_text_renamed_to_mp3(tmp_path):
    path = tmp_path / "lyrics.mp3"
    path.write_text("Hello, this is not a song.\n" * 40)
    assert "not an audio file (it looks like text)" in reason_of(path)


def test_png_renamed_to_wav(tmp_path):
    path = tmp_path / "cover.wav"
    path.write_bytes(png_bytes())
    assert "not an audio file (it looks like a PNG image)" in reason_of(path)


def test_video_without_audio(tmp_path):
    path = av_write(tmp_path / "silent.mp4", None, 44100, None, "mp4", video="mpeg4")
    assert "no audio stream" in reason_of(path)


def test_unsupported_codec(tmp_path):
    path = tmp_path / "odd.wav"
    path.write_bytes(wav_with_format_tag(0x9999))
    assert "codec this app cannot decode" in reason_of(path)


def test_zero_frames(tmp_path):
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros((0, 2), np.float32), 44100)
    assert "zero frames" in reason_of(path)


def test_a_sample_or_two_that_resample_to_nothing_are_refused(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, np.full((1, 2), 0.5, np.float32), 96000)
    # not "contains no audio (zero frames); the file is empty or damaged": it is neither
    assert reason_of(path) == (  # what to do too: it said what was wrong alone
        "is too short: 1 frame(s) at 96000 Hz are none at 44100 Hz; choose a longer song"
    )


def test_all_nan_is_refused(tmp_path):
    path = tmp_path / "nan.wav"
    sf.write(path, np.full((100, 2), np.nan, np.float32), 44100, subtype="FLOAT")
    assert "all are NaN or infinite" in reason_of(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.ogg"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert "truncated or corrupt" in reason_of(path)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a", "opus"])
def test_any_cut_gives_audio_or_decode_error(tmp_path, ext):
    """Whatever the cut, decode returns finite audio or raises DecodeError, nothing else."""
    source = tmp_path / f"whole.{ext}"
    samples = tone(44100, 0.5)
    if ext in ("m4a", "opus"):
        codec, container = {"m4a": ("aac", "mp4"), "opus": ("libopus", "ogg")}[ext]
        av_write(source, tone(48000, 0.5), 48000, codec, container)
    else:
        sf.write(source, samples.T, 44100)
    data = source.read_bytes()
    for i, cut in enumerate((1, 4, 12, 44, 45, 200, len(data) // 3, len(data) - 7)):
        path = tmp_path / f"cut{i}.{ext}"
        path.write_bytes(data[:cut])
        try:
            song = decode(path)
        except DecodeError as error:
            assert error.path == path and error.reason
        else:
            assert song.frames > 0 and np.isfinite(song.samples).all()


def test_probe_reports_the_same_reasons(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "cover.wav").write_bytes(png_bytes())
    sf.write(tmp_path / "nothing.wav", np.zeros((0, 2), np.float32), 44100)
    av_write(tmp_path / "silent.mp4", None, 44100, None, "mp4", video="mpeg4")
    expected = {
        "missing.wav": "does not exist",
        "empty.wav": "empty (0 bytes)",
        "cover.wav": "PNG image",
        "nothing.wav": "zero frames",
        "silent.mp4": "no audio stream",
    }
    for name, words in expected.items():
        with pytest.raises(DecodeError, match=re.escape(words)):
            probe(tmp_path / name)


def test_non_finite_samples_are_counted_and_silenced_in_every_block(tmp_path, monkeypatch):
    """Replaced a block at a time (a whole-song mask cost 300 MB at 60 minutes): those of
    every block, the first and the last, and none of the others."""
    import sys

    monkeypatch.setattr(sys.modules["stemgui.audio._soundfile"], "_READ_BLOCK_FRAMES", 1000)
    data = (np.random.default_rng(5).uniform(-0.5, 0.5, (2, 4500))).astype(np.float32)
    data[0, 0], data[1, 999], data[0, 1000], data[1, 4499] = np.nan, np.inf, -np.inf, np.nan
    data[:, 2500:2600] = np.nan
    sf.write(tmp_path / "odd.wav", data.T, 44100, subtype="FLOAT")
    song = decode(tmp_path / "odd.wav")
    assert song.warnings == ("204 NaN or infinite samples replaced by silence",)
    expected = np.where(np.isfinite(data), data, np.float32(0.0))
    np.testing.assert_array_equal(song.samples, expected)
