"""The user's other corrections of a beat grid: a beat moved to where it is heard, a tempo
tapped, every correction undone; kept with the stems as corrections, applied again to what the
estimates find."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stemgui.stems.analysis import BEAT_AT_FIELD, TAPPED_FIELD, Analysis, edit_info, kept_edit
from stemgui.stems.key import Key
from stemgui.stems.taps import Taps, tapped_tempo
from stemgui.stems.tempo import Tempo
from stemgui.stems.tempo_fix import NO_EDIT, TempoEdit, applied, nearest_beat, placed
from tests.stems.rock_drums import _off_grid, _rock, _stems

JITTER = np.array([0.012, -0.012, -0.012, 0.012])
"""A tapper's hits off the beat, as much early as late at each end: the line through them is
the beats' own."""


def test_taps_read_the_line_through_them_to_the_ms():
    tempo = tapped_tempo(list(1.25 + 0.5 * np.arange(4) + JITTER))  # beats of 120 BPM
    assert tempo.bpm == 120.0
    assert tempo.beat == pytest.approx(0.5, abs=1e-9)
    assert tempo.first_beat == pytest.approx(0.25, abs=1e-9)  # 1.25 less two beats
    uneven = tapped_tempo([10.0, 10.52, 11.0, 11.53, 12.0])  # 0.5 s apart, two late
    assert uneven.beat == pytest.approx(0.5, abs=0.004)
    assert uneven.bpm == round(60 / uneven.beat, 1)
    slow = tapped_tempo([0.3, 1.7, 3.1, 4.5])  # 42.9 BPM
    assert (slow.bpm, slow.first_beat) == (42.9, pytest.approx(0.3))


def test_four_steady_taps_set_the_tempo_and_a_pause_starts_over():
    taps = Taps()
    assert taps.reading() is None
    for i, jitter in enumerate(JITTER[:3]):
        taps.tap(20.0 + 0.5 * i + jitter)
        assert not taps.steady
    assert taps.reading().bpm == pytest.approx(120, abs=5)  # shown, not yet set
    taps.tap(21.5 + JITTER[3])
    assert taps.steady and taps.reading().bpm == 120.0
    taps.tap(21.512 + 2.01)  # more than 2 s on: a new run
    assert taps.times == [pytest.approx(23.522)] and taps.reading() is None
    taps.tap(24.0)
    taps.tap(22.0)  # back (a seek): a new run
    assert taps.times == [22.0]


def test_a_tap_out_of_step_starts_a_run_from_the_tap_before_it():
    taps = Taps()
    for time in (0.0, 0.5, 1.0, 1.5):
        taps.tap(time)
    taps.tap(1.8)  # 0.3 s after 0.5 s beats: out of step
    assert taps.times == [1.5, 1.8] and not taps.steady
    for time in (2.1, 2.4):  # a run at 200 BPM
        taps.tap(time)
    assert taps.steady and taps.reading().bpm == 200.0


def test_a_beat_put_at_a_time_moves_every_beat_by_the_same_amount():
    tempo = Tempo(120.0, 0.25, 0.5)
    moved = placed(tempo, 10.0)  # the off-beats' grid put on the beats: 0.25 s earlier
    assert moved == Tempo(120.0, 0.0, 0.5)
    assert placed(tempo, 7.4) == Tempo(120.0, pytest.approx(0.4), 0.5)
    assert placed(Tempo(120.0), 3.0) == Tempo(120.0)  # no grid: nothing to move
    assert placed(tempo, None) is tempo and placed(None, 3.0) is None


