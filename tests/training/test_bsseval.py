"""BSS Eval v4 (``training.bsseval``): known answers and a cross-check against ``museval``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from training import bsseval


def _museval_metrics():
    """``museval.metrics`` loaded from its file: the package's ``__init__`` imports musdb and
    stempeg, which refuse to import without an ffmpeg binary; the metrics need only numpy/scipy.
    """
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("museval is not installed (pip install museval)")
    pytest.importorskip("scipy")
    path = Path(spec.submodule_search_locations[0]) / "metrics.py"
    module_spec = importlib.util.spec_from_file_location("_museval_metrics", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _coloured(noise: np.ndarray, decay: float) -> np.ndarray:
    """Low-passed noise: convolved with a 16-tap exponential decay."""
    return np.convolve(noise, decay ** np.arange(16))[: len(noise)]


def _song(rate: int, seconds: float, sources: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """References (tones + filtered noise) and estimates with filtered, delayed, scaled errors."""
    rng = np.random.default_rng(seed)
    length = int(seconds * rate)
    t = np.arange(length) / rate
    refs = np.empty((sources, 2, length))
    for j in range(sources):
        for c in range(2):
            tone = np.sin(2 * np.pi * (110 * (j + 1) + 7 * c) * t + rng.uniform(0, 6))
            refs[j, c] = tone + 0.4 * _coloured(rng.standard_normal(length), 0.6 + 0.1 * j)
    leak = np.roll(refs[np.roll(np.arange(sources), 1)], 3, axis=-1)  # another source, delayed
    echo = np.roll(refs, 7, axis=-1)  # an allowed (short filter) distortion of the source
    estimates = refs + 0.3 * leak + 0.2 * echo + 0.05 * rng.standard_normal(refs.shape)
    estimates[0] *= 0.7
    return refs, estimates


def _museval(refs, estimates, window, filters_len):
    """museval's SDR, ISR, SIR and SAR per frame, as ``museval.evaluate(mode="v4")`` has them."""
    return _museval_metrics().bss_eval(
        refs.transpose(0, 2, 1),  # museval: (sources, time, channels)
        estimates.transpose(0, 2, 1),
        window=window,
        hop=window,
        compute_permutation=False,
        filters_len=filters_len,
        framewise_filters=False,
        bsseval_sources_version=False,
    )[:4]


def _compare(refs, estimates, window, filters_len, tolerance):
    ours = bsseval.bss_eval(refs, estimates, window=window, hop=window, filters_len=filters_len)
    theirs = _museval(refs, estimates, window, filters_len)
    for name, expected in zip(bsseval.METRICS, theirs):
        got = getattr(ours, name)
        assert got.shape == expected.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=name)
        np.testing.assert_allclose(got, expected, atol=tolerance, rtol=0, err_msg=name)
        median = np.nanmedian(expected, axis=1)  # museval/musdb: median over frames
        np.testing.assert_allclose(ours.medians()[name], median, atol=tolerance, rtol=0)
    return ours


def test_matches_museval_per_frame_with_a_silent_frame():
    rate = 4000
    refs, estimates = _song(rate, 3.6, sources=3)
    refs[1, :, rate : 2 * rate] = 0.0  # frame 1: a silent reference -> NaN for every source
    ours = _compare(refs, estimates, window=rate, filters_len=32, tolerance=1e-6)
    assert ours.sdr.shape == (3, 3)  # 3.6 s -> 3 full frames, the partial one dropped
    assert np.isnan(ours.sdr[:, 1]).all() and not np.isnan(ours.sdr[:, [0, 2]]).any()
    assert np.isfinite(ours.sar[:, [0, 2]]).all()


@pytest.mark.slow
def test_matches_museval_at_musdb_settings():
    refs, estimates = _song(bsseval.SAMPLERATE, 2.5, sources=4, seed=1)
    _compare(
        refs, estimates, window=bsseval.WINDOW, filters_len=bsseval.FILTERS_LEN, tolerance=1e-3
    )


def test_sdr_only_gives_the_same_sdr():
    refs, estimates = _song(8000, 2.0, sources=2, seed=2)
    full = bsseval.bss_eval(refs, estimates, window=8000, hop=8000, filters_len=32)
    fast = bsseval.bss_eval(refs, estimates, window=8000, hop=8000, sdr_only=True)
    np.testing.assert_allclose(fast.sdr, full.sdr, rtol=0, atol=1e-9)
    assert fast.sir is None and set(fast.medians()) == {"sdr"}


