"""Our whole pipeline against the reference: official checkpoint file -> stems.

Small random-init reference networks (Demucs, HDemucs, HTDemucs) are saved in the official
format by the reference's own ``demucs.states.serialize_model`` (fp16 tensors, pickled class).
The reference separates a 20 s song from that file the way ``demucs.api`` does (normalise by
the mix, ``apply_model`` with split=True, shifts=0, undo the normalisation); we import the same
file with ``import_official`` and run ``Separator``. The stems must agree to 1e-4. A weighted
bag and one shifted pass (the reference's random offset pinned to ours) are checked the same way.
At 20 s our chunk plan is the reference's (we skip a trailing chunk only when the one before it
already reaches the end; ``chunking``), which the first test checks.

Small channel counts and a 2 kHz sample rate keep each case to seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

demucs_apply = pytest.importorskip("demucs.apply")
demucs_states = pytest.importorskip("demucs.states")
omegaconf = pytest.importorskip("omegaconf")

RATE = 8000  # the lowest a model file may run at (separation.MIN_SAMPLERATE)
SECONDS = 10
SEGMENT = 2.0
OVERLAP = 0.25
SOURCES = ["drums", "bass", "other", "vocals"]


def _reference_demucs():
    from demucs.demucs import Demucs

    return Demucs(SOURCES, channels=4, depth=4, samplerate=RATE, resample=False, segment=SEGMENT)


def _reference_hdemucs():
    from demucs.hdemucs import HDemucs

    return HDemucs(SOURCES, channels=4, depth=4, nfft=1024, samplerate=RATE, segment=SEGMENT)


def _reference_htdemucs():
    from demucs.htdemucs import HTDemucs

    return HTDemucs(
        SOURCES,
        channels=8,
        depth=4,
        nfft=1024,
        bottom_channels=0,
        t_layers=1,
        t_heads=2,
        samplerate=RATE,
        segment=SEGMENT,
    )


CASES = {
    "Demucs": ("demucs", _reference_demucs),
    "HDemucs": ("hdemucs", _reference_hdemucs),
    "HTDemucs": ("htdemucs", _reference_htdemucs),
}


def _perturb_vectors(module: torch.nn.Module, seed: int) -> None:
    """Noise on every 1-D parameter, so that no branch hides behind a tiny constant init."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() == 1:
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def _reference_separate(model: torch.nn.Module, song: np.ndarray) -> np.ndarray:
    """(channels, frames) -> (sources, channels, frames), as demucs.api.Separator does it."""
    wav = torch.from_numpy(song)
    mono = wav.mean(0)
    mean, std = mono.mean(), mono.std() + 1e-8
    with torch.no_grad():
        out = demucs_apply.apply_model(
            model,
            ((wav - mean) / std)[None],
            shifts=0,
            split=True,
            overlap=OVERLAP,
            segment=SEGMENT,
        )[0]
    return (out * std + mean).numpy()


def _song() -> np.ndarray:
    """20 s of stereo: two tones, a click track and noise, with a DC offset."""
    t = np.arange(RATE * SECONDS) / RATE
    rng = np.random.default_rng(0)
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(t.shape)
    right = 0.2 * np.sin(2 * np.pi * 330 * t) + 0.5 * ((t * 4) % 1 < 0.01) + 0.05
    return np.stack([left, right]).astype(np.float32)


