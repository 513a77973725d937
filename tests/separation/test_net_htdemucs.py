"""Our HTDemucs against the reference implementation (same weights, same stems) and its contract."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from stemgui.separation import registry
from stemgui.separation.nets.htdemucs import HTDemucs, segment_frames

reference = pytest.importorskip("demucs.htdemucs")

torch.set_num_threads(2)

FOUR = ["drums", "bass", "other", "vocals"]
SIX = [*FOUR, "guitar", "piano"]
# What the official htdemucs / htdemucs_ft / htdemucs_6s checkpoints were built with: the
# htdemucs section of Demucs' conf/config.yaml, the mmi grid (dconv_mode=3, bottom_channels=512,
# t_layers=5, t_dropout=0.02) and the checkpoints' own segment, Fraction(39, 5) seconds.
OFFICIAL = {
    "dconv_mode": 3,
    "bottom_channels": 512,
    "t_layers": 5,
    "t_dropout": 0.02,
    "multi_freqs": [],
    "segment": Fraction(39, 5),
}
OFFICIAL_PARAMETERS = 41_984_456  # STACK.md; the official htdemucs file holds this many
OFFICIAL_6S_PARAMETERS = 41_989_076  # six sources: only the outermost decoder layers grow


def _randomize(module: torch.nn.Module, seed: int) -> None:
    """Move norms, layer scales and biases off their defaults so that every path matters.

    Layer scales (1e-3 and 1e-4 at init) become 0.05 to 0.15: large enough to count, small
    enough to keep a deep random network's activations bounded.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            noise = torch.rand(param.shape, generator=generator)
            if name.endswith("scale"):
                param.copy_(0.05 + 0.1 * noise)
            elif "norm" in name and name.endswith("weight"):
                param.copy_(0.5 + noise)
            elif name.endswith("bias"):
                param.copy_((noise - 0.5) * 0.1)


def _pair(seed: int = 0, **kwargs) -> tuple[torch.nn.Module, HTDemucs]:
    """The reference with random weights, and ours loaded from its state dict (strict)."""
    torch.manual_seed(seed)
    ref = reference.HTDemucs(**kwargs)
    _randomize(ref, seed)
    ours = HTDemucs(**kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref.eval(), ours.eval()


def _mix(channels: int, frames: int, batch: int = 1, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    # Different levels per batch item: each one is normalised on its own.
    levels = torch.linspace(0.05, 0.3, batch).view(batch, 1, 1)
    return levels * torch.randn(batch, channels, frames, generator=generator)


def _assert_matches(ref: torch.nn.Module, ours: HTDemucs, mix: torch.Tensor, atol: float = 1e-4):
    with torch.no_grad():
        expected = ref(mix)
        got = ours(mix)
    assert got.shape == (mix.shape[0], len(ours.sources), mix.shape[1], mix.shape[2])
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=atol, rtol=0)
    # The stems are not trivially zero: the comparison compares something.
    assert got.abs().max() > 10 * atol


# ----------------------------------------------------------------------------------------------
# Official configuration


@pytest.fixture(scope="module")
def official() -> HTDemucs:
    """Our network in the official htdemucs configuration (default initialisation)."""
    return HTDemucs(FOUR, **OFFICIAL)


def test_official_configuration_has_the_official_parameter_count(official):
    assert sum(p.numel() for p in official.parameters()) == OFFICIAL_PARAMETERS
    six = HTDemucs(SIX, **OFFICIAL)
    assert sum(p.numel() for p in six.parameters()) == OFFICIAL_6S_PARAMETERS


def test_official_metadata(official):
    assert official.sources == FOUR
    assert official.samplerate == 44100
    assert official.audio_channels == 2
    assert isinstance(official.segment, float) and official.segment == 7.8
    assert official.valid_length(1000) == 343_980 == segment_frames(7.8, 44100)
    assert official.valid_length(343_980) == 343_980
    with pytest.raises(ValueError, match="longer than the training segment"):
        official.valid_length(343_981)


def test_official_weights_match_reference_on_a_short_segment():
    """Full-size official network (41,984,456 weights); the segment is shortened to 0.4 s, which
    changes no weight, to keep the test quick. The 0.25 s input is padded inside forward."""
    ref, ours = _pair(seed=0, sources=FOUR, **{**OFFICIAL, "segment": Fraction(2, 5)})
    _assert_matches(ref, ours, _mix(2, 11025))


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [7.8, 5.0])
def test_official_weights_match_reference_on_the_training_segment(seconds):
    """A segment-length input (7.8 s) and a shorter one, padded to it inside forward."""
    ref, ours = _pair(seed=1, sources=FOUR, **OFFICIAL)
    _assert_matches(ref, ours, _mix(2, round(seconds * 44100)))


@pytest.mark.slow
def test_official_six_source_weights_match_reference():
    ref, ours = _pair(seed=2, sources=SIX, **OFFICIAL)
    _assert_matches(ref, ours, _mix(2, 7 * 44100))


# ----------------------------------------------------------------------------------------------
# Structural options at small sizes

