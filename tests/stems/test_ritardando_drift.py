"""A ritardando at a song's end too gentle for its sections' tempos to part (8 bars slowing
down to 96-99 % of the tempo) keeps the grid of its steady part: the tempo of its last beats
keeps moving away from the grid's, where after a step it stays put."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.tempo import estimate_tempo
from tests.stems.drumkit import RATE, drum_track, grid_error, slowing_down


@pytest.mark.parametrize("style", ["four", "dnb"])
@pytest.mark.parametrize("to", [0.96, 0.97, 0.98, 0.99])
def test_a_gentle_ritardando_keeps_the_grid_of_the_steady_part(to, style):
    """160 beats at 120 BPM, then 8 bars slowing down to ``to`` of it: the own tempos of its
    last sections lie 0.3-1 % apart, two of them within ``SAME_TEMPO`` (0.7 %) of each other
    for most, and it was taken for a step: no grid."""
    song = slowing_down(drum_track(120, 100.0, style, seed=4), 120, 160, 32, to)
    tempo = estimate_tempo(song, RATE)
    assert tempo.beat == pytest.approx(0.5, rel=1e-4)
    for at in (0.0, 40.0, 79.5):
        assert abs(grid_error(tempo, 0.0, 120, at)) < 0.005


def test_a_ritardando_on_the_line_where_it_starts_does_not_tilt_it():
    """Its first sections lie within ``OUTLIER_BEATS`` of the line, the last alone off it: fitted
    with them, the grid was 6.4 ms off the steady part's first beats."""
    song = slowing_down(drum_track(120, 100.0, "dnb", seed=5), 120, 160, 32, 0.99)
    tempo = estimate_tempo(song, RATE)
    for at in np.arange(161) * 0.5:
        assert abs(grid_error(tempo, 0.0, 120, at)) < 0.005
