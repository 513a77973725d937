"""A gentle ritardando at a song's end (8 bars slowing down to 95 % of the tempo) keeps the
grid of the steady part, as a steeper one does; a tempo step near an end keeps none: the
sections after a step share one tempo, those of a ritardando drift from one to the next."""

from __future__ import annotations

import pytest

from stemgui.stems.tempo import estimate_tempo
from tests.stems.drumkit import RATE, drum_track, grid_error, slowing_down, stepped_at_ends


@pytest.mark.parametrize("style", ["four", "dnb"])
def test_a_ritardando_to_95_percent_keeps_the_grid_of_the_steady_part(style):
    """160 beats at 120 BPM, then 8 bars slowing down to 114: its sections' own tempos, read
    to the search's 0.5 % steps, lay 1.0-1.5 % apart, two of them within ``SAME_TEMPO`` (then
    1 %) of each other, and it was taken for a step: no grid."""
    song = slowing_down(drum_track(120, 100.0, style, seed=4), 120, 160, 32, 0.95)
    tempo = estimate_tempo(song, RATE)
    assert tempo.beat == pytest.approx(0.5, rel=1e-4)
    for at in (0.0, 40.0, 79.5):
        assert abs(grid_error(tempo, 0.0, 120, at)) < 0.005


@pytest.mark.parametrize("where", ["early", "late"])
@pytest.mark.parametrize("bpm", [117, 118, 119, 123, 125, 130])
def test_a_tempo_step_near_an_end_keeps_no_grid(bpm, where):
    """80 s at 120 BPM with 8 bars at ``bpm`` before or after them: the sections of those 8
    bars share one tempo of their own, a step, not a ritardando."""
    tempo = estimate_tempo(stepped_at_ends(bpm, where == "early", where == "late"), RATE)
    assert tempo is not None and 116 < tempo.bpm < 131
    assert tempo.first_beat is None and tempo.beat is None