# Three frequency layers over nfft=512 leave 256 / 4**3 = 4 bins at the bottom: the branches
# stay apart and meet in the transformer (32 channels there).
SMALL = {
    "sources": ["a", "b", "c"],
    "channels": 8,
    "nfft": 512,
    "depth": 3,
    "t_heads": 4,
    "t_layers": 2,
    "samplerate": 8000,
    "segment": 0.25,
}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dconv_mode": 3, "bottom_channels": 32, "t_layers": 3},
        {"dconv_mode": 2, "t_cross_first": True, "t_norm_first": False, "t_layer_scale": False},
        {"t_layers": 0, "freq_emb": 0.0, "rewrite": False, "context": 0, "context_enc": 1},
        {"t_emb": "cape", "t_group_norm": 1, "t_norm_in": False, "t_norm_in_group": 1},
        {"t_emb": "scaled", "t_max_positions": 100, "t_gelu": False, "t_hidden_scale": 2.0},
        # 16, 24, 36 channels: growth need not be an integer (the reference's transformer then
        # gets a float width and fails, hence no transformer here).
        {"channels": 16, "growth": 1.5, "norm_starts": 2, "norm_groups": 3, "t_layers": 0},
        {"multi_freqs": [0.25, 0.5], "multi_freqs_depth": 2, "emb_smooth": False},
        {"cac": False, "wiener_iters": -1, "end_iters": -1},
        {"audio_channels": 1, "use_train_segment": False},
    ],
    ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()) or "defaults",
)
def test_small_configurations_match_reference(options):
    kwargs = {**SMALL, **options}
    ref, ours = _pair(seed=5, **kwargs)
    channels = kwargs.get("audio_channels", 2)
    _assert_matches(ref, ours, _mix(channels, 1500, batch=2), atol=1e-5)


def test_branches_merging_before_the_bottom_match_reference():
    """With nfft=1024 (hop 256 = 4**4) the fourth layer collapses the last 8 bins and the time
    branch, four layers down as well, merges into the frequency branch; a fifth layer runs over
    time only. channels_time differs from channels until the merge."""
    kwargs = {
        **SMALL,
        "nfft": 1024,
        "depth": 5,
        "channels_time": 16,
        "t_layers": 0,
        "dconv_mode": 3,
    }
    ref, ours = _pair(seed=6, **kwargs)
    assert ours.tencoder[-1].empty and len(ours.tencoder) == 4 and len(ours.encoder) == 5
    _assert_matches(ref, ours, _mix(2, 1500, batch=2), atol=1e-5)


def test_segment_length_input_is_not_padded_and_shorter_input_is():
    ref, ours = _pair(seed=7, **SMALL)
    assert ours.valid_length(100) == 2000
    full = _mix(2, 2000)
    _assert_matches(ref, ours, full, atol=1e-5)
    # A shorter input gives the same stems as the same input zero-padded to the segment.
    short = full[..., :1300]
    with torch.no_grad():
        padded = torch.nn.functional.pad(short, (0, 700))
        torch.testing.assert_close(ours(short), ours(padded)[..., :1300], atol=1e-6, rtol=0)


def test_input_longer_than_the_segment_is_refused():
    model = HTDemucs(**SMALL).eval()
    with pytest.raises(ValueError, match="longer than the training segment"):
        model(torch.zeros(1, 2, 2001))
    # Without use_train_segment any length is taken as it is.
    free = HTDemucs(**{**SMALL, "use_train_segment": False}).eval()
    with torch.no_grad():
        assert free(torch.zeros(1, 2, 2500)).shape == (1, 3, 2, 2500)


def test_training_mode_records_the_segment_and_matches_reference():
    ref, ours = _pair(seed=8, **SMALL)
    ref.train()
    ours.train()
    mix = _mix(2, 1600, batch=2)
    with torch.no_grad():
        expected = ref(mix)
        got = ours(mix)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert ours.segment == 0.2 == float(ref.segment)
    assert ours._init_kwargs["segment"] == 0.2
    ours.eval()
    assert ours.valid_length(10) == 1600


def test_parameter_order_matches_reference(official):
    """A diffq-quantized reference state lists its tensors by position, in this order."""
    theirs = reference.HTDemucs(FOUR, **OFFICIAL)
    assert [n for n, _ in official.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    small = {**SMALL, "dconv_mode": 3, "bottom_channels": 16, "t_cross_first": True}
    assert [n for n, _ in HTDemucs(**small).named_parameters()] == [
        n for n, _ in reference.HTDemucs(**small).named_parameters()
    ]


def test_init_kwargs_rebuild_the_same_network(official):
    kwargs = official._init_kwargs
    assert kwargs["segment"] == 7.8 and isinstance(kwargs["segment"], float)
    assert kwargs["sources"] == FOUR
    assert kwargs["bottom_channels"] == 512 and kwargs["t_layers"] == 5
    assert kwargs["t_global_window"] == 100  # a default, recorded too
    assert "self" not in kwargs and "__class__" not in kwargs
    rebuilt = registry.build("HTDemucs", kwargs)
    assert isinstance(rebuilt, HTDemucs)
    assert registry.name_of(rebuilt) == "HTDemucs"
    rebuilt.load_state_dict(official.state_dict(), strict=True)
    assert rebuilt._init_kwargs == kwargs


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="sparse attention"):
        HTDemucs(**SMALL, t_sparse_self_attn=True)
    with pytest.raises(ValueError, match="Wiener"):
        HTDemucs(**SMALL, cac=False)
    with pytest.raises(ValueError, match="wiener_iters == end_iters"):
        HTDemucs(**SMALL, wiener_iters=1, end_iters=0)
