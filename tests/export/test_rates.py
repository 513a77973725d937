"""``stemgui.export.rates``: the rate a song's stems are exported at."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from stemgui.audio.encode import AudioFormat
from stemgui.export.rates import export_rate, song_rate

WAV, MP3 = AudioFormat(kind="wav", bits=16), AudioFormat(kind="mp3")


def test_a_song_s_rate_is_read_from_its_headers_and_none_when_it_is_gone(tmp_path):
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros((4800, 2), np.float32), 48000)
    assert song_rate(song) == 48000
    assert song_rate(tmp_path / "moved.wav") is None
    (tmp_path / "empty.wav").write_bytes(b"")
    assert song_rate(tmp_path / "empty.wav") is None


def test_the_song_s_rate_when_the_format_holds_it_else_the_stems():
    assert export_rate(WAV, 48000, 44100) == 48000
    assert export_rate(MP3, 48000, 44100) == 48000
    assert export_rate(WAV, 96000, 44100) == 96000
    assert export_rate(MP3, 96000, 44100) is None  # mp3 holds no 96 kHz: the stems' own
    assert export_rate(WAV, 44100, 44100) is None  # nothing to resample
    assert export_rate(WAV, None, 44100) is None  # the song is gone


def test_an_mp3_at_a_song_s_rate_that_would_lower_its_bit_rate_is_at_the_stems():
    """A 22.05 kHz song as a 320 kbps mp3 at its own rate came out at 160 kbps (all LAME writes
    there) without a word: it keeps the bit rate asked, at the stems' rate."""
    assert export_rate(MP3, 22050, 44100) is None
    assert export_rate(AudioFormat(kind="mp3", mp3_bitrate=160), 22050, 44100) == 22050
    assert export_rate(AudioFormat(kind="mp3", mp3_bitrate=64), 11025, 44100) == 11025
    assert export_rate(AudioFormat(kind="mp3", mp3_bitrate=96), 11025, 44100) is None
    assert export_rate(MP3, 32000, 44100) == 32000