@pytest.mark.parametrize("architecture", list(CASES))
def test_pipeline_matches_reference_apply_model(architecture, tmp_path):
    module_name, factory = CASES[architecture]
    official = pytest.importorskip("stemgui.separation.official")
    pytest.importorskip(f"stemgui.separation.nets.{module_name}")
    from stemgui.separation.chunking import plan_chunks
    from stemgui.separation.separator import Separator

    torch.manual_seed(0)
    reference = factory()
    _perturb_vectors(reference, seed=1)
    package = demucs_states.serialize_model(reference, omegaconf.OmegaConf.create({}))
    path = tmp_path / f"{module_name}.th"
    torch.save(package, path)
    # the reference reads the file back: fp16-rounded tensors, as a user's download
    reference = demucs_states.load_model(path).eval()

    ours = official.import_official(path)
    assert type(ours).__name__ == architecture
    assert list(ours.sources) == SOURCES and ours.samplerate == RATE

    song = _song()
    plan = plan_chunks(song.shape[-1], int(SEGMENT * RATE), OVERLAP)
    assert plan.count == len(range(0, song.shape[-1], plan.stride))  # the reference's chunks
    expected = _reference_separate(reference, song)
    separator = Separator(ours, device="cpu", segment=SEGMENT, overlap=OVERLAP, shifts=0)
    result = separator.separate(song)

    assert result.shape == expected.shape == (len(SOURCES), 2, RATE * SECONDS)
    assert expected.std() > 1e-3  # the networks do something worth comparing
    assert np.abs(result - expected).max() <= 1e-4


def test_bag_matches_reference_apply_model(tmp_path):
    """Two Demucs in a weighted bag: per-source weighted average, as the reference's bag."""
    official = pytest.importorskip("stemgui.separation.official")
    pytest.importorskip("stemgui.separation.nets.demucs")
    from stemgui.separation.bag import BagOfModels
    from stemgui.separation.separator import Separator

    weights = [[1.0, 0.0, 2.0, 1.0], [1.0, 1.0, 0.5, 0.0]]
    references, ours = [], []
    for index in range(2):
        torch.manual_seed(10 + index)
        reference = _reference_demucs()
        _perturb_vectors(reference, seed=index)
        path = tmp_path / f"member{index}.th"
        torch.save(demucs_states.serialize_model(reference, omegaconf.OmegaConf.create({})), path)
        references.append(demucs_states.load_model(path).eval())
        ours.append(official.import_official(path))

    song = _song()
    expected = _reference_separate(demucs_apply.BagOfModels(references, weights), song)
    result = Separator(BagOfModels(ours, weights), device="cpu", segment=SEGMENT).separate(song)
    assert expected.std() > 1e-3
    assert np.abs(result - expected).max() <= 1e-4


def test_shift_trick_matches_reference(tmp_path, monkeypatch):
    """With the reference's random offset pinned to our delay, one shifted pass agrees."""
    official = pytest.importorskip("stemgui.separation.official")
    pytest.importorskip("stemgui.separation.nets.demucs")
    from stemgui.separation.passes import draw_delays
    from stemgui.separation.separator import Separator

    torch.manual_seed(3)
    reference = _reference_demucs()
    _perturb_vectors(reference, seed=3)
    path = tmp_path / "shifted.th"
    torch.save(demucs_states.serialize_model(reference, omegaconf.OmegaConf.create({})), path)
    reference = demucs_states.load_model(path).eval()
    ours = official.import_official(path)
    separator = Separator(ours, device="cpu", segment=SEGMENT, shifts=1, seed=7)
    (delay,) = draw_delays(1, separator.shifts, separator.seed, separator.samplerate)[0]
    max_shift = int(0.5 * RATE)
    assert 0 < delay < max_shift
    # the reference draws offset = randint(0, max_shift) and delays the song by max_shift - offset
    monkeypatch.setattr(demucs_apply.random, "randint", lambda a, b: max_shift - delay)

    song = _song()
    wav = torch.from_numpy(song)
    mean, std = wav.mean(0).mean(), wav.mean(0).std() + 1e-8
    with torch.no_grad():
        expected = demucs_apply.apply_model(
            reference, ((wav - mean) / std)[None], shifts=1, overlap=OVERLAP, segment=SEGMENT
        )[0]
    expected = (expected * std + mean).numpy()
    result = separator.separate(song)
    assert np.abs(result - expected).max() <= 1e-4
    unshifted = Separator(ours, device="cpu", segment=SEGMENT)
    assert np.abs(unshifted.separate(song) - expected).max() > 1e-3  # the delay matters
