"""The beat grid of songs that are steady in most of their length: drums under another
instrument's bleed for a third of the song (as a separated drums stem holds it), a ritardando
at the end, an intro in free time."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.tempo import estimate_tempo
from tests.stems.drumkit import (
    RATE,
    drum_track,
    grid_error,
    slowed_beats,
    slowing_down,
    under_bleed,
)


@pytest.mark.parametrize("third", [0, 1, 2])
def test_drums_under_bleed_for_a_third_of_the_song_keep_the_grid(third):
    """128 BPM drums, 20 dB quieter for a third of a minute under the bleed of a melody at
    -20 dBFS (as loud as the drums elsewhere): those sections held as many onsets as the
    drums' and little pulse, were taken for beats at another tempo, and the song had none."""
    tempo = estimate_tempo(under_bleed(drum_track(128, 60.0, "four"), third * 20.0, 20.0), RATE)
    assert tempo.beat == pytest.approx(60 / 128, rel=1e-4)
    for at in (5.0, 30.0, 55.0):
        assert abs(grid_error(tempo, 0.0, 128, at)) < 0.005


def test_a_ritardando_at_the_end_keeps_the_grid_of_the_steady_part():
    """200 beats at 120 BPM, then 8 bars slowing down to 90: the last sections lay off the
    line, as a tempo change leaves them, and the song had no grid; the grid is the steady
    part's (it goes on over the ritardando as a line)."""
    song = slowing_down(drum_track(120, 120.0, seed=4), 120, 200, 32, 0.75)
    tempo = estimate_tempo(song, RATE)
    assert tempo.beat == pytest.approx(0.5, rel=1e-4)
    for at in (0.0, 50.0, 99.5):
        assert abs(grid_error(tempo, 0.0, 120, at)) < 0.005
    last = slowed_beats(120, 200, 32, 0.75)[-1]  # the 232nd beat after the first
    assert (last - tempo.first_beat) / tempo.beat > 236  # a line: it does not slow down


def test_an_intro_in_free_time_keeps_the_grid_of_the_steady_part():
    """8 bars of drums in free time (every hit up to 200 ms off its beat), then 100 s at
    120 BPM."""
    free = drum_track(120, 16.0, "break", jitter_ms=200, seed=3)
    song = np.concatenate([free, drum_track(120, 100.0, seed=1)], axis=1)
    tempo = estimate_tempo(song, RATE)
    assert tempo.beat == pytest.approx(0.5, rel=1e-4)
    for at in (16.0, 66.0, 115.5):
        assert abs(grid_error(tempo, 16.0, 120, at)) < 0.005
