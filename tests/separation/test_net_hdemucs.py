"""HDemucs (hybrid v3) and the hybrid building blocks, against the reference ``demucs`` package.

Oracle tests: the reference network is built and its 1-d parameters perturbed at random (so that
LayerScales, norms and biases all shape the output); the same state dict is loaded into
ours with ``strict=True`` and both separate the same 10 s stereo signal at 44.1 kHz.

Configurations (sources: ``demucs/remote/*.yaml`` and the Demucs repository's
``conf/config.yaml``, whose ``hdemucs`` section is the architecture of ``hdemucs_mmi``):
the official weights are ``hdemucs_mmi`` (defaults of that section: channels=48, dconv_init=1e-3,
hybrid_old=False) and the hybrid members of the MDX 2021 bags, converted by the Demucs
repository's ``tools/convert.py`` with cac=False, norm_starts=999 and hybrid_old=True (the old
``hybrid=True``) or False (the old ``hybrid=2``), keeping wiener_iters=0. The default suite runs
those structures with 4 channels; the full-size ones are marked slow.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from stemgui.separation import registry
from stemgui.separation.nets import hybrid_layers, hybrid_spec
from stemgui.separation.nets.embeddings import ScaledEmbedding
from stemgui.separation.nets.hdemucs import HDemucs
from stemgui.separation.nets.spec import ispectro, spectro

from .oracle import max_abs_diff, perturb_parameters

reference = pytest.importorskip("demucs.hdemucs")
reference_spec = pytest.importorskip("demucs.spec")

SOURCES = ["drums", "bass", "other", "vocals"]
SAMPLERATE = 44100
TOLERANCE = 1e-4

# hdemucs section of the reference's conf/config.yaml (what hdemucs_mmi was trained with).
MMI = dict(
    channels=48,
    growth=2,
    nfft=4096,
    wiener_iters=0,
    end_iters=0,
    cac=True,
    depth=6,
    rewrite=True,
    hybrid=True,
    hybrid_old=False,
    multi_freqs=[],
    multi_freqs_depth=3,
    freq_emb=0.2,
    emb_scale=10,
    emb_smooth=True,
    kernel_size=8,
    stride=4,
    time_stride=2,
    context=1,
    context_enc=0,
    norm_starts=4,
    norm_groups=4,
    dconv_mode=1,
    dconv_depth=2,
    dconv_comp=4,
    dconv_attn=4,
    dconv_lstm=4,
    dconv_init=1e-3,
    rescale=0.1,
)
MDX_HYBRID = {**MMI, "hybrid_old": True, "cac": False, "norm_starts": 999}

SMALL_CONFIGS = {
    "hdemucs_mmi": {**MMI, "channels": 4},
    "mdx_hybrid_old": {**MDX_HYBRID, "channels": 4},
    "mdx_hybrid": {**MDX_HYBRID, "channels": 4, "hybrid_old": False},
    # Options of the class that no official checkpoint combines, exercised together.
    "multi_freqs_dconv_both": {
        **MMI,
        "channels": 4,
        "channels_time": 6,
        "multi_freqs": [0.25, 0.5],
        "multi_freqs_depth": 2,
        "dconv_mode": 3,
        "context_enc": 1,
    },
    "magnitude_mask_no_rewrite": {
        **MMI,
        "channels": 4,
        "cac": False,
        "wiener_iters": -1,
        "end_iters": -1,
        "rewrite": False,
        "freq_emb": 0.0,
        "norm_starts": 0,
    },
    "spectrogram_only": {**MMI, "channels": 4, "hybrid": False},
}
OFFICIAL_SMALL = ["hdemucs_mmi", "mdx_hybrid", "mdx_hybrid_old"]


def _song(seconds: float, seed: int = 0, channels: int = 2) -> torch.Tensor:
    """A deterministic stereo test signal: a few tones plus noise, (1, channels, frames)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLERATE)) / SAMPLERATE
    tones = sum(0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (55, 220, 1375, 7040))
    noise = 0.05 * rng.standard_normal((channels, t.size))
    return torch.from_numpy((tones + noise).astype(np.float32))[None]


def _pair(config: dict) -> tuple[torch.nn.Module, HDemucs]:
    torch.manual_seed(0)
    ref = reference.HDemucs(SOURCES, **config)
    perturb_parameters(ref, std=0.1, seed=1)
    ours = HDemucs(SOURCES, **config)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref.eval(), ours.eval()


def _assert_oracle(config: dict, seconds: float) -> None:
    ref, ours = _pair(config)
    mix = _song(seconds)
    with torch.inference_mode():
        expected = ref(mix)
        got = ours(mix)
    assert got.shape == (1, len(SOURCES), 2, mix.shape[-1])
    # An absolute tolerance means something only for outputs of the input's order of magnitude.
    assert 0.01 < expected.abs().max() < 100
    assert max_abs_diff(got, expected) <= TOLERANCE


# --------------------------------------------------------------------------- oracle


@pytest.mark.parametrize("name", OFFICIAL_SMALL)
def test_matches_reference_small_official_structure(name):
    _assert_oracle(SMALL_CONFIGS[name], seconds=10.0)


