"""What Playback ▸ Speed and key ▸ Speed up each time round the loop says, turned on where it
cannot act yet: what to do to use it, in plain words."""

from __future__ import annotations

import pytest

from tests.fakes import FakeOutput
from tests.ui.conftest import RATE
from tests.ui.song_window import song_window
from tests.ui.test_speed_trainer_says import _turn_on

SLOWER = "play slower first ([)"
LOOP = "loop a part (drag across the waveforms, or press L)"


@pytest.mark.parametrize(
    ("speed", "looped", "needs"),
    [(1.0, True, SLOWER), (0.75, False, LOOP), (1.0, False, f"{SLOWER} and {LOOP}")],
)
def test_it_says_what_to_do_to_use_it(qtbot, settings_store, tmp_path, speed, looped, needs):
    """It read "Speed up each time round the loop takes a loop played slower a step faster
    each time round, up to the song's pace: …", the item's name run into its description."""
    win, _job = song_window(qtbot, settings_store, tmp_path, output_factory=FakeOutput)
    win.player.set_speed(speed)
    if looped:
        win.player.set_loop(RATE, 2 * RATE)
    assert _turn_on(win) == (
        f"To speed up each time round the loop: {needs}. Playback then goes a step faster "
        "each time round, up to the song's pace."
    )
    win.close()
