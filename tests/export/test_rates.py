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
