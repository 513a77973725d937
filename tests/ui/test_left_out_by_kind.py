"""The window's status bar names what a folder search left out by what it is: folders that
cannot be read, links that loop back on themselves (``SongIntake``, ``_left_out``)."""

from __future__ import annotations

import sys

import pytest

from tests.fakes import unreadable

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="links need privileges there")

LOOP = (
    "is a link that loops back on itself (to {0}); give the folder or song it was meant for "
    "instead, or fix or remove the link."
)


def test_links_that_loop_are_called_links(window, songs):
    """Two looping links in a library dropped were said as "Left out 2 folders"."""
    album = songs[0].parent
    (album / "cd").symlink_to("cd.b")
    (album / "cd.b").symlink_to("cd")
    assert [job.path for job in window.add_paths([album])] == songs
    assert window.statusBar().currentMessage() == (
        "Added 2 songs to the queue. Left out 2 links, each named in the log file; the first, "
        f"{album / 'cd'}, {LOOP.format('cd.b')}"
    )


def test_folders_and_links_left_out_together_are_counted_apart(window, songs, monkeypatch):
    album = songs[0].parent
    (album / "Disc 2").symlink_to("Disc 2")
    (album / "cd2").mkdir()
    (album / "cd3").mkdir()
    unreadable(monkeypatch, album / "cd2", album / "cd3")
    assert [job.path for job in window.add_paths([album])] == songs
    assert window.statusBar().currentMessage() == (
        "Added 2 songs to the queue. Left out 2 folders and 1 link, each named in the log file; "
        f"the first, {album / 'cd2'}, cannot be read: permission denied; check its permissions."
    )
