"""The status bar: a message too long for the window keeps its start and its end in view."""

from __future__ import annotations

import pytest

TITLE = (
    "DJ Extremely Long Artist Name feat. Another Artist - A Very Long Song Title "
    "(Extended Club Remix) [Radio Edit].mp3"
)


@pytest.fixture
def window(qtbot, window):
    """The conftest's window at 1024 x 640, on screen."""
    window.resize(1024, 640)
    qtbot.waitExposed(window)
    return window


def test_a_long_message_is_cut_in_the_middle_left_of_the_device(window):
    """Cut at the right, mid-word, under the device label: "… To redo a separ"."""
    message = (
        f"Applies to the songs separated from now on; {TITLE} keeps the settings it started "
        "with. To redo a separated song with it, add the song again."
    )
    bar = window.statusBar()
    bar.showMessage(message)
    shown, room = bar.shown_message(), bar.message_rect()
    assert shown.startswith("Applies to the songs") and "…" in shown
    assert shown.endswith("To redo a separated song with it, add the song again.")
    assert bar.fontMetrics().horizontalAdvance(shown) <= room.width()
    assert room.right() < window.device_label.geometry().left()
    assert bar.currentMessage() == message and bar.toolTip() == message  # whole


def test_a_message_that_fits_is_shown_whole_without_a_tooltip(window):
    bar = window.statusBar()
    bar.showMessage(f"{TITLE}: separated.")
    assert bar.shown_message() == f"{TITLE}: separated." and bar.toolTip() == ""
    window.resize(window.minimumWidth(), 640)  # 796 px: the end is what it says
    assert bar.shown_message().endswith(": separated.") and bar.toolTip() == f"{TITLE}: separated."
