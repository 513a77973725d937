"""Tags: the song's read back whatever their encoding, and each stem's written in every format."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.tags import read_tags


def wav_with_info(path, info: dict[bytes, bytes]) -> None:
    """A WAV whose LIST/INFO chunk holds these raw bytes (``b"INAM"``: title...)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros((100, 2), np.float32), 44100, format="WAV", subtype="PCM_16")
    data = bytearray(buffer.getvalue())
    fields = b""
    for key, value in info.items():
        text = value + b"\0"
        fields += key + struct.pack("<I", len(text)) + text + b"\0" * (len(text) % 2)
    data += b"LIST" + struct.pack("<I", 4 + len(fields)) + b"INFO" + fields
    data[4:8] = struct.pack("<I", len(data) - 8)
    path.write_bytes(bytes(data))


def test_a_wav_s_latin_1_tags_keep_their_accents(tmp_path):
    """Windows tools write INFO tags in their code page: read as UTF-8 with what is not UTF-8
    dropped, "Café Noir" lost its é."""
    song = tmp_path / "latin1.wav"
    wav_with_info(
        song,
        {
            b"INAM": "Café Noir".encode("cp1252"),
            b"IART": "Björk".encode("cp1252"),
            b"IGNR": "Électro €".encode("cp1252"),
        },
    )
    assert read_tags(song) == {"title": "Café Noir", "artist": "Björk", "genre": "Électro €"}
    utf8 = tmp_path / "utf8.wav"
    wav_with_info(utf8, {b"INAM": "Café 東京".encode(), b"IART": b"Me"})
    assert read_tags(utf8) == {"title": "Café 東京", "artist": "Me"}


def test_a_very_long_title_is_cut_in_a_wav_and_the_other_tags_stay(tmp_path):
    """libsndfile reads no WAV tag of 2046 bytes or more, and then none at all: a 3000-letter
    title lost the artist too. FLAC keeps it whole."""
    from stemgui.audio.encode import AudioFormat, write_audio

    tags = {"title": "Tï" * 1500, "artist": "The Band", "album": "Roads"}
    silence = np.zeros((2, 100), np.float32)
    wav = write_audio(tmp_path / "x.wav", silence, 44100, AudioFormat("wav"), tags=tags)
    with sf.SoundFile(wav) as handle:
        assert (handle.artist, handle.album) == ("The Band", "Roads")
        assert handle.title.startswith("TïTï") and len(handle.title.encode()) <= 2000
    flac = write_audio(tmp_path / "x.flac", silence, 44100, AudioFormat("flac"), tags=tags)
    assert read_tags(flac)["title"] == "Tï" * 1500


def test_an_aiff_s_artist_is_read_from_its_author_chunk(tmp_path):
    """An AIFF keeps its artist in an AUTH chunk, which FFmpeg calls "author": the stems of
    an AIFF by libsndfile, FFmpeg or a DAW went out without their artist."""
    song = tmp_path / "song.aiff"
    with sf.SoundFile(song, "w", 44100, 2, format="AIFF") as handle:
        handle.title, handle.artist = "Night Drive", "The Band"
        handle.write(np.zeros((100, 2), np.float32))
    assert read_tags(song) == {"title": "Night Drive", "artist": "The Band"}


@pytest.mark.parametrize("kind", ["wav", "flac", "mp3"])
@pytest.mark.parametrize("tempo", [{}, {"bpm": "120", "key": "Am"}], ids=["alone", "with tempo"])
def test_the_album_artist_reaches_every_format(tmp_path, kind, tempo):
    """libsndfile has no field for it: a compilation's stems lost their "Various Artists" in a
    WAV or a FLAC, and kept it in an mp3."""
    from stemgui.audio.encode import AudioFormat, write_audio

    tags = {"title": "Song (Vocals)", "artist": "The Band", "album_artist": "Various Artists"}
    silence = np.zeros((2, 100), np.float32)
    path = write_audio(tmp_path / f"x.{kind}", silence, 44100, AudioFormat(kind), tags=tags | tempo)
    assert read_tags(path) == tags


def test_a_title_from_a_file_name_that_is_not_utf_8_is_written(tmp_path):
    """A Latin-1 "café.flac" in a UTF-8 folder ("caf\\udce9" to Python) without a title tag:
    the stems' title, the file's name, could not be encoded and every stem failed."""
    from stemgui.audio.encode import AudioFormat, write_audio
    from stemgui.audio.tags import stem_tags

    tags = stem_tags({}, "vocals", "caf\udce9.flac", "model")
    silence = np.zeros((2, 100), np.float32)
    for kind in ("wav", "flac", "mp3"):
        path = write_audio(tmp_path / f"x.{kind}", silence, 44100, AudioFormat(kind), tags=tags)
        assert read_tags(path)["title"] == "café (Vocals)"
