"""SDR and the baselines give the known answers."""

from __future__ import annotations

import numpy as np
import pytest

from training import evaluate, sdr
from training.data import SOURCES


def test_global_sdr_known_values():
    rng = np.random.default_rng(0)
    refs = rng.standard_normal((2, 2, 1000))
    noise = rng.standard_normal((2, 2, 1000))
    noise *= np.sqrt((refs**2).sum(axis=(1, 2)) / (noise**2).sum(axis=(1, 2)) / 10)[:, None, None]
    # Noise with a tenth of the reference's energy: 10 dB.
    np.testing.assert_allclose(sdr.global_sdr(refs, refs + noise), [10, 10], atol=1e-6)
    assert np.all(sdr.global_sdr(refs, refs) > 70)


def test_global_sdr_of_a_silent_reference_is_no_number_and_left_out_of_the_means():
    """It was 10 log10(1e-8 / |ŝ|²), -80 dB and lower, for an estimate with any sound in it
    (0 dB for a silent one): an instrumental's vocals pulled the mean over tracks down by tens
    of dB. museval scores a frame with a silent reference NaN and leaves it out; so here."""
    rng = np.random.default_rng(1)
    refs = rng.standard_normal((4, 2, 1000))
    noise = 0.1 * rng.standard_normal(refs.shape)
    estimates = refs + noise
    refs[1] = 0.0  # silent reference, an estimate with sound
    refs[2, 0] = 1.0
    refs[2, 1] = -1.0  # channels that cancel: silent by museval's test (channel sum)
    estimates[3] = 0.0  # a silent estimate of a reference with sound: 0 dB, a real score
    scores = sdr.global_sdr(refs, estimates)
    expected = 10 * np.log10((refs[0] ** 2).sum() / (noise[0] ** 2).sum())
    np.testing.assert_allclose(scores[[0, 3]], [expected, 0.0], atol=1e-6)
    assert np.isnan(scores[[1, 2]]).all()
    assert np.isnan(sdr.global_sdr(np.zeros((1, 2, 10)), np.zeros((1, 2, 10)))).all()

    other = np.array([1.0, 2.0, np.nan, 3.0])
    means = sdr.mean_over_tracks([scores, other])
    np.testing.assert_allclose(means[[0, 1, 3]], [(expected + 1) / 2, 2.0, 1.5], atol=1e-6)
    assert np.isnan(means[2])  # no track scores it: no number, and no numpy warning


