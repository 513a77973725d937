"""The tempo and key tags DJ software reads: ID3's TBPM and TKEY in an mp3 and in a WAV's
"id3 " chunk, BPM and INITIALKEY in a FLAC; the samples as they would be without them."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.encode import AudioFormat, write_audio
from stemgui.audio.id3 import append_id3_chunk, id3_tag
from tests.audio.media import tags_of

TAGS = {"title": "Café (Vocals)", "artist": "Björk", "track": "3", "bpm": "107", "key": "F#m"}
RATE = 44100


def chunks(path) -> list[tuple[bytes, int]]:
    """(id, size) of every chunk of the RIFF file ``path``; its RIFF size must be the file's."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    found, at = [], 12
    while at < len(data):
        size = struct.unpack_from("<I", data, at + 4)[0]
        found.append((data[at : at + 4], size))
        at += 8 + size + size % 2
    assert at == len(data)
    return found


def song(channels=2, frames=RATE // 10) -> np.ndarray:
    return (0.2 * np.random.default_rng(0).standard_normal((channels, frames))).astype(np.float32)


def test_an_id3_tag_is_as_id3v2_4_lays_it_out():
    assert id3_tag({"bpm": "119"}) == b"ID3\x04\x00\x00\x00\x00\x00\x0e" + b"TBPM" + (
        b"\x00\x00\x00\x04\x00\x00\x03119"
    )
    long = id3_tag({"title": "x" * 200})  # seven bits a byte: 211 is 01 53, 201 is 01 49
    assert long[6:10] == b"\x00\x00\x01\x53" and long[14:18] == b"\x00\x00\x01\x49"
    comment = id3_tag({"comment": "Vocals of Song", "genre": "Rock", "other": "left out"})
    assert b"TCON" in comment and b"COMM" in comment and b"left out" not in comment
    assert comment.endswith(b"COMM\x00\x00\x00\x13\x00\x00\x03eng\x00Vocals of Song")


@pytest.mark.parametrize(
    ("fmt", "names"),
    [
        (AudioFormat("wav", bits=16), ("TBPM", "TKEY")),
        (AudioFormat("wav", bits=24), ("TBPM", "TKEY")),
        (AudioFormat("wav", bits=32, float=True), ("TBPM", "TKEY")),
        (AudioFormat("flac", bits=24), ("BPM", "INITIALKEY")),
        (AudioFormat("mp3"), ("TBPM", "TKEY")),
    ],
    ids=["wav16", "wav24", "wav32f", "flac", "mp3"],
)
def test_every_format_carries_the_tempo_and_key(tmp_path, fmt, names):
    samples = song()
    tagged = write_audio(tmp_path / f"tagged.{fmt.kind}", samples, RATE, fmt, tags=TAGS)
    found = tags_of(tagged)
    assert (found[names[0]], found[names[1]]) == ("107", "F#m")
    assert (found["title"], found["artist"], found["track"]) == ("Café (Vocals)", "Björk", "3")
    if fmt.kind == "mp3":
        return
    plain = write_audio(tmp_path / f"plain.{fmt.kind}", samples, RATE, fmt, tags={"title": "x"})
    np.testing.assert_array_equal(sf.read(tagged)[0], sf.read(plain)[0])
    assert "TBPM" not in tags_of(plain) and "BPM" not in tags_of(plain)
    if fmt.kind == "wav":
        assert [name for name, _ in chunks(tagged)][-1] == b"id3 "
        assert b"id3 " not in [name for name, _ in chunks(plain)]  # none without a tempo


def test_a_wav_of_an_odd_size_gets_its_chunk_on_an_even_byte(tmp_path):
    """24-bit mono, 3 frames: 9 bytes of samples, a pad byte, then the ID3 chunk."""
    samples = np.array([[0.1, -0.2, 0.3]], np.float32)
    path = write_audio(tmp_path / "odd.wav", samples, RATE, AudioFormat("wav", bits=24), tags=TAGS)
    assert (b"data", 9) in chunks(path)
    assert tags_of(path)["TKEY"] == "F#m"
    np.testing.assert_allclose(sf.read(path, always_2d=True)[0][:, 0], samples[0], atol=1e-6)


def test_a_file_that_is_not_a_wav_is_left_as_it_was(tmp_path):
    path = tmp_path / "song.aiff"
    sf.write(path, song().T, RATE, format="AIFF", subtype="PCM_16")
    before = path.read_bytes()
    assert not append_id3_chunk(path, TAGS)
    assert path.read_bytes() == before


def test_an_rf64_wav_gets_its_chunk_counted_in_its_ds64_size(tmp_path, monkeypatch):
    """A wav past 4 GiB is RF64 (the limit lowered here to this song's 24-bit mono frames):
    it had no tempo or key, "not a RIFF WAV"."""
    from stemgui.audio import encode

    samples = song(channels=1)
    bytes_ = samples.shape[1] * 3
    monkeypatch.setattr(encode, "RIFF_BYTES", encode._WAV_HEADER_ROOM + bytes_ - 1)
    path = write_audio(tmp_path / "long.wav", samples, RATE, AudioFormat(bits=24), tags=TAGS)
    data = path.read_bytes()
    assert data[:4] == b"RF64" and data[12:16] == b"ds64"
    assert struct.unpack_from("<Q", data, 20)[0] == len(data) - 8  # the RIFF size
    assert tags_of(path)["TBPM"] == "107" and tags_of(path)["TKEY"] == "F#m"
    np.testing.assert_allclose(sf.read(path, always_2d=True)[0][:, 0], samples[0], atol=2**-23)


def test_a_flac_s_tempo_and_key_take_the_room_kept_for_them(tmp_path):
    """Written in place: the audio does not move (the file is not copied), the room left over
    is padding, and the license comment that kept it is gone."""
    from stemgui.audio.flac_comments import _RESERVED_ENTRY, _blocks, _body, _entries

    path = write_audio(tmp_path / "x.flac", song(), RATE, AudioFormat("flac"), tags=TAGS)
    with open(path, "rb") as file:
        blocks = _blocks(file)
        audio = file.tell()
    assert [kind for _, kind, _ in blocks] == [0, 4, 1]  # stream info, comments, padding
    vendor, entries = _entries(blocks[1][2])
    assert (
        b"BPM=107" in entries
        and b"INITIALKEY=F#m" in entries
        and b"title=Caf\xc3\xa9 (Vocals)" in entries
    )
    assert not [entry for entry in entries if entry.startswith(b"license=")]
    # where libsndfile put the audio: behind its comments with the room kept (a copy puts it
    # behind the new comments alone)
    kept = [entry for entry in entries if not entry.startswith((b"BPM=", b"INITIALKEY="))]
    assert audio == 4 + (4 + 34) + 4 + len(_body(vendor, [*kept, _RESERVED_ENTRY]))
    assert "license" not in {name.lower() for name in tags_of(path)}


def test_a_flac_without_room_or_comments_is_rewritten_with_them(tmp_path):
    from stemgui.audio.flac_comments import add_vorbis_comments

    samples = song(1)
    path = tmp_path / "bare.flac"
    sf.write(path, samples[0], RATE, format="FLAC")  # no tags: no comment block at all
    add_vorbis_comments(path, {"BPM": "90"})
    assert tags_of(path)["BPM"] == "90"
    np.testing.assert_allclose(sf.read(path)[0], samples[0], atol=1 / 32768)
    assert not list(tmp_path.glob(".*"))  # the rewrite's temporary file is gone


def test_comments_that_outgrow_the_room_kept_leave_no_placeholder(tmp_path):
    """Past the room kept the file is rewritten: it kept the license comment that held the
    room, and DJ software showed a license of 96 tildes."""
    tags = TAGS | {"album_artist": "The Orchestra and Choir " * 10}  # 240 bytes: past the room
    path = write_audio(tmp_path / "x.flac", song(), RATE, AudioFormat("flac"), tags=tags)
    found = tags_of(path)
    assert "license" not in {name.lower() for name in found}
    assert (found["BPM"], found["album_artist"]) == ("107", tags["album_artist"])
