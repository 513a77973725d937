"""Random excerpts of the training tracks (``training.sampler``): reproducible, split across
ranks, drawn by weight, short tracks left out."""

from __future__ import annotations

import numpy as np
import pytest

from training.sampler import ExcerptSampler


def test_sampler_is_reproducible_and_ranks_split_the_batch():
    rng = np.random.default_rng(0)
    tracks = [rng.standard_normal((5, 2, n)).astype(np.float32) for n in (5000, 8000, 300)]
    sampler = ExcerptSampler(tracks, frames=1000, seed=3)
    assert len(sampler.tracks) == 2  # the 300-frame track is too short
    whole = sampler.batch(7, 4, rank=0, world=1)
    again = sampler.batch(7, 4)
    np.testing.assert_array_equal(whole, again)
    assert whole.shape == (4, 4, 2, 1000)
    halves = [sampler.batch(7, 2, rank=r, world=2) for r in range(2)]
    np.testing.assert_array_equal(np.concatenate(halves), sampler.batch(7, 4, world=1))
    assert not np.array_equal(sampler.batch(8, 4), whole)


def test_tracks_shorter_than_an_excerpt_are_left_out_with_a_warning(caplog):
    tracks = [np.zeros((5, 2, frames), np.float32) for frames in (100, 1000, 2000)]
    with caplog.at_level("WARNING", logger="training.sampler"):
        sampler = ExcerptSampler(tracks, 1000)
    assert [t.shape[-1] for t in sampler.tracks] == [1000, 2000]
    assert "1 of 3 training tracks are shorter than an excerpt (1000 frames)" in caplog.text
    with pytest.raises(ValueError, match=r"at least 3000 frames long .*; the longest has 2000"):
        ExcerptSampler(tracks, 3000)


def test_sampler_draws_tracks_in_proportion_to_their_weights():
    rng = np.random.default_rng(0)
    lengths = (5000, 300, 8000, 6000)
    tracks = [rng.standard_normal((5, 2, n)).astype(np.float32) for n in lengths]
    # The 300-frame track is dropped with its weight: the last two keep theirs, 0 and 1.
    sampler = ExcerptSampler(tracks, frames=1000, seed=3, weights=[3, 9, 0, 1])
    drawn = np.array([track for step in range(500) for track, _ in sampler.picks(step, 8)])
    assert set(drawn) == {0, 2}  # indices into sampler.tracks: the 5000 and 6000 frames
    assert abs(np.mean(drawn == 0) - 0.75) < 0.03
    alike = ExcerptSampler(tracks, frames=1000, seed=3, weights=[2, 2, 2, 2])
    plain = ExcerptSampler(tracks, frames=1000, seed=3)
    assert alike.picks(5, 8) == plain.picks(5, 8)  # runs from before weights resume alike
    with pytest.raises(ValueError, match="weight"):
        ExcerptSampler(tracks, frames=1000, weights=[0, 1, 0, 0])
