"""decode() reads a song whole where its header is wrong about its length: joined mp3s, chained
Oggs, a damaged or missing mp3 header, a stream whose format changes part way."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.decode import decode
from tests.audio.media import av_write, spectrum_peak, tone


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
