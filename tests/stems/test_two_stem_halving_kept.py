"""A tempo halved on a song shown in two stems of the vocals: the halving reads the kick's band
of their mix (there is no drums stem), where a bass on the backbeat can outweigh the kicks, and
the next start reads the drums of the full stems kept in the stem cache. The grid the user saw
is the one that comes back: a beat of it is kept with the correction."""

from __future__ import annotations

import numpy as np

from stemgui.stems.analysis import Analysis, edit_info, kept_edit
from stemgui.stems.stemset import StemSet, two_stem_set
from stemgui.stems.tempo import Tempo
from stemgui.stems.tempo_fix import corrected
from tests.stems.drumkit import RATE, drum_track
from tests.stems.test_tempo_fix import _off_grid

SECONDS = 20


def _full() -> StemSet:
    """Rock drums at 120 BPM (kicks on the whole seconds, snares half a second after) and a
    loud 70 Hz bass on the snares' beats."""
    drums = drum_track(120, SECONDS, "rock", seed=4).astype(np.float32)
    frames = drums.shape[1]
    bass = np.zeros(frames, np.float32)
    note = np.arange(round(0.3 * RATE)) / RATE
    for second in range(SECONDS):
        at = round((second + 0.5) * RATE)
        played = note[: frames - at]
        bass[at : at + played.size] = 1.5 * np.sin(2 * np.pi * 70 * played) * np.exp(-played / 0.1)
    quiet = np.zeros_like(drums)
    data = np.stack([drums, np.stack([bass, bass]), quiet, quiet])
    return StemSet(["drums", "bass", "other", "vocals"], RATE, data, mix=data.sum(axis=0))


def test_a_tempo_halved_in_two_stems_keeps_its_grid_at_the_next_start():
    full = _full()
    two = two_stem_set(full, "vocals")
    found = Analysis(Tempo(120.0, 0.0, 0.5))  # on every hit, as the estimate reads the drums
    kicks, backbeat = np.arange(SECONDS) + 0.0, np.arange(SECONDS) + 0.5
    # the two readings keep other halves: the drums the kicks, the mix the bass's beats
    assert _off_grid(corrected(found.tempo, 0.5, full)[0], kicks) < 1e-9
    assert _off_grid(corrected(found.tempo, 0.5, two)[0], backbeat) < 1e-9
    seen = found.scaled(0.5, two)  # Playback ▸ Halve tempo on the song in two stems
    again = found.edited(kept_edit(edit_info(seen.edit)), full)  # the next start
    assert again.tempo.beat == seen.tempo.beat
    assert _off_grid(again.tempo, backbeat) < 1e-9  # the grid the user saw


def test_a_tempo_halved_in_the_full_stems_keeps_no_beat():
    full = _full()
    seen = Analysis(Tempo(120.0, 0.0, 0.5)).scaled(0.5, full)
    assert seen.edit.beat_at is None and seen.tempo.first_beat == 0.0
