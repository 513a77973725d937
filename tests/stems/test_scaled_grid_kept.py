"""A grid doubled then halved onto the other half of its beats: its factor is 1 again, but the
grid on screen is not the estimate's, so a beat of it is kept with the correction, and the
next start (the correction applied to the estimate again) shows that grid."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.analysis import Analysis, edit_info, kept_edit
from stemgui.stems.tempo import Tempo
from tests.stems.rock_drums import _off_grid, _rock, _stems


@pytest.fixture(scope="module")
def rock():
    """Rock drums at 120 BPM from 0.5 s: a hit every half second."""
    return _stems(_rock(0.5))


def test_doubled_then_halved_onto_the_hits_keeps_a_beat_of_the_grid(rock):
    hits = 0.5 + 0.5 * np.arange(40)
    found = Analysis(Tempo(120.0, 0.25, 0.5))  # every beat a quarter second late
    made = found.scaled(2.0, rock).scaled(0.5, rock)  # halving keeps the hits' half
    assert made.tempo_factor == 1 and _off_grid(made.tempo, hits) < 1e-9
    assert made.edit.beat_at is not None
    again = found.edited(kept_edit(edit_info(made.edit)), rock)  # the next start
    assert _off_grid(again.tempo, hits) < 1e-9 and again.tempo.beat == made.tempo.beat


def test_a_grid_the_factor_alone_gives_keeps_no_beat(rock):
    found = Analysis(Tempo(120.0, 0.0, 0.5))  # on the hits: halving keeps the kicks
    assert found.scaled(2.0, rock).scaled(0.5, rock).edit.beat_at is None
    assert found.scaled(0.5, rock).edit.beat_at is None