def _tones(rate: int = 8000, seconds: int = 2) -> np.ndarray:
    """Two stereo sources of whole-period sines: every frame holds the same energy."""
    t = np.arange(rate * seconds) / rate
    return np.stack(
        [
            np.stack([np.sin(2 * np.pi * 200 * t), np.cos(2 * np.pi * 200 * t)]),
            np.stack([np.sin(2 * np.pi * 500 * t), np.sin(2 * np.pi * 300 * t)]),
        ]
    )


def test_perfect_estimate_scores_infinite_sdr():
    refs = _tones()
    scores = bsseval.bss_eval(refs, refs.copy(), window=8000, hop=8000, sdr_only=True)
    assert np.isposinf(scores.sdr).all()


def test_half_amplitude_costs_six_db_of_sdr_but_no_interference_or_artifacts():
    refs = _tones() + 0.1 * np.random.default_rng(3).standard_normal((2, 2, 16000))
    scores = bsseval.bss_eval(refs, 0.5 * refs, window=8000, hop=8000, filters_len=32)
    np.testing.assert_allclose(scores.sdr, 20 * np.log10(2), atol=1e-9)  # |s|² / |s/2|²
    np.testing.assert_allclose(scores.isr, 20 * np.log10(2), atol=1e-6)  # all spatial error
    assert (scores.sir > 60).all() and (scores.sar > 60).all()


def test_leak_of_another_source_is_interference():
    refs = _tones() + 0.1 * np.random.default_rng(4).standard_normal((2, 2, 16000))
    estimates = refs + 0.1 * refs[::-1]  # each estimate leaks 10 % of the other source
    scores = bsseval.bss_eval(refs, estimates, window=8000, hop=8000, filters_len=32)
    expected = 10 * np.log10(
        np.sum(refs.reshape(2, 2, 2, 8000) ** 2, axis=(1, 3))  # (source, frame)
        / np.sum((0.1 * refs[::-1]).reshape(2, 2, 2, 8000) ** 2, axis=(1, 3))
    )
    np.testing.assert_allclose(scores.sdr, expected, atol=1e-9)
    assert (np.abs(scores.sdr - 20) < 0.5).all()  # about 20 dB: a tenth of the amplitude
    assert (np.abs(scores.sir - scores.sdr) < 0.5).all() and (scores.sar > 40).all()


def test_silent_frames_are_skipped_and_a_silent_source_left_out():
    refs = _tones(seconds=3)
    estimates = refs + 0.1 * refs[::-1]
    estimates[:, :, 8000:16000] = 0.0  # frame 1: estimates silent
    scores = bsseval.bss_eval(refs, estimates, window=8000, hop=8000, sdr_only=True)
    assert np.isnan(scores.sdr[:, 1]).all()
    np.testing.assert_allclose(scores.medians()["sdr"], np.mean(scores.sdr[:, [0, 2]], axis=1))

    silent = refs.copy()
    silent[1] = 0.0
    track = bsseval.track_sdr(silent, estimates, window=8000, hop=8000)
    assert np.isnan(track[1]) and np.isfinite(track[0])  # the silent source alone is left out
    overall = bsseval.median_over_tracks([track, np.array([1.0, 2.0]), np.array([3.0, 6.0])])
    np.testing.assert_allclose(overall, [np.median([track[0], 1.0, 3.0]), 4.0])


def test_a_source_silent_over_the_track_is_left_out_and_the_others_scored_as_museval_does(
    caplog,
):
    """An instrumental's silent vocals: museval refuses the track; the other sources score as
    museval scores the track without vocals, frames silent in them still skipped."""
    rate = 4000
    refs, estimates = _song(rate, 3.6, sources=4, seed=6)
    refs[0, :, rate : 2 * rate] = 0.0  # frame 1 silent in a kept source: NaN for all kept
    refs[3] = 0.0  # vocals silent throughout
    kept = [0, 1, 2]
    ours = bsseval.bss_eval(
        refs,
        estimates,
        window=rate,
        hop=rate,
        filters_len=32,
        track="Song",
        sources=["drums", "bass", "other", "vocals"],
    )
    expected = _compare(refs[kept], estimates[kept], window=rate, filters_len=32, tolerance=1e-6)
    for name in bsseval.METRICS:
        np.testing.assert_array_equal(getattr(ours, name)[kept], getattr(expected, name))
        assert np.isnan(getattr(ours, name)[3]).all()
    assert np.isnan(ours.sdr[:, 1]).all() and np.isfinite(ours.sdr[:3, [0, 2]]).all()
    assert "Song: vocals (its reference) silent over the whole track" in caplog.text

    caplog.clear()
    estimates[3] = 0.0  # the silent estimate of a silent reference: still the reference's case
    fast = bsseval.bss_eval(refs, estimates, window=rate, hop=rate, sdr_only=True)
    np.testing.assert_array_equal(fast.sdr, ours.sdr)
    assert "source 3 (its reference) silent" in caplog.text


