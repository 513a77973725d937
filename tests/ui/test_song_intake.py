"""What the window says of the folders given to it that it cannot search (``SongIntake``): a
folder of another user's, given or inside one given."""

from __future__ import annotations

import pytest

from tests.fakes import unreadable
from tests.ui.song_window import model_window


@pytest.fixture
def window(qtbot, settings_store, tiny_model_file):
    win = model_window(qtbot, settings_store, tiny_model_file)
    yield win
    win.close()


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
