"""Our time-domain Demucs against the reference ``demucs`` package (its building blocks are in
test_net_demucs_blocks.py).

Every comparison builds the reference network, perturbs its 1-D parameters (so that the DConv
LayerScales, initialised at 1e-4, do not hide their branches), loads its state dict into ours with
``strict=True`` and compares in float32 on CPU, eval mode: the separated waveforms (max abs diff
<= 1e-4) and the output of every encoder/decoder layer and of the BiLSTM, each relative to its own
scale. At random initialisation the deepest layers barely move the output (a broken attention at
layer 4 changes it by ~1e-6), so the layer-by-layer check is what makes a fault there visible;
``test_every_path_is_visible_to_the_comparison`` proves it for each path by breaking it.

Configurations (see ``CONFIGS``):

- ``v2``: the seed's v2 network (Défossez et al., "Music Source Separation in the Waveform
  Domain", v2 package defaults): ``lstm_layers=2, context=3``, rewrite + GLU, resampling, ReLU
  (``gelu=False``), no DConv (``dconv_mode=0``), no GroupNorm (``norm_starts=6`` = depth, so no
  layer reaches it), no input normalisation.
- ``v2_repro``: the same network as retrained in the v4 code base (``demucs/grids/repro.py``,
  ``base``): ``dconv_mode=0, gelu=False, lstm_layers=2`` over the training config, i.e.
  ``context=1``, GroupNorm from layer 4, ``normalize=False``.
- ``mdx``: the official MDX time-domain models (reference defaults): DConv in the encoder,
  GroupNorm from layer 4, input normalisation, GELU; attention and LSTM in the DConv of layers
  4 and 5.
- ``mdx_plain_dconv``: the same with ``dconv_attn = dconv_lstm = 10``, so no layer reaches them
  (the ablation of ``repro.py``).
- ``dconv_both``: DConv in encoder and decoder, a bottom BiLSTM, ReLU rewrite (``glu=False``).
- ``no_resample``: no resampling and no rewrite, DConv in the decoder only, depth 4, kernel 6.

The default suite runs them with ``channels=8`` (10 s of audio for ``v2``, ``mdx`` and
``mdx_plain_dconv``, 1 s for the others), which exercises the same code paths as the full-size
networks (``@pytest.mark.slow``: v2 with 64 channels, MDX with 64 and 48).
"""

from __future__ import annotations

import inspect
import re

import pytest
import torch
from demucs import demucs as ref
from torch.nn import functional as F

from stemgui.separation import registry
from stemgui.separation.nets.demucs import Demucs, upgrade_legacy_keys
from tests.separation.oracle import (
    copy_weights,
    count_parameters,
    max_abs_diff,
    perturb_parameters,
    recorded_outputs,
    relative_diff,
)

pytestmark = pytest.mark.usefixtures("_one_torch_thread")

SOURCES = ["drums", "bass", "other", "vocals"]
TOLERANCE = 1e-4  # max abs diff of the separated waveforms
LAYER_TOLERANCE = 1e-5  # max diff of each layer's output relative to its max
SAMPLERATE = 44100

CONFIGS: dict[str, dict] = {
    "v2": dict(lstm_layers=2, context=3, gelu=False, dconv_mode=0, norm_starts=6, normalize=False),
    "v2_repro": dict(lstm_layers=2, gelu=False, dconv_mode=0, normalize=False),
    "mdx": dict(),
    "mdx_plain_dconv": dict(dconv_attn=10, dconv_lstm=10),
    "dconv_both": dict(dconv_mode=3, lstm_layers=2, glu=False),
    "no_resample": dict(
        resample=False,
        rewrite=False,
        dconv_mode=2,
        depth=4,
        kernel_size=6,
        stride=4,
        norm_starts=2,
        dconv_attn=3,
        dconv_lstm=2,
    ),
}

# Parameter counts of the small configurations (channels=8), measured; a change means the
# architecture changed.
SMALL_PARAMETERS = {
    "v2": 4_860_504,
    "v2_repro": 4_165_848,
    "mdx": 2_112_380,
    "mdx_plain_dconv": 1_631_100,
    "dconv_both": 5_228_848,
    "no_resample": 79_852,
}

# In each configuration, parameters (by name pattern) of a path whose effect must be visible in
# the output: perturbing them in our network must break the match by far more than TOLERANCE.
PATHS = {
    "v2": [r"^lstm\.", r"^encoder\.5\.3\.", r"^decoder\.0\.0\."],
    "v2_repro": [r"^lstm\.", r"^encoder\.4\.1\."],
    "mdx": [r"^encoder\.4\.3\.layers\.\d\.3\.", r"^encoder\.4\.3\.layers\.\d\.4\.", r"\.scale$"],
    "mdx_plain_dconv": [r"^encoder\.\d\.3\.layers\.\d\.6\.", r"^encoder\.5\.1\."],
    "dconv_both": [r"^decoder\.0\.3\.layers\.\d\.4\.", r"^lstm\."],
    "no_resample": [r"^decoder\.0\.0\.layers\.\d\.3\.", r"^decoder\.1\.0\.layers\.\d\.4\."],
}


