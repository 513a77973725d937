"""Links to folders inside a folder searched for songs (``find_audio_files``, under
``find_tracks``: ``stemgui-separate FOLDER`` and a folder dropped on the window or opened):
followed, as a file manager shows them; a folder reached twice (through a link and directly, or
through two links) searched once, its songs listed once; a link back to a folder above it (the
searched folder, one holding that, or one on the way) said as a loop, once."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from stemgui.audio.files import find_audio_files
from stemgui.cli.tracks import find_tracks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="links need privileges there")

LOOP = (
    "is a link that loops back to a folder above it (to {0}); give the folder or song it was "
    "meant for instead, or fix or remove the link"
)


def touch(*paths: str) -> None:
    for path in paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(b"x")


@pytest.fixture(autouse=True)
def here(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_the_songs_of_a_linked_folder_are_found_in_file_manager_order(caplog):
    """album/linked -> ../other holding s.wav gave nothing from it, and nothing said so."""
    touch("album/one.wav", "other/s.wav", "other/deeper/t.mp3", "other/notes.txt")
    os.symlink("../other", "album/linked")
    said = []
    with caplog.at_level(logging.WARNING):
        found = find_audio_files([Path("album")], lambda path, why: said.append(path))
    linked = Path("album/linked")
    assert found == [linked / "deeper" / "t.mp3", linked / "s.wav", Path("album/one.wav")]
    assert (said, caplog.text) == ([], "")


def test_the_command_line_and_the_window_find_them_too():
    touch("album/one.wav", "other/s.wav")
    os.symlink("../other", "album/linked")
    found = find_tracks([Path("album")])
    assert found == ([Path("album/linked/s.wav"), Path("album/one.wav")], [])


def test_a_folder_reached_directly_and_through_links_is_searched_once_under_its_own_path(caplog):
    """A "Favourites" folder of links to albums, of the library searched with it and of
    another: each song once, where it is, whichever sorts first."""
    touch("lib/Artist/Album/01.wav", "lib/Artist/Album/02.wav", "guest/g.wav")
    Path("lib/A Favourites").mkdir()  # sorts before "Artist"
    os.symlink("../Artist/Album", "lib/A Favourites/best")
    os.symlink("../../guest", "lib/A Favourites/guest")
    os.symlink("Artist/Album", "lib/Album")
    with caplog.at_level(logging.WARNING):
        found = find_audio_files([Path("lib")])
    assert found == [
        Path("lib/A Favourites/guest/g.wav"),
        Path("lib/Artist/Album/01.wav"),
        Path("lib/Artist/Album/02.wav"),
    ]
    assert caplog.text == ""


def test_a_folder_reached_through_two_links_is_searched_once_by_the_first():
    """Two links to one folder outside, and a link to a folder inside another linked one,
    whichever comes first: each song once, by the first link in file manager order."""
    touch("nas/Box/Disc 1/a.wav", "nas/Box/Disc 2/b.wav", "nas/Live/c.wav")
    Path("lib").mkdir()
    os.symlink("../nas/Box/Disc 1", "lib/1 disc")
    os.symlink("../nas/Box", "lib/2 box")
    os.symlink("../nas/Live", "lib/3 live")
    os.symlink("../nas/Live", "lib/4 live again")
    found = find_audio_files([Path("lib")])
    assert found == [
        Path("lib/1 disc/a.wav"),
        Path("lib/2 box/Disc 2/b.wav"),
        Path("lib/3 live/c.wav"),
    ]


def test_a_link_back_to_a_folder_above_is_a_loop_said_once(caplog):
    """A link to the searched folder, to a folder holding it, or to a folder above the link
    would be searched without end; said with what to do, the songs found once."""
    touch("lib/rock/one.wav", "lib/pop/two.wav", "lib/rock/cd/three.wav")
    os.symlink("..", "lib/rock/all")  # lib, which holds the searched folder
    os.symlink(".", "lib/rock/self")
    os.symlink("..", "lib/rock/cd/back")
    said = []
    with caplog.at_level(logging.WARNING):
        found = find_audio_files([Path("lib/rock")], lambda path, why: said.append((path, why)))
    assert found == [Path("lib/rock/cd/three.wav"), Path("lib/rock/one.wav")]
    assert said == [
        (Path("lib/rock/all"), LOOP.format("..")),
        (Path("lib/rock/cd/back"), LOOP.format("..")),
        (Path("lib/rock/self"), LOOP.format(".")),
    ]
    for path, why in said:
        assert caplog.text.count(f"{path}: left out") == 1
        assert f"{path}: left out: {why}" in caplog.text


def test_a_loop_through_links_outside_is_said_at_the_link_that_closes_it():
    """lib/ext -> ext, ext/other -> ext2, ext2/back -> ext: back leads to a folder the search
    came through."""
    touch("lib/one.wav", "ext/a.wav", "ext2/b.wav")
    os.symlink("../ext", "lib/ext")
    os.symlink("../ext2", "ext/other")
    os.symlink("../ext", "ext2/back")
    said = []
    found, problems = find_tracks(
        [Path("lib")], on_unread=lambda path, why: said.append((path, why))
    )
    assert found == [Path("lib/ext/a.wav"), Path("lib/ext/other/b.wav"), Path("lib/one.wav")]
    assert said == [(Path("lib/ext/other/back"), LOOP.format("../ext"))]
    assert problems == []
