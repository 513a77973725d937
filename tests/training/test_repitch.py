"""Changed copies of tracks: a tone moves by the speed change, stems change alike, and the
mixture of a copy is the sum of its stems."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.media import tone
from tests.training.fitting import generated_tracks, make
from training import config as config_mod
from training import repitch

SR = 44100


def peak_hz(signal: np.ndarray) -> float:
    pad = 16 * len(signal)  # zero padding: a peak read to 0.2 Hz
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)), pad))
    return float(np.argmax(spectrum) * SR / pad)


@pytest.mark.parametrize("percent", [12, -12, 5, -1])
def test_a_tone_played_faster_is_higher_and_shorter_at_the_same_level(percent):
    source = tone(SR)
    changed = repitch.change_speed(source, percent)
    assert changed.dtype == np.float32
    assert changed.shape == (2, SR * 100 // (100 + percent))
    assert peak_hz(changed[0]) == pytest.approx(440 * (1 + percent / 100), abs=0.3)
    inner = changed[:, 2000:-2000]  # away from the edges' filter transients
    levels = np.sqrt((inner**2).mean(axis=1)) / np.sqrt((source**2).mean(axis=1))
    np.testing.assert_allclose(levels, 1.0, atol=0.01)  # each channel keeps its level


def test_no_change_gives_the_same_samples():
    source = tone(SR)
    np.testing.assert_array_equal(repitch.change_speed(source, 0), source)


def test_speed_changes_in_semitones():
    assert repitch.semitones(12) == pytest.approx(1.962, abs=1e-3)
    assert repitch.semitones(-12) == pytest.approx(-2.213, abs=1e-3)
    assert repitch.semitones(0) == 0


def test_changes_are_distinct_nonzero_bounded_and_reproducible():
    drawn = repitch.draw_changes(5, seed=3, max_percent=12)
    assert len(set(drawn)) == 5 and 0 not in drawn
    assert all(-12 <= p <= 12 for p in drawn)
    assert repitch.draw_changes(5, seed=3, max_percent=12) == drawn
    assert sorted(repitch.draw_changes(9, seed=0, max_percent=2)) == [-2, -1, 1, 2]  # all there are


def test_copies_change_every_stem_alike_and_sum_them_into_the_mixture():
    tracks = generated_tracks(3)
    out = repitch.copies(tracks, 2, seed=5)
    assert len(out) == 6
    for number, track in enumerate(tracks):
        percents = repitch.draw_changes(2, 5 * 1_000_003 + number)
        for copy, percent in zip(out[2 * number : 2 * number + 2], percents):
            np.testing.assert_array_equal(copy[1:], repitch.change_speed(track[1:], percent))
            np.testing.assert_array_equal(copy[0], copy[1:].sum(axis=0))
            assert copy.shape[-1] == track.shape[-1] * 100 // (100 + percent)


def test_the_trainer_draws_from_the_tracks_and_their_copies(tmp_path):
    trainer = make(tmp_path, overrides={"augment": {"repitch": 2, "repitch_percent": 10}})
    lengths = [t.shape[-1] for t in trainer.sampler.tracks]
    assert len(lengths) == 12
    assert lengths[:4] == [SR] * 4  # the originals, then two copies of each
    assert all(SR * 100 // 110 <= n <= SR * 100 // 90 and n != SR for n in lengths[4:])
    picked = {track for step in range(20) for track, _ in trainer.sampler.picks(step, 4)}
    assert picked & set(range(4)) and picked & set(range(4, 12))


def test_repitch_weight_sets_the_share_of_changed_excerpts(tmp_path):
    # 4 originals at 1, 8 copies at 0.125: one excerpt in five changed, as in the official recipes
    overrides = {"augment": {"repitch": 2, "repitch_weight": 0.125}}
    trainer = make(tmp_path, overrides=overrides)
    drawn = np.array([track for step in range(500) for track, _ in trainer.sampler.picks(step, 8)])
    assert abs(np.mean(drawn >= 4) - 0.2) < 0.03


@pytest.mark.parametrize(
    "setting",
    [
        {"repitch": -1},
        {"repitch": 1.5},
        {"repitch_percent": 0},
        {"repitch_percent": 100},
        {"repitch_percent": 99},  # a copy 99 % slower is 100 times as long, kept in memory
        {"repitch_weight": 0},
        {"repitch_weight": "often"},
        {"repitch": True},  # "true" in a recipe is not one copy
        {"repitch_weight": True},
    ],
)
def test_repitch_settings_are_checked(setting):
    with pytest.raises(ValueError, match=r"augment\.repitch"):
        config_mod.from_dict({"augment": setting})
