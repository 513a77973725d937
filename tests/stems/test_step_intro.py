"""An intro of 16 s at 119 or 121 BPM before a minute or more at 120: a tempo step near the
song's start, which keeps no grid, as the 8 bars of ``test_ritardando_gentle.py`` do. The
intro's first section fell on the line of the 120 BPM part by chance, so the off sections at
119 lay inside the song, not at its end, and were taken for a break in free time: a grid a
quarter of a beat off the intro's last beats, tilted by that section (6 ms off the steady
beats)."""

from __future__ import annotations

import pytest

from stemgui.stems.tempo import estimate_tempo
from tests.stems.drumkit import RATE, intro_at


@pytest.mark.parametrize(("bpm", "seconds"), [(119, 44.0), (121, 44.0), (119, 80.0), (121, 80.0)])
def test_an_intro_at_another_tempo_keeps_no_grid(bpm, seconds):
    tempo = estimate_tempo(intro_at(bpm, seconds), RATE)
    assert tempo is not None and tempo.bpm == pytest.approx(120, abs=0.5)
    assert tempo.first_beat is None and tempo.beat is None
