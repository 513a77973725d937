"""find_audio_files, SUPPORTED_EXTENSIONS, the not-audio sniffer, and the lazy imports."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

import pytest

from stemgui.audio.files import SUPPORTED_EXTENSIONS, find_audio_files
from stemgui.audio.sniff import not_audio_kind
from tests.fakes import unreadable
from tests.pipes import without_waiting


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_supported_extensions_are_lower_case_with_a_dot():
    assert isinstance(SUPPORTED_EXTENSIONS, frozenset)
    assert all(ext.startswith(".") and ext == ext.lower() for ext in SUPPORTED_EXTENSIONS)
    wanted = {".wav", ".flac", ".ogg", ".aiff", ".mp3", ".m4a", ".opus", ".wma", ".mp4", ".mkv"}
    assert wanted | {".webm", ".mov"} <= SUPPORTED_EXTENSIONS
    assert ".txt" not in SUPPORTED_EXTENSIONS and ".png" not in SUPPORTED_EXTENSIONS


def test_folders_are_searched_recursively_and_sorted(tmp_path):
    album = tmp_path / "album"
    b = touch(album / "b.mp3")
    a = touch(album / "a.FLAC")
    deep = touch(album / "cd2" / "01.m4a")
    clip = touch(album / "video.MKV")
    touch(album / "cover.png")
    touch(album / "notes.txt")
    touch(album / ".hidden.wav")
    touch(album / "._b.mp3")  # macOS resource fork
    touch(album / ".git" / "x.wav")
    touch(album / ".song.wav.1234.stemgui-part")
    c = touch(album / "C.wav")
    # path order, folder by folder, ignoring case: a, b, C, cd2/01, video
    assert find_audio_files([album]) == [a, b, c, deep, clip]


def test_files_are_kept_in_order_once(tmp_path):
    album = tmp_path / "album"
    song = touch(album / "song.wav")
    other = touch(tmp_path / "zzz.ogg")
    notes = touch(tmp_path / "notes.txt")
    missing = tmp_path / "missing.mp3"
    result = find_audio_files([other, str(notes), album, song, missing, tmp_path / "zzz.ogg"])
    assert result == [other, notes, song, missing]


def test_a_file_reached_two_ways_is_found_once(tmp_path):
    song = touch(tmp_path / "album" / "song.wav")
    (tmp_path / "album" / "sub").mkdir()
    link = tmp_path / "link.wav"
    link.symlink_to(song)
    roundabout = tmp_path / "album" / "sub" / ".." / "song.wav"
    assert find_audio_files([song, roundabout, link, tmp_path / "album"]) == [song]


def test_a_single_path_is_accepted(tmp_path):
    song = touch(tmp_path / "a" / "song.opus")
    assert find_audio_files(tmp_path) == [song]
    assert find_audio_files(str(song)) == [song]


def test_empty_inputs(tmp_path):
    assert find_audio_files([]) == []
    assert find_audio_files([tmp_path]) == []


@pytest.mark.skipif(sys.platform == "win32", reason="no named pipes or sockets in folders there")
def test_pipes_sockets_and_links_to_them_in_a_folder_are_left_out_saying_so(
    tmp_path, monkeypatch, caplog
):
    """A named pipe in a folder was listed as a song for every caller: one that opens it
    (to hash it, to decode it) waits for a writer for ever. Left out unopened, said in the
    log; one named by itself is kept, for decoding to refuse in words."""
    monkeypatch.chdir(tmp_path)  # a socket's path is short
    song = touch(tmp_path / "album" / "song.wav")
    pipe = tmp_path / "album" / "pipe.mp3"
    os.mkfifo(pipe)
    (tmp_path / "album" / "to pipe.wav").symlink_to(pipe)
    server = socket.socket(socket.AF_UNIX)
    server.bind("album/socket.flac")
    try:
        with caplog.at_level(logging.WARNING):
            found = without_waiting(lambda: find_audio_files([tmp_path / "album", pipe]), pipe)
    finally:
        server.close()
    assert found == [song, pipe]
    for name in ("pipe.mp3", "socket.flac", "to pipe.wav"):
        said = f"{tmp_path / 'album' / name}: left out: not a regular file (a named pipe, a "
        assert said + "socket or a device)" in caplog.text


def test_sniffer_names_only_what_is_certain():
    assert not_audio_kind(b"\x89PNG\r\n\x1a\n....") == "a PNG image"
    assert not_audio_kind(b"\xff\xd8\xff\xe0") == "a JPEG image"
    assert not_audio_kind(b"%PDF-1.7") == "a PDF document"
    assert not_audio_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "a WebP image"
    assert not_audio_kind("<html>Chanson d'été</html>\n".encode()) == "text"
    assert not_audio_kind("été".encode()[:-1]) == "text"  # cut inside a character
    # a cue sheet or playlist as Windows tools save them, behind a byte-order mark
    assert not_audio_kind('\ufeffFILE "Album.flac" WAVE\r\n'.encode()) == "text"
    assert not_audio_kind("\ufeff".encode()) is None
    # audio and unknown binaries: not named
    assert not_audio_kind(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert not_audio_kind(b"ID3\x04\x00\x00\x00\x00\x00\x00") is None
    assert not_audio_kind(b"fLaC\x00\x00\x00\x22") is None
    assert not_audio_kind(b"\xff\xfb\x90\x64") is None
    assert not_audio_kind(b"") is None


def test_importing_the_room_loads_neither_torch_nor_pyav():
    code = (
        "import sys, stemgui.audio\n"
        "heavy = {'torch', 'av', 'julius', 'soundfile'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_track_numbers_without_leading_zeros_are_in_number_order(tmp_path):
    """An album named "1 Intro", "2 …", "10 Outro" was queued 1, 10, 2 (as a file manager
    does not): separated, and exported all, out of order."""
    album = tmp_path / "album"
    names = ["1 Intro.mp3", "2 Song.mp3", "9 Song.mp3", "10 Outro.mp3", "Disc 2/1 b.mp3"]
    names += ["Disc 10/1 a.mp3", "track2b.mp3", "track10a.mp3"]
    expected = [touch(album / name) for name in names]
    assert find_audio_files([album]) == expected


def test_a_folder_that_cannot_be_read_is_said_and_the_others_searched(
    tmp_path, monkeypatch, caplog
):
    """os.walk skips a folder it cannot list without a word: the songs in a folder of another
    user's, or one whose permissions were lost in a copy, were missing from the batch and
    nothing said why. Said now, with what to do; the other folders are searched as before."""
    album = tmp_path / "album"
    one = touch(album / "cd1" / "one.wav")
    touch(album / "cd2" / "two.wav")
    three = touch(album / "three.wav")
    unreadable(monkeypatch, album / "cd2")
    with caplog.at_level(logging.WARNING):
        assert find_audio_files([album]) == [one, three]
    said = f"{album / 'cd2'}: left out: cannot be read: permission denied; check its permissions"
    assert said in caplog.text