def _pair(config: dict, channels: int = 8, seed: int = 0) -> tuple[ref.Demucs, Demucs]:
    """The reference network (perturbed, eval) and ours loaded with its weights (eval)."""
    torch.manual_seed(seed)
    theirs = ref.Demucs(SOURCES, channels=channels, **config)
    perturb_parameters(theirs, seed=seed)
    ours = Demucs(SOURCES, channels=channels, **config)
    copy_weights(theirs, ours)
    return theirs.eval(), ours.eval()


def _song(seconds: float = 10.0, seed: int = 1) -> torch.Tensor:
    """A stereo test signal (1, 2, time): two detuned tones, noise and a DC offset."""
    generator = torch.Generator().manual_seed(seed)
    time = torch.arange(int(seconds * SAMPLERATE)) / SAMPLERATE
    tones = torch.stack(
        [0.3 * torch.sin(2 * torch.pi * 220 * time), 0.2 * torch.sin(2 * torch.pi * 331 * time)]
    )
    noise = 0.1 * torch.randn(2, time.numel(), generator=generator)
    return (tones + noise + 0.02).unsqueeze(0)


def _padded(model: Demucs, mix: torch.Tensor) -> torch.Tensor:
    """Zero-pad ``mix`` symmetrically to the model's valid length, as the reference apply does."""
    missing = model.valid_length(mix.shape[-1]) - mix.shape[-1]
    return F.pad(mix, (missing // 2, missing - missing // 2))


@pytest.fixture(scope="module")
def song() -> torch.Tensor:
    return _song()


# --------------------------------------------------------------------------- Demucs


@pytest.mark.parametrize("name", CONFIGS)
def test_state_dict_keys_and_shapes_equal(name):
    torch.manual_seed(0)
    theirs = ref.Demucs(SOURCES, channels=8, **CONFIGS[name]).state_dict()
    ours = Demucs(SOURCES, channels=8, **CONFIGS[name]).state_dict()
    assert list(ours) == list(theirs)
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


@pytest.mark.parametrize("name", CONFIGS)
def test_parameter_count(name):
    assert count_parameters(Demucs(SOURCES, channels=8, **CONFIGS[name])) == SMALL_PARAMETERS[name]


# The comparisons run on 10 s for the v2 and MDX configurations, 1 s for the extra ones.
SECONDS = {"v2": 10.0, "mdx": 10.0, "mdx_plain_dconv": 10.0}


def _layer_names(model: Demucs) -> list[str]:
    """Submodules whose outputs are compared: every encoder and decoder layer, the BiLSTM."""
    names = [f"encoder.{i}" for i in range(model.depth)]
    names += [f"decoder.{i}" for i in range(model.depth)]
    return [*names, "lstm"] if model.lstm is not None else names


def _compare(theirs, ours, mix: torch.Tensor) -> tuple[torch.Tensor, float, dict[str, float]]:
    """Our output, its max abs diff to the reference's, and the relative diff of every layer."""
    names = _layer_names(ours)
    with recorded_outputs(theirs, names) as expected_layers, torch.no_grad():
        expected = theirs(mix)
    with recorded_outputs(ours, names) as got_layers, torch.no_grad():
        got = ours(mix)
    layers = {n: relative_diff(expected_layers[n], got_layers[n]) for n in names}
    return got, max_abs_diff(expected, got), layers


@pytest.mark.parametrize("name", CONFIGS)
def test_matches_reference_on_stereo_song(name, song):
    theirs, ours = _pair(CONFIGS[name])
    mix = _padded(theirs, song[..., : int(SECONDS.get(name, 1.0) * SAMPLERATE)])
    got, diff, layers = _compare(theirs, ours, mix)
    assert got.shape == (1, 4, 2, mix.shape[-1])
    assert got.dtype == torch.float32
    assert got.abs().max() > 1e-2  # a real signal, not a vanishing one
    assert diff <= TOLERANCE
    assert max(layers.values()) <= LAYER_TOLERANCE, layers


@pytest.mark.parametrize(
    ("name", "pattern"), [(name, p) for name, patterns in PATHS.items() for p in patterns]
)
def test_every_path_is_visible_to_the_comparison(name, pattern, song):
    """Guards the comparison above: breaking one path in our copy must break the match."""
    theirs, ours = _pair(CONFIGS[name])
    names = [n for n, _ in ours.named_parameters() if re.search(pattern, n)]
    assert names, f"pattern {pattern!r} matches nothing"
    with torch.no_grad():
        for parameter_name, parameter in ours.named_parameters():
            if parameter_name in names:
                parameter.add_(0.2 * torch.randn_like(parameter))
    _, _, layers = _compare(theirs, ours, _padded(theirs, song[..., : SAMPLERATE // 2]))
    assert max(layers.values()) > 1000 * LAYER_TOLERANCE, layers


@pytest.mark.parametrize("name", ["v2", "mdx"])
def test_forward_pads_and_trims_itself(name):
    theirs, ours = _pair(CONFIGS[name])
    mix = _song(seconds=1.4)[..., :57_331]  # not a valid length
    assert ours.valid_length(mix.shape[-1]) != mix.shape[-1]
    with torch.no_grad():
        expected, got = theirs(mix), ours(mix)
    assert got.shape == (1, 4, 2, 57_331)
    assert max_abs_diff(expected, got) <= TOLERANCE


def test_batch_items_are_independent():
    _, ours = _pair(CONFIGS["mdx"])
    first, second = _song(0.5, seed=1), 0.5 * _song(0.5, seed=2)
    with torch.no_grad():
        together = ours(torch.cat([first, second]))
        alone = ours(second)
    assert max_abs_diff(together[1:], alone) <= 1e-5


VALID_LENGTH_CONFIGS = [
    dict(),
    dict(resample=False),
    dict(depth=4, kernel_size=6, stride=3),
    dict(depth=5, kernel_size=8, stride=2, resample=False),
    dict(depth=1),
]


@pytest.mark.parametrize("config", VALID_LENGTH_CONFIGS, ids=str)
def test_valid_length_equals_reference(config):
    theirs = ref.Demucs(SOURCES, channels=4, dconv_mode=0, **config)
    ours = Demucs(SOURCES, channels=4, dconv_mode=0, **config)
    lengths = [*range(1, 3000, 7), 44_100, 441_000, 343_980, 1_000_003, 7_938_000]
    for length in lengths:
        valid = ours.valid_length(length)
        assert valid == theirs.valid_length(length), length
        assert valid >= length
        assert isinstance(valid, int)


def test_valid_length_known_answer():
    model = Demucs(SOURCES, channels=4, dconv_mode=0)
    # 10 s at 44.1 kHz: 882000 steps at 2x; 6 layers (k=8, s=4) down and up give 882004; / 2.
    assert model.valid_length(441_000) == 441_002


def test_init_kwargs_rebuild_identical_network(song):
    _, ours = _pair(CONFIGS["mdx"])
    expected_names = set(inspect.signature(Demucs.__init__).parameters) - {"self"}
    assert set(ours._init_kwargs) == expected_names
    rebuilt = registry.build("Demucs", ours._init_kwargs).eval()
    assert type(rebuilt) is Demucs
    assert rebuilt._init_kwargs == ours._init_kwargs
    rebuilt.load_state_dict(ours.state_dict(), strict=True)
    mix = _padded(ours, song[..., : SAMPLERATE // 2])
    with torch.no_grad():
        assert torch.equal(rebuilt(mix), ours(mix))


def test_init_kwargs_hold_defaults_and_metadata():
    model = Demucs(("a", "b"), channels=4, samplerate=32000, segment=None)
    assert model._init_kwargs["sources"] == ["a", "b"]
    assert model._init_kwargs["dconv_init"] == 1e-4
    assert model._init_kwargs["segment"] is None
    assert model.sources == ["a", "b"]
    assert model.samplerate == 32000
    assert model.audio_channels == 2
    assert model.segment is None
    assert Demucs(SOURCES, channels=4).segment == 40


def test_legacy_keys_are_renamed_on_load(song):
    config = CONFIGS["v2"]
    _, ours = _pair(config)
    state = ours.state_dict()
    legacy = {re.sub(r"^(encoder|decoder)\.(\d)\.3\.", r"\1.\2.2.", k): v for k, v in state.items()}
    assert legacy.keys() != state.keys()
    assert upgrade_legacy_keys(legacy, state.keys()).keys() == state.keys()
    fresh = Demucs(SOURCES, channels=8, **config).eval()
    fresh.load_state_dict(legacy, strict=True)
    assert "encoder.0.2.weight" in legacy  # the caller's dict is left as it was
    mix = _padded(ours, song[..., :SAMPLERATE])
    with torch.no_grad():
        assert torch.equal(fresh(mix), ours(mix))


def test_registry_resolves_our_class():
    assert registry.get_class("Demucs") is Demucs


# --------------------------------------------------------------------------- full size

FULL_SIZE = {
    "v2_ch64": ("v2", 64, 310_407_816),
    "mdx_ch64": ("mdx", 64, 133_753_064),
    "mdx_plain_dconv_ch48": ("mdx_plain_dconv", 48, 58_256_000),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", FULL_SIZE)
def test_full_size_matches_reference_on_10s_stereo(case, song):
    name, channels, parameters = FULL_SIZE[case]
    theirs, ours = _pair(CONFIGS[name], channels=channels)
    assert count_parameters(ours) == parameters
    mix = _padded(theirs, song)
    _, diff, layers = _compare(theirs, ours, mix)
    assert diff <= TOLERANCE
    assert max(layers.values()) <= LAYER_TOLERANCE, layers