def _track(frames=44100 * 2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 44100
    # Four sources in disjoint frequency bands: the ideal ratio mask separates them almost exactly.
    sources = np.stack(
        [
            np.stack([np.sin(2 * np.pi * f * t + p) for p in rng.random(2)])
            for f in (100, 600, 2500, 7000)
        ]
    )
    return np.concatenate([sources.sum(axis=0, keepdims=True), sources]).astype(np.float32)


def test_mixture_baseline_of_equal_uncorrelated_sources():
    # Four orthogonal equal-energy sources, estimate mix/4: error energy is 13/16 of four...
    # ... per source: |s - m/4|² = (3/4)²|s|² + 3 (1/4)²|s|² = 12/16 |s|² -> SDR = 10 log10(16/12).
    (score,) = evaluate.mixture_baseline([_track()])
    np.testing.assert_allclose(score, 10 * np.log10(16 / 12), atol=0.05)


def test_irm_separates_disjoint_bands():
    (score,) = evaluate.irm_baseline([_track()])
    assert np.all(score > 20)


def test_irm_estimates_sum_to_the_mixture():
    track = _track()
    estimates = evaluate.irm_estimates(track)
    np.testing.assert_allclose(estimates.sum(axis=0), track[0], atol=1e-4)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_irm_shape(power):
    track = _track(frames=30000)
    assert evaluate.irm_estimates(track, power=power).shape == (4, 2, 30000)


@pytest.mark.parametrize("command", ["quantize", "segment", "bag"])
def test_models_are_measured_on_tracks_at_their_own_rate(tmp_path, monkeypatch, command):
    """quantize, segment and bag --data decoded every track at 44.1 kHz: an 8 kHz model was
    scored on audio 5.5 times too slow for it (eval already used the model's rate)."""
    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import tiny_htdemucs
    from tests.training.fitting import silent_valid_track, two_members
    from training import evaluate
    from training.__main__ import main

    if command == "quantize":
        pytest.importorskip("diffq")
    data = silent_valid_track(tmp_path)
    model = tmp_path / "m.stemgui"
    save_model(tiny_htdemucs(sources=SOURCES), model)  # 8 kHz
    measured = []

    def record(model, tracks, **options):
        measured.extend(np.asarray(t).shape[-1] for t in tracks)
        return np.zeros(len(model.sources))

    monkeypatch.setattr(evaluate, "mean_sdr", record)
    out = str(tmp_path / "out.stemgui")
    members = two_members(model) if command == "bag" else []
    argv = {
        "quantize": ["quantize", str(model), out],
        "segment": ["segment", str(model), out, "--seconds", "1"],
        "bag": ["bag", out, *members],
    }[command]
    assert main([*argv, *data]) == 0
    assert measured and set(measured) == {8000}  # one second at the model's rate


class _Scaled:
    """A linear "network" whose stems, in its own order (not the data's), are the mixture
    scaled by each stem's share in ``_scaled_track``: a perfect separation, by name."""

    sources = ("vocals", "drums", "bass", "other")
    shares = (0.4, 0.1, 0.2, 0.3)
    samplerate = 8000
    audio_channels = 2
    segment = None
    training = False

    def __call__(self, mix):  # (batch, channels, time) -> (batch, sources, channels, time)
        import torch

        return torch.stack([share * mix for share in self.shares], dim=1)

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def to(self, device):
        return self

    def parameters(self):
        return iter(())


def test_mean_sdr_scores_each_stem_against_the_reference_of_its_name():
    """quantize, segment and bag --data scored a model's stems by position: a model listing
    them in another order was scored against the wrong references."""
    noise = np.random.default_rng(1).standard_normal((2, 8000)).astype(np.float32)
    stems = np.stack([share * noise for share in (0.1, 0.2, 0.3, 0.4)])  # drums ... vocals
    track = np.concatenate([noise[None], stems])
    assert np.all(evaluate.mean_sdr(_Scaled(), [track]) > 15)  # by position: 6 dB and below


def _run_with_data(tmp_path, command: str, model) -> int:
    """``command`` on ``model`` with --data of one silent validation track; nothing may be
    written when it is refused."""
    from tests.training.fitting import silent_valid_track, two_members
    from training.__main__ import main

    if command == "quantize":
        pytest.importorskip("diffq")
    data = silent_valid_track(tmp_path, rate=8000)
    out = tmp_path / "out.stemgui"
    members = two_members(model) if command == "bag" else []
    argv = {
        "eval": ["eval", str(model)],
        "quantize": ["quantize", str(model), str(out)],
        "segment": ["segment", str(model), str(out), "--seconds", "1"],
        "bag": ["bag", str(out), *members],
    }[command]
    status = main([*argv, *data])
    assert not out.exists() and not (tmp_path / "cache").exists()
    return status


@pytest.mark.parametrize("command", ["quantize", "segment", "bag"])
def test_a_model_of_other_stems_is_refused_before_anything_is_written(tmp_path, command, caplog):
    """A six-stem model (the official htdemucs_6s) with --data: quantize and segment wrote
    their file, then stopped on "operands could not be broadcast together"."""
    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import tiny_htdemucs

    six = ("drums", "bass", "other", "vocals", "guitar", "piano")
    model = tmp_path / "six.stemgui"
    save_model(tiny_htdemucs(sources=six), model)
    assert _run_with_data(tmp_path, command, model) == 1
    assert f"{model}: its stems are {list(six)}" in caplog.text


@pytest.mark.parametrize("command", ["eval", "quantize", "segment", "bag"])
def test_a_mono_model_is_refused_naming_it_before_anything_is_written(tmp_path, command, caplog):
    """A mono model with --data: each command said only "the model takes 1 channels, the
    buffer has 2", naming no file, and quantize and segment had written theirs first."""
    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import make_tiny, tiny_registered

    model = tmp_path / "mono.stemgui"
    with tiny_registered():
        save_model(make_tiny(audio_channels=1), model)
        assert _run_with_data(tmp_path, command, model) == 1
    assert f"{model}: it takes 1 audio channel; --data tracks are stereo" in caplog.text