@pytest.mark.parametrize("name", sorted(set(SMALL_CONFIGS) - set(OFFICIAL_SMALL)))
def test_matches_reference_small_other_options(name):
    _assert_oracle(SMALL_CONFIGS[name], seconds=3.0)


@pytest.mark.slow
@pytest.mark.parametrize("config", [MMI, MDX_HYBRID], ids=["hdemucs_mmi", "mdx_hybrid_old"])
def test_matches_reference_full_size(config):
    _assert_oracle(config, seconds=10.0)


@pytest.mark.parametrize("config", [MMI, MDX_HYBRID], ids=["hdemucs_mmi", "mdx_hybrid_old"])
def test_full_size_state_dict_loads_strictly(config):
    """Full-size structures built on the meta device: same keys in the same order, same
    shapes, same parameter count."""
    with torch.device("meta"):
        ref = reference.HDemucs(SOURCES, **config)
        ours = HDemucs(SOURCES, **config)
    ours.load_state_dict(ref.state_dict(), strict=True, assign=True)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in ref.state_dict().items()
    ]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())


def test_official_mmi_configuration_has_the_official_parameter_count():
    """The figure the README gives for hdemucs_mmi's configuration (Measured figures)."""
    with torch.device("meta"):
        ours = HDemucs(SOURCES, **MMI)
    assert sum(p.numel() for p in ours.parameters()) == 83_637_832


def test_odd_length_batch_matches_reference():
    """Two items, a length that is not a multiple of the hop: padding and trimming paths."""
    ref, ours = _pair(SMALL_CONFIGS["hdemucs_mmi"])
    mix = torch.cat([_song(1.3, seed=2), _song(1.3, seed=3)])[..., :57_001]
    with torch.inference_mode():
        diff = max_abs_diff(ours(mix), ref(mix))
    assert diff <= TOLERANCE


# --------------------------------------------------------------------------- construction


def test_metadata_attributes():
    model = HDemucs(SOURCES, channels=4, samplerate=32000, segment=8.0)
    assert model.sources == SOURCES
    assert model.samplerate == 32000
    assert model.audio_channels == 2
    assert model.segment == 8.0


def test_init_kwargs_hold_every_argument_and_rebuild_identical_network():
    torch.manual_seed(0)
    model = HDemucs(SOURCES, **SMALL_CONFIGS["multi_freqs_dconv_both"]).eval()
    params = set(inspect.signature(HDemucs.__init__).parameters) - {"self"}
    assert set(model._init_kwargs) == params
    rebuilt = registry.build("HDemucs", model._init_kwargs).eval()
    assert isinstance(rebuilt, HDemucs)
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    assert rebuilt._init_kwargs == model._init_kwargs
    mix = _song(0.5)
    with torch.inference_mode():
        assert torch.equal(rebuilt(mix), model(mix))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cac": False, "wiener_iters": 1, "end_iters": 1}, "Wiener"),
        ({"cac": False, "wiener_iters": -1, "end_iters": 0}, "wiener_iters == end_iters"),
        ({"hybrid": False, "cac": False, "wiener_iters": 2, "end_iters": 2}, "Wiener"),
        ({"hybrid_old": True, "hybrid": False}, "hybrid_old"),
        ({"depth": 3}, "depth=3"),
    ],
)
def test_unsupported_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HDemucs(SOURCES, channels=4, **kwargs)


# --------------------------------------------------------------------------- spectrogram