def test_an_estimate_silent_over_the_track_leaves_the_track_unscored_as_museval_does(caplog):
    """A model's stem silent throughout, its reference with sound: that stem alone was left
    out and the others scored, so a model that dropped a stem had a mean over the others, above
    one that tried it. museval refuses the track, and scores no frame in which an estimate is
    silent: the same stem with a sound only in the last, partial frame (dropped) scores NaN in
    every frame for every source there."""
    rate = 4000
    refs, estimates = _song(rate, 3.6, sources=4, seed=7)
    estimates[3, :, : 3 * rate] = 0.0  # silent in every full frame, a sound after them
    theirs = _museval(refs, estimates, window=rate, filters_len=32)
    assert theirs[0].shape == (4, 3) and all(np.isnan(values).all() for values in theirs)
    estimates[3] = 0.0  # silent throughout
    with pytest.raises(ValueError, match="estimated sources should be non-silent"):
        _museval(refs, estimates, window=rate, filters_len=32)
    sources = ["drums", "bass", "other", "vocals"]
    ours = bsseval.bss_eval(
        refs, estimates, window=rate, hop=rate, filters_len=32, track="Song", sources=sources
    )
    for name, expected in zip(bsseval.METRICS, theirs):
        np.testing.assert_array_equal(getattr(ours, name), expected, err_msg=name)
    assert np.isnan(bsseval.track_sdr(refs, estimates, window=rate, hop=rate)).all()
    assert (
        "Song: vocals (its estimate) silent over the whole track: museval refuses such a track; "
        "none of its sources is scored (NaN)"
    ) in caplog.text


def test_median_over_frames_then_over_tracks():
    refs = _tones(seconds=3)
    rng = np.random.default_rng(5)
    tracks = []
    for scale in (0.1, 0.2, 0.4):
        noise = rng.standard_normal(refs.shape) * np.array([1.0, 2.0, 3.0]).repeat(8000) * scale
        tracks.append((refs, refs + noise))
    per_track = [bsseval.track_sdr(r, e, window=8000, hop=8000) for r, e in tracks]
    result = bsseval.evaluate_tracks(tracks, window=8000, hop=8000)
    np.testing.assert_allclose(result["sdr"], per_track[1])  # median of three tracks
    frames = bsseval.bss_eval(*tracks[1], window=8000, hop=8000, sdr_only=True).sdr
    np.testing.assert_allclose(per_track[1], frames[:, 1])  # noise grows by frame: middle one


def test_framing_follows_museval():
    assert bsseval.frame_slices(25, 10, 10) == [slice(0, 10), slice(10, 20)]
    assert bsseval.frame_slices(30, 10, 10) == [slice(0, 10), slice(10, 20), slice(20, 30)]
    assert bsseval.frame_slices(7, 10, 10) == [slice(0, 7)]
    assert bsseval.frame_slices(20, 10, 5) == [slice(0, 10), slice(5, 15), slice(10, 20)]


def test_shapes_must_match():
    with pytest.raises(ValueError, match="sources, channels, time"):
        bsseval.bss_eval(np.ones((2, 2, 100)), np.ones((2, 2, 99)))


def test_separate_tracks_scores_a_quarter_of_the_mixture_as_mixture_over_4():
    """A network that returns a quarter of the mixture per source scores the mixture/4 SDR."""
    torch = pytest.importorskip("torch")
    from training import evaluate

    class Quarter(torch.nn.Module):
        sources = ("a", "b", "c", "d")
        samplerate = 8000
        audio_channels = 2
        segment = None

        def forward(self, mix):  # (batch, channels, time) -> (batch, sources, channels, time)
            return mix[:, None].expand(-1, 4, -1, -1) / 4

    refs = _tones(seconds=2)
    refs = np.concatenate([refs, 0.5 * refs[::-1]]).astype(np.float32)  # 4 sources
    track = np.concatenate([refs.sum(axis=0, keepdims=True), refs])
    scores = evaluate.separate_tracks(Quarter(), [track, track], score=bsseval.track_sdr)
    expected = bsseval.track_sdr(refs, np.broadcast_to(track[0] / 4, refs.shape))
    np.testing.assert_allclose(scores[0], expected, atol=1e-4)
    np.testing.assert_allclose(bsseval.median_over_tracks(scores), expected, atol=1e-4)
