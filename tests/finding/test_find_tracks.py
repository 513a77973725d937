"""``stemgui.cli.tracks.find_tracks``, the songs in the folders given to ``stemgui-separate`` and
dropped on the window: which files are songs and which are stems an earlier run or export wrote,
on trees of empty files (nothing is decoded)."""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

import pytest

from stemgui.cli.tracks import NoSongs, find_tracks
from tests.fakes import unreadable
from tests.finding.song_trees import touch
from tests.pipes import without_waiting

STEMS = ("drums", "bass", "other", "vocals")


pytestmark = pytest.mark.usefixtures("in_tmp")


def stems_of(folder: str, ext: str = "wav", names=STEMS) -> list[Path]:
    return touch(*(f"{folder}/{stem}.{ext}" for stem in names))


def test_stems_written_into_the_folder_given_are_not_songs_the_next_time(caplog):
    """``stemgui-separate album -o album`` writes album/htdemucs/one/vocals.wav...; the same
    album given again with another -o (the default one) had its stems separated as songs: only
    output folders above the folder given were looked for, not the folder itself nor one
    inside it (-o album/stems)."""
    songs = touch("album/one.wav", "album/two.mp3")
    for song in songs:
        stems_of(f"album/htdemucs/{song.stem}")
    stems_of("album/stems/htdemucs/one", "flac")
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")]) == (songs, [])
    assert "album: left out 12 file(s) that look like stems of an earlier run" in caplog.text


def test_a_song_named_like_a_stem_alone_is_a_song():
    """A song named vocals.mp3 alone in its folder was left out ("this folder holds nothing but
    1 file(s) that look like stems"), for its path matched {model}/{track}/{stem}.{ext} from
    the folder above; and mix.wav too, beside another song, in the window, whose templates
    looked for stems exported beside each song. Only the stems of one export, together, are
    left out."""
    alone = touch("solo/demo/drums.wav", "solo/live/crowd.wav", "solo/live/vocals.mp3")
    assert find_tracks([Path("solo")]) == (alone, [])
    songs = touch("album/mix.wav", "album/one.wav")
    assert find_tracks([Path("album")], template="{stem}.{ext}") == (songs, [])


def test_the_stems_of_one_export_together_are_left_out(caplog):
    """Their path from an output folder matches a template, and so does another's with only
    the stem changed: of another format (exported twice), of two-stem mode (no_vocals), beside
    the song they were made from (which kept them as songs), or at a pace."""
    stems_of("album/htdemucs/one", "wav", ("vocals", "mix"))
    stems_of("album/htdemucs/one", "flac", ("drums",))
    stems_of("album", "wav", ("one_vocals", "one_no_vocals"))
    stems_of("album/tiny", "mp3", ("vocals 80%", "drums 80%"))
    one, two = touch("album/one.wav", "album/two.wav")
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        paced = [Path("album/tiny/drums 80%.mp3"), Path("album/tiny/vocals 80%.mp3")]
        assert find_tracks([Path("album")], template="{track}_{stem}.{ext}") == (
            [one, *paced, two],
            [],
        )
        # and those of {track}_{stem}, another template then, by their song's name beside them
        assert find_tracks([Path("album")], template="{model}/{stem}.{ext}") == ([one, two], [])
    assert "album: left out 5 file(s)" in caplog.text


def test_one_stem_exported_beside_its_song_is_left_out(caplog):
    """The app's default export, beside each song, of one stem only (htdemucs/one/vocals.wav
    beside one.wav) was queued as a song when the album was dropped again: only two stems or
    more of one export were taken for stems. A file named as the template names a stem, whose
    track is a song beside it, is one; a label after the track's name is the part exported."""
    one, two = touch("album/one.wav", "album/two.mp3")
    exported = touch(
        "album/htdemucs/one/vocals.wav", "album/htdemucs/two 1m02.50s-1m18.00s/bass.flac"
    )
    with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
        assert find_tracks([Path("album")]) == ([one, two], [])
    assert "album: left out 2 file(s) that look like stems" in caplog.text
    stems = Path("album/htdemucs")  # the songs are beside the folder given
    assert find_tracks([stems]) == ([], [NoSongs(stems, tuple(exported))])


def test_the_mix_alone_exported_beside_its_song_is_left_out():
    """The mix exported alone, with a template that writes it next to the song ("one -
    mix.wav" beside "one.wav"), was a song the next time; so was the default template's, of a
    song whose name the export made safe (decomposed "café", as a Mac writes it, composed).
    A stem's name whose track is no song there ("three - vocals.wav",
    "live/htdemucs/encore/vocals.wav") stays a song."""
    one, two = touch("album/one.wav", "album/two cafe\u0301.wav")
    kept = touch("album/three - vocals.wav", "album/live/htdemucs/encore/vocals.wav")
    touch("album/one - mix.wav", "album/htdemucs/two caf\u00e9/mix.mp3")
    assert find_tracks([Path("album")], template="{track} - {stem}.{ext}") == (
        [kept[1], one, kept[0], two],
        [],
    )


@pytest.mark.skipif(sys.platform == "win32", reason="no named pipes or sockets in folders there")
def test_pipes_sockets_and_links_to_them_in_a_folder_are_left_out_unopened(caplog):
    """A named pipe in a folder was taken for a song: the window hashed it for the stem cache,
    which waits for a writer for ever, and the command line counted it as a failed song. What
    is not a regular file is left out, said in the log; a link to a song is a song, and a link
    that leads nowhere is kept, for decoding to say so."""
    (one,) = touch("album/one.wav")
    os.mkfifo("album/pipe.mp3")
    os.mkfifo("outside")
    os.symlink("../outside", "album/to pipe.wav")
    server = socket.socket(socket.AF_UNIX)
    server.bind("album/socket.flac")  # relative: a socket's path is short
    os.symlink("../elsewhere.wav", "album/linked.wav")
    touch("elsewhere.wav")
    os.symlink("loop.mp3", "album/loop.mp3")
    try:
        with caplog.at_level(logging.WARNING, logger="stemgui.cli"):
            pipes = (Path("album/pipe.mp3"), Path("outside"))
            found = without_waiting(lambda: find_tracks([Path("album")]), *pipes)
    finally:
        server.close()
    assert found == ([Path("album/linked.wav"), Path("album/loop.mp3"), one], [])
    for name in ("pipe.mp3", "socket.flac", "to pipe.wav"):
        assert f"album/{name}: left out: not a regular file" in caplog.text
    os.remove("album/one.wav")
    os.remove("album/linked.wav")
    os.remove("album/loop.mp3")
    assert find_tracks([Path("album")]) == ([], [NoSongs(Path("album"))])  # not "only stems"


def test_a_folder_given_that_cannot_be_read_is_said_so(monkeypatch, caplog):
    """A folder given that cannot be read (another user's) was said to hold "no audio files in
    this folder; name the songs, or a folder that holds some": the search skipped it without
    a word. Its own line says why and what to do, once; the other paths given still count."""
    (one,) = touch("one.wav")
    touch("theirs/two.wav")
    unreadable(monkeypatch, Path("theirs"))
    with caplog.at_level(logging.WARNING):
        found, problems = find_tracks([Path("theirs"), one])
    assert found == [one]
    assert [str(p) for p in problems] == [
        "theirs: cannot be read: permission denied; check its permissions"
    ]
    assert "theirs" not in caplog.text  # said once, as the problem
