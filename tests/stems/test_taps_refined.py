"""Taps on a long song fitted to its onsets: a tapped tempo 0.1 BPM off drifts from the beats
over two minutes, the grid fitted to the song's onsets from it does not; the taps' reading is
kept for a song without a pulse and for taps on the off-beats."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.stemset import StemSet
from stemgui.stems.taps import refined, song_onsets, tapped_tempo
from tests.stems.drumkit import RATE, drum_track
from tests.stems.rock_drums import _off_grid

SECONDS = 120.0
HITS = 0.5 * np.arange(1, 2 * SECONDS - 1)  # rock drums at 120 BPM: a hit every half second
TAPS = 10.0 + 60 / 120.1 * np.arange(4)  # 120.1 BPM: 0.1 BPM fast


def _song(drums: np.ndarray) -> StemSet:
    return StemSet(["drums", "other"], RATE, np.stack([drums, 0.0 * drums]), mix=drums)


@pytest.fixture(scope="module")
def rock():
    return song_onsets(_song(drum_track(120, SECONDS, "rock", seed=7)))


def test_taps_a_tenth_of_a_bpm_off_are_fitted_to_every_beat(rock):
    tapped = tapped_tempo(list(TAPS))
    assert tapped.bpm == 120.1 and _off_grid(tapped, HITS) > 0.08  # drifted by the end
    fitted = refined(list(TAPS), rock)
    assert fitted.bpm == 120.0 and fitted.beat == pytest.approx(0.5, rel=1e-4)
    assert _off_grid(fitted, HITS) < 0.006  # the first to the last


def test_the_taps_reading_stays_without_a_pulse_or_off_the_beats(rock):
    noise = np.random.default_rng(3).normal(0, 0.1, (2, round(SECONDS * RATE)))
    quiet = song_onsets(_song(noise.astype(np.float32)))
    assert refined(list(TAPS), quiet) == tapped_tempo(list(TAPS))  # no pulse
    off_beats = list(TAPS + 0.25)  # every tap between two hits
    assert refined(off_beats, rock) == tapped_tempo(off_beats)