def test_an_analysis_moved_tapped_and_undone():
    found = Analysis(Tempo(120.0, 0.25, 0.5), Key(9, "major"))
    moved = found.moved(10.0)
    assert moved.tempo == Tempo(120.0, 0.0, 0.5) and moved.key == found.key
    assert moved.edit == TempoEdit(beat_at=10.0) and moved.estimated is found
    twice = moved.scaled(2.0, None)  # the beat put stays a beat of the doubled grid
    assert twice.tempo == Tempo(240.0, 0.0, 0.25) and twice.edit == TempoEdit(None, 2.0, 10.0)
    assert twice.estimated is found
    tapped = twice.tapped(Tempo(100.0, 0.1, 0.6))  # replaces the estimate and all before
    assert tapped.tempo == Tempo(100.0, 0.1, 0.6)
    assert tapped.edit == TempoEdit(tapped=Tempo(100.0, 0.1, 0.6)) and tapped.estimated is found
    assert Analysis().tapped(Tempo(100.0, 0.1, 0.6)).estimated == Analysis()  # none found
    assert tapped.estimated.tempo == Tempo(120.0, 0.25, 0.5)  # reset: the estimate, as found
    assert Analysis(Tempo(120.0)).moved(3.0) == Analysis(Tempo(120.0))  # no grid
    with pytest.raises(ValueError):  # kept as found, it would be corrected again when read
        moved.to_info()
    assert "corrected by the user: tapped" in tapped.describe()
    assert "×2, a beat at 10.000 s" in twice.describe()


def test_kept_corrections_round_trip_and_damaged_ones_read_as_none():
    edit = TempoEdit(Tempo(121.4, 0.123, 60 / 121.4), 0.5, 12.5)
    assert kept_edit(edit_info(edit)) == edit
    assert kept_edit(edit_info(NO_EDIT)) == NO_EDIT
    assert kept_edit({}) == NO_EDIT and kept_edit(None) == NO_EDIT
    for beat_at in ("3", True, math.nan, math.inf):
        assert kept_edit({BEAT_AT_FIELD: beat_at}).beat_at is None


def test_a_beat_put_before_the_start_is_kept():
    """Halving a grid whose first beat is late in its length keeps the beat put nearest it, which
    for one put early in the song can lie before its start: kept all the same."""
    halved = Tempo(60.0, 0.9, 1.0)  # a beat put at 0.1 s, then the grid halved onto 0.9 s
    assert nearest_beat(halved, 0.1) == pytest.approx(-0.1)
    assert kept_edit(edit_info(TempoEdit(beat_at=-0.1))).beat_at == -0.1
    assert placed(halved, -0.1) == Tempo(60.0, pytest.approx(0.9), 1.0)
    for tapped in ([120.0, 0.1], [120.0, 0.6, 0.5], [90.0, 0.1, 0.5], [120, 0, 0], "x"):
        assert kept_edit({TAPPED_FIELD: tapped}).tapped is None


@pytest.fixture(scope="module")
def rock():
    """Rock drums at 120 BPM from 0.5 s (a kick every second, a snare half a second after)."""
    return _stems(_rock(0.5))


def test_corrections_applied_to_the_estimate_give_the_grid_they_made(rock):
    """A grid locked to the off-beats, moved to a snare, then halved onto the kicks: applied to
    the estimate again the corrections give that grid (the beat put follows the halving), where
    halving the estimate alone would not find the kicks."""
    kicks = 0.5 + np.arange(20.0)
    found = Analysis(Tempo(120.0, 0.25, 0.5))  # every beat a quarter second late
    made = found.moved(3.0).scaled(0.5, rock)  # 3.0: a snare
    assert made.tempo == Tempo(60.0, 0.5, 1.0) and _off_grid(made.tempo, kicks) < 1e-9
    assert made.edit == TempoEdit(None, 0.5, 2.5)  # the kick nearest the beat put
    assert found.edited(made.edit, rock) == made
    assert _off_grid(found.scaled(0.5, rock).tempo, kicks) == pytest.approx(0.25)
    assert made.edited(NO_EDIT, rock) is found  # undone


def test_a_tapped_tempo_replaces_any_estimate_and_is_corrected_on_top():
    tapped = Tempo(100.0, 0.1, 0.6)
    for estimate in (Tempo(120.0, 0.25, 0.5), Tempo(87.0), None):
        tempo, edit = applied(estimate, TempoEdit(tapped, 2.0, 1.0), None)
        assert tempo == Tempo(200.0, pytest.approx(0.1), pytest.approx(0.3))  # 1.0: a beat
        assert edit == TempoEdit(tapped, 2.0, 1.0)
    tempo, edit = applied(None, TempoEdit(factor=2.0, beat_at=1.0), None)
    assert tempo is None and edit == TempoEdit(beat_at=1.0)  # no tempo: nothing applied
