"""The user's correction of a tempo read at twice or half the song's: synthetic rock drums at 120
BPM (kick on 1 and 3, snare on 2 and 4) halved onto their kicks and doubled onto the midpoints;
the limits; the factor kept with the stems in the stem cache."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import FACTOR_FIELD, Analysis
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo, estimate_tempo
from stemgui.stems.tempo_fix import allowed, corrected, doubled, halved, kept_factor
from tests.stems.drumkit import RATE
from tests.stems.rock_drums import _off_grid, _rock, _stems


@pytest.mark.parametrize("start", [0.0, 0.5, 0.25])
@pytest.mark.parametrize("names", [("drums", "other"), ("vocals", "no_vocals")])
def test_halving_keeps_the_beats_of_the_kick(start, names):
    """At 0.5 s the first beat of the grid (0) is the silence's, its odd beats the kicks; with
    no drums stem (two stems of the vocals) the mix tells them."""
    stems = _stems(_rock(start), names)
    tempo = estimate_tempo(stems.mix, RATE)
    assert tempo.bpm == 120 and tempo.beat == pytest.approx(0.5, rel=1e-3)
    half, applied = corrected(tempo, 0.5, stems)
    assert half.bpm == 60 and applied == 0.5
    assert half.beat == pytest.approx(1.0, rel=1e-3)
    kicks = start + np.arange(20.0)
    assert _off_grid(half, kicks) < 0.005  # on every kick
    assert _off_grid(half, kicks + 0.5) > 0.49  # none on the snare
    assert 0 <= half.first_beat < half.beat


def test_doubling_puts_a_beat_at_each_midpoint():
    tempo = estimate_tempo(_rock(0.25), RATE)
    double = doubled(tempo)
    assert double.bpm == 240 and double.beat == pytest.approx(tempo.beat / 2)
    beats = tempo.first_beat + tempo.beat * np.arange(40)
    assert _off_grid(double, beats) < 1e-9 and _off_grid(double, beats + tempo.beat / 2) < 1e-9
    assert 0 <= double.first_beat < double.beat
    # and halved again: the grid it was (its beats carry the kick and the snare)
    again = halved(double, (np.zeros(100), 172.0))
    assert again.bpm == tempo.bpm and again.beat == pytest.approx(tempo.beat)
    assert _off_grid(again, beats) < 1e-9


def test_a_tempo_without_a_grid_has_its_bpm_alone_changed():
    assert corrected(Tempo(123.4), 2.0, None) == (Tempo(246.8), 2.0)
    assert corrected(Tempo(123.4), 0.5, None) == (Tempo(61.7), 0.5)
    assert corrected(None, 2.0, None) == (None, 1.0)


def test_a_corrected_tempo_stays_within_30_and_300_bpm():
    assert allowed(Tempo(150.0), 2) and not allowed(Tempo(150.1), 2)
    assert allowed(Tempo(60.0), 0.5) and not allowed(Tempo(59.9), 0.5)
    assert not allowed(None, 2)
    # a factor kept, applied to a tempo read anew: as far as the limits let it
    assert corrected(Tempo(100.0), 4.0, None) == (Tempo(200.0), 2.0)
    assert corrected(Tempo(200.0), 2.0, None) == (Tempo(200.0), 1.0)
    assert corrected(Tempo(200.0), 0.25, None) == (Tempo(50.0), 0.25)


@pytest.mark.parametrize(
    ("value", "factor"),
    [(2, 2.0), (0.5, 0.5), (0.25, 0.25), (16, 16.0), (None, 1.0), (3, 1.0), (-2, 1.0),
     ("2", 1.0), (True, 1.0), (math.nan, 1.0), (math.inf, 1.0), (0, 1.0), (32, 1.0)],
)  # fmt: skip
def test_a_kept_factor_is_a_power_of_two_or_none(value, factor):
    assert kept_factor(value) == factor


def test_an_analysis_scaled_keeps_its_factor_apart_from_its_estimate():
    found = Analysis(Tempo(70.0, 0.1, 60 / 70), Key(9, "major"))
    twice = found.scaled(2.0, None)
    assert twice.tempo == Tempo(140.0, 0.1, 30 / 70) and twice.tempo_factor == 2.0
    assert twice.key == found.key
    assert twice.scaled(2.0, None).tempo == Tempo(280.0, 0.1 % (15 / 70), 15 / 70)
    assert twice.scaled(2.0, None).tempo_factor == 4.0
    assert twice.scaled(4.0, None).tempo_factor == 4.0  # 560 BPM: as far as 280
    assert found.scaled(1.0, None) is found
    with pytest.raises(ValueError):  # kept as found, it would be doubled again when read
        twice.to_info()


def test_the_factor_is_kept_in_the_stem_cache_entry_through_a_restart(tmp_path):
    stems = _stems(_rock(0.0, 8.0))
    info = {"model": "drums", **Analysis(Tempo(120.0, 0.0, 0.5)).to_info()}
    cache = StemCache(tmp_path / "stemcache")
    key = "ab" * 32
    assert cache.put(key, stems, info)
    assert cache.update_info(key, {FACTOR_FIELD: 0.5})
    assert cache.update_info(key, {FACTOR_FIELD: 0.5})  # held already: nothing to write
    again = StemCache(tmp_path / "stemcache").get(key)  # the next start
    assert again.info[FACTOR_FIELD] == 0.5 and again.info["bpm"] == 120.0
    assert again.stems.shape == stems.data.shape  # the entry is whole: not made again
    assert sorted(p.name for p in (tmp_path / "stemcache" / key).iterdir()) == [
        "entry.json",
        "mix.npy",
        "stems.npy",
    ]
    assert not cache.update_info("cd" * 32, {FACTOR_FIELD: 2.0})  # no such entry
    assert not cache.update_info("..", {FACTOR_FIELD: 2.0})  # no entry's name


def test_an_entry_that_cannot_be_written_is_left_as_it_was(tmp_path, monkeypatch):
    import errno

    from stemgui.audio import atomic

    cache = StemCache(tmp_path / "stemcache")
    key = "ab" * 32
    cache.put(key, _stems(_rock(0.0, 8.0)), {"model": "drums"})
    folder = tmp_path / "stemcache" / key
    before = (folder / "entry.json").read_text()

    def full(part, path, overwrite):
        raise OSError(errno.ENOSPC, "No space left on device", str(part))

    monkeypatch.setattr(atomic, "put_in_place", full)
    with pytest.raises(OSError, match="No space"):
        cache.update_info(key, {FACTOR_FIELD: 2.0})
    assert (folder / "entry.json").read_text() == before  # and no file of the attempt left
    assert sorted(p.name for p in folder.iterdir()) == ["entry.json", "mix.npy", "stems.npy"]
    assert FACTOR_FIELD not in json.loads(before)