def test_spectro_matches_reference_and_inverts():
    x = _song(0.7)[0]  # (channels, time)
    z = spectro(x, 4096, 1024)
    assert z.shape == (2, 2049, 1 + x.shape[-1] // 1024)
    assert torch.equal(z, reference_spec.spectro(x, 4096, 1024))
    back = ispectro(z, 1024, length=x.shape[-1])
    assert (back - x).abs().max() < 1e-5


@pytest.mark.parametrize("length", [1024 * 30, 30_001, 44_100])
@pytest.mark.parametrize("old", [False, True])
def test_hybrid_stft_frames_and_reference(length, old):
    x = _song(1.0, channels=2)[..., :length]
    nfft = 4096
    z = hybrid_spec.hybrid_stft(x, nfft, hybrid_old=old)
    assert z.shape == (1, 2, nfft // 2, math.ceil(length / (nfft // 4)))
    ref = reference.HDemucs(SOURCES, channels=4, hybrid_old=old)
    assert torch.equal(z, ref._spec(x))
    y = hybrid_spec.hybrid_istft(z, nfft // 4, length, hybrid_old=old)
    assert torch.equal(y, ref._ispec(z, length))


def test_hybrid_stft_round_trip_is_exact_away_from_the_edges():
    """Inside the signal every frame is kept, so the inverse is exact there (band-limited
    input: the Nyquist bin is dropped)."""
    nfft, hop = 4096, 1024
    t = torch.arange(50_000) / SAMPLERATE
    x = torch.stack([torch.sin(2 * math.pi * 440 * t), 0.5 * torch.cos(2 * math.pi * 3000 * t)])
    x = x[None]
    y = hybrid_spec.hybrid_istft(hybrid_spec.hybrid_stft(x, nfft), hop, x.shape[-1])
    assert y.shape == x.shape
    inner = slice(2 * hop, x.shape[-1] - 2 * hop)
    assert (y[..., inner] - x[..., inner]).abs().max() < 1e-4


def test_complex_as_channels_round_trip():
    z = torch.randn(2, 2, 16, 5, dtype=torch.complex64)
    m = hybrid_spec.to_network_input(z, cac=True)
    assert m.shape == (2, 4, 16, 5)
    assert torch.equal(m[:, 1], z[:, 0].imag)  # (c0.re, c0.im, c1.re, c1.im)
    assert torch.equal(m[:, 2], z[:, 1].real)
    assert torch.equal(hybrid_spec.from_network_output(z, m[:, None], cac=True), z[:, None])


def test_magnitude_mask_takes_the_mixture_phase():
    z = torch.randn(1, 2, 16, 5, dtype=torch.complex64)
    mag = hybrid_spec.to_network_input(z, cac=False)
    assert torch.equal(mag, z.abs())
    out = hybrid_spec.from_network_output(z, torch.stack([mag, 2 * mag], dim=1), cac=False)
    assert torch.allclose(out[:, 0], z, atol=1e-6)
    assert torch.allclose(out[:, 1], 2 * z, atol=1e-6)


def test_wiener_initial_estimate_uses_the_mixture_phase():
    """niters=0: magnitude times the unit phasor of the mixture, also where the mixture is 0
    (atan2(0, 0) = 0: the magnitude comes through as a real number, unlike niters=-1)."""
    z = torch.randn(1, 2, 16, 5, dtype=torch.complex64)
    z[0, 0, 0, 0] = 0
    m = torch.stack([z.abs(), torch.full(z.shape, 3.0)], dim=1)
    out = hybrid_spec.from_network_output(z, m, cac=False, niters=0)
    assert out.shape == (1, 2, 2, 16, 5)
    assert torch.allclose(out[:, 0], z, atol=1e-6)
    assert out[0, 1, 0, 0, 0] == 3.0
    assert hybrid_spec.from_network_output(z, m, cac=False, niters=-1)[0, 1, 0, 0, 0] == 0
    with pytest.raises(ValueError, match="EM iterations"):
        hybrid_spec.from_network_output(z, m, cac=False, niters=1)


@pytest.mark.parametrize("length, paddings", [(3, (5, 7)), (10, (4, 4)), (2, (0, 6))])
def test_pad1d_reflects_short_inputs_like_reference(length, paddings):
    x = torch.arange(float(length)).view(1, 1, length) + 1
    got = hybrid_spec.pad1d(x, paddings, mode="reflect")
    assert got.shape[-1] == length + sum(paddings)
    assert torch.equal(got[..., paddings[0] : paddings[0] + length], x)
    assert torch.equal(got, reference.pad1d(x, paddings, mode="reflect"))


def test_standardize():
    x = torch.randn(3, 2, 100) * 5 + 2
    y, mean, std = hybrid_spec.standardize(x, (1, 2))
    assert mean.shape == (3, 1, 1)
    assert torch.allclose(y.mean(dim=(1, 2)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(y * (1e-5 + std) + mean, x, atol=1e-5)


# --------------------------------------------------------------------------- layers


def test_scaled_embedding_weight_is_scaled_back():
    torch.manual_seed(0)
    emb = ScaledEmbedding(6, 3, scale=10.0, smooth=True)
    assert torch.allclose(emb.embedding.weight * 10.0, emb.weight)
    assert torch.equal(emb(torch.tensor([4])), emb.weight[4:5])


def test_multiwrap_with_shared_weights_equals_the_wrapped_layer():
    """The documented property: identical copies reproduce the layer over all frequencies."""
    torch.manual_seed(0)
    kw = dict(kernel_size=8, stride=4, norm=False, dconv=False, freq=True, pad=True)
    enc = hybrid_layers.HEncLayer(4, 8, context=0, **kw)
    dec = hybrid_layers.HDecLayer(8, 4, context=1, context_freq=False, **kw)
    multi_enc = hybrid_layers.MultiWrap(enc, [0.25, 0.5])
    multi_dec = hybrid_layers.MultiWrap(dec, [0.25, 0.5])
    for band in multi_enc.layers:
        band.load_state_dict(enc.state_dict())
    for band in multi_dec.layers:
        band.load_state_dict(dec.state_dict())
    x = torch.randn(2, 4, 256, 7)
    with torch.no_grad():
        encoded = enc(x)
        assert torch.allclose(multi_enc(x), encoded, atol=1e-5)
        skip = torch.randn_like(encoded)
        decoded, _ = dec(encoded, skip, None)
        wrapped, pre = multi_dec(encoded, skip, None)
    assert pre is None
    assert torch.allclose(wrapped, decoded, atol=1e-5)


def test_multiwrap_refuses_normalised_layers():
    with pytest.raises(ValueError, match="GroupNorm"):
        hybrid_layers.MultiWrap(hybrid_layers.HEncLayer(4, 8, norm=True, dconv=False), [0.5])
