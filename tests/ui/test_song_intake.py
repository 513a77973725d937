"""What the window says of the folders given to it that it cannot search (``SongIntake``): a
folder of another user's, given or inside one given."""

from __future__ import annotations

from stemgui.ui.queue import JobState
from tests.fakes import unreadable
from tests.ui.conftest import TIMEOUT_MS


def test_a_folder_given_that_cannot_be_read_is_said_so(window, songs, tmp_path, monkeypatch):
    """A folder given that cannot be read (another user's) was said to hold "No audio or video
    files": the window took every folder without songs or stems for an empty one. It says
    why, and what to do, as stemgui-separate does; the songs given with it are queued."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    unreadable(monkeypatch, theirs)
    assert [job.path for job in window.add_paths([theirs, songs[0]])] == songs[:1]
    assert window.statusBar().currentMessage() == (
        f"Added 1 song to the queue. {theirs} cannot be read: permission denied; check its "
        "permissions."
    )
    assert window.add_paths([theirs]) == []
    assert window.statusBar().currentMessage() == (
        f"{theirs} cannot be read: permission denied; check its permissions."
    )


def test_folders_inside_one_given_that_cannot_be_read_are_said_once(
    window, songs, tmp_path, monkeypatch
):
    """A folder inside a library dropped that cannot be read was left out, said in the log
    file alone: the queue held fewer songs than the library, and nothing said why. The status
    bar says how many were left out, naming the first with why, once for the drop (a link to
    the library, dropped with it, reaches the same folders)."""
    album = songs[0].parent
    for name in ("cd2", "cd3"):
        (album / name).mkdir()
    link = tmp_path / "link"
    link.symlink_to(album)
    unreadable(monkeypatch, album / "cd2")
    assert [job.path for job in window.add_paths([album])] == songs
    said = f"{album / 'cd2'}, which cannot be read: permission denied; check its permissions."
    assert window.statusBar().currentMessage() == f"Added 2 songs to the queue. Left out {said}"
    unreadable(monkeypatch, album / "cd2", album / "cd3", link / "cd2", link / "cd3")
    assert window.add_paths([album, link]) == []
    assert window.statusBar().currentMessage() == (
        "All 2 songs are already waiting or separating. Left out 2 folders, each named in the "
        f"log file; the first, {album / 'cd2'}, cannot be read: permission denied; check its "
        "permissions."
    )


def test_a_link_that_loops_back_on_itself_is_said_so_with_what_to_do(qtbot, window, tmp_path):
    """A folder dropped that loops back on itself through links failed as "cannot be read: Too
    many levels of symbolic links", with nothing to do about it."""
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    (job,) = window.add_paths([loop])
    qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
    assert job.state is JobState.FAILED
    assert job.reason == (
        "is a link that loops back on itself (to loop); give the folder or song it was meant "
        "for instead, or fix or remove the link"
    )
