"""Our cross-domain transformer against known values and against the reference implementation."""

from __future__ import annotations

import math

import pytest
import torch

from stemgui.separation.nets.attention import CrossAttentionLayer, SelfAttentionLayer
from stemgui.separation.nets.embeddings import cape_embedding, sin_embedding, sin_embedding_2d
from stemgui.separation.nets.transformer import CrossTransformerEncoder

reference = pytest.importorskip("demucs.transformer")

torch.set_num_threads(2)

# The encoder as HTDemucs builds it for the official htdemucs / htdemucs_ft / htdemucs_6s weights
# (bottom_channels=512, t_layers=5, t_dropout=0.02 and the other t_* defaults).
OFFICIAL = {
    "dim": 512,
    "emb": "sin",
    "hidden_scale": 4.0,
    "num_heads": 8,
    "num_layers": 5,
    "cross_first": False,
    "dropout": 0.02,
    "max_positions": 10000,
    "norm_in": True,
    "norm_in_group": False,
    "group_norm": False,
    "norm_first": True,
    "norm_out": True,
    "max_period": 10000.0,
    "layer_scale": True,
    "gelu": True,
    "weight_pos_embed": 1.0,
}


def _randomize(module: torch.nn.Module, seed: int) -> None:
    """Move every norm, layer scale and bias off its default so that each one matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            noise = torch.rand(param.shape, generator=generator)
            if name.endswith("scale") or ("norm" in name and name.endswith("weight")):
                param.copy_(0.5 + noise)
            elif name.endswith("bias"):
                param.copy_((noise - 0.5) * 0.2)


def _pair(seed: int = 0, **kwargs) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A reference encoder with random weights and ours loaded from its state dict (strict)."""
    torch.manual_seed(seed)
    ref = reference.CrossTransformerEncoder(**kwargs)
    _randomize(ref, seed)
    ours = CrossTransformerEncoder(**kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref.eval(), ours.eval()


def _inputs(dim: int, freqs: int, frames: int, time: int, batch: int = 1, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, dim, freqs, frames, generator=generator)
    xt = torch.randn(batch, dim, time, generator=generator)
    return x, xt


# ----------------------------------------------------------------------------------------------
# Position codes: known values


def test_sin_embedding_known_values():
    code = sin_embedding(5, 8)
    assert code.shape == (5, 8)
    # Position 0: cosines 1, sines 0.
    assert torch.equal(code[0], torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0]))
    # Channel 0 has period 2π (frequency 1); the last cosine has period 2π * max_period.
    positions = torch.arange(5.0)
    torch.testing.assert_close(code[:, 0], torch.cos(positions))
    torch.testing.assert_close(code[:, 4], torch.sin(positions))
    torch.testing.assert_close(code[:, 3], torch.cos(positions / 10000.0))
    shifted = sin_embedding(5, 8, shift=3)
    torch.testing.assert_close(shifted[0], code[3])


def test_sin_embedding_2d_known_values():
    code = sin_embedding_2d(8, 3, 5)
    assert code.shape == (8, 3, 5)
    columns = torch.arange(5.0)
    rows = torch.arange(3.0)
    # First half codes the column: sin, cos at frequency 1, then sin, cos at 1 / sqrt(10000).
    torch.testing.assert_close(code[0], torch.sin(columns).expand(3, 5))
    torch.testing.assert_close(code[1], torch.cos(columns).expand(3, 5))
    torch.testing.assert_close(code[2], torch.sin(columns / 100.0).expand(3, 5))
    # Second half codes the row.
    torch.testing.assert_close(code[4], torch.sin(rows)[:, None].expand(3, 5))
    torch.testing.assert_close(code[7], torch.cos(rows / 100.0)[:, None].expand(3, 5))
    with pytest.raises(ValueError, match="divisible by 4"):
        sin_embedding_2d(6, 3, 5)


def test_cape_without_augmentation_is_a_centred_sin_embedding():
    code = cape_embedding(7, 8, 2, mean_normalize=True, augment=False)
    assert code.shape == (2, 7, 8)
    # Positions -3 .. 3: the centre (index 3) codes position 0.
    assert torch.equal(code[0, 3], torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0]))
    torch.testing.assert_close(code[1, :, 0], torch.cos(torch.arange(-3.0, 4.0)))


def test_position_codes_match_reference():
    torch.testing.assert_close(
        sin_embedding(300, 512, shift=2), reference.create_sin_embedding(300, 512, shift=2)[:, 0]
    )
    torch.testing.assert_close(
        sin_embedding_2d(64, 8, 50), reference.create_2d_sin_embedding(64, 8, 50)[0]
    )
    ours = cape_embedding(30, 16, 2, mean_normalize=True, augment=False)
    theirs = reference.create_sin_embedding_cape(30, 16, 2, mean_normalize=True, augment=False)
    torch.testing.assert_close(ours, theirs.transpose(0, 1))


# ----------------------------------------------------------------------------------------------
# Structure


def test_layers_alternate_self_and_cross_attention():
    encoder = CrossTransformerEncoder(16, num_heads=2, num_layers=3)
    assert [type(layer) for layer in encoder.layers] == [
        SelfAttentionLayer,
        CrossAttentionLayer,
        SelfAttentionLayer,
    ]
    assert [type(layer) for layer in encoder.layers_t] == [type(la) for la in encoder.layers]
    first_cross = CrossTransformerEncoder(16, num_heads=2, num_layers=2, cross_first=True)
    assert [type(layer) for layer in first_cross.layers] == [
        CrossAttentionLayer,
        SelfAttentionLayer,
    ]


def test_official_state_dict_matches_reference_in_names_shapes_and_order():
    ours = CrossTransformerEncoder(**OFFICIAL).state_dict()
    theirs = reference.CrossTransformerEncoder(**OFFICIAL).state_dict()
    # Same names, shapes and order (a diffq-quantized state lists its tensors by position).
    assert [(k, v.shape) for k, v in ours.items()] == [(k, v.shape) for k, v in theirs.items()]
    # Layer scales start at 1e-4 as in the reference.
    assert torch.all(ours["layers.0.gamma_1.scale"] == 1e-4)


@pytest.mark.parametrize(
    "options",
    [
        {"cross_first": True, "group_norm": 1, "norm_first": True, "norm_out": 1},
        {"emb": "scaled", "norm_in": False, "norm_in_group": 1, "layer_scale": True},
    ],
)
def test_parameter_order_matches_reference(options):
    kwargs = {"dim": 16, "num_heads": 2, "num_layers": 3, "max_positions": 20, **options}
    ours = [name for name, _ in CrossTransformerEncoder(**kwargs).named_parameters()]
    theirs = [name for name, _ in reference.CrossTransformerEncoder(**kwargs).named_parameters()]
    assert ours == theirs


def test_shapes_are_kept():
    encoder = CrossTransformerEncoder(16, num_heads=2, num_layers=2).eval()
    x, xt = _inputs(16, 4, 6, 24, batch=3)
    y, yt = encoder(x, xt)
    assert y.shape == x.shape
    assert yt.shape == xt.shape


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sparse_self_attn": True},
        {"sparse_cross_attn": True},
        {"auto_sparsity": True},
    ],
)
def test_sparse_attention_is_rejected(kwargs):
    with pytest.raises(ValueError, match="sparse attention"):
        CrossTransformerEncoder(16, num_heads=2, **kwargs)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        CrossTransformerEncoder(18, num_heads=4)
    with pytest.raises(ValueError, match="emb"):
        CrossTransformerEncoder(16, num_heads=2, emb="rope")


def test_spectrogram_grid_comes_back_in_place():
    """Without position code the encoder treats tokens as a set: swapping two frames of the
    input must swap the same two frames of the output. This fails if the grid is flattened into
    tokens in one order and unflattened in another (the oracle tests check the order itself)."""
    torch.manual_seed(0)
    encoder = CrossTransformerEncoder(16, num_heads=2, num_layers=1, weight_pos_embed=0.0).eval()
    x, xt = _inputs(16, 3, 4, 8)
    swapped = x[..., [1, 0, 2, 3]]
    y, _ = encoder(x, xt)
    y_swapped, _ = encoder(swapped, xt)
    torch.testing.assert_close(y_swapped, y[..., [1, 0, 2, 3]])


# ----------------------------------------------------------------------------------------------
# Oracle: same weights, same outputs as demucs.transformer.CrossTransformerEncoder


def test_official_configuration_matches_reference():
    ref, ours = _pair(**OFFICIAL)
    x, xt = _inputs(512, 8, 6, 24)
    with torch.no_grad():
        expected = ref(x, xt)
        got = ours(x, xt)
    assert got[0].shape == x.shape and got[1].shape == xt.shape
    torch.testing.assert_close(got[0], expected[0], atol=1e-4, rtol=0)
    torch.testing.assert_close(got[1], expected[1], atol=1e-4, rtol=0)
    # The transformer is not an identity map: the test compares something.
    assert (got[0] - x).abs().max() > 0.1


SMALL = {"dim": 32, "num_heads": 4, "num_layers": 3, "hidden_scale": 2.0}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"norm_first": True, "norm_out": True, "layer_scale": True},
        {"cross_first": True, "norm_first": True},
        {"group_norm": 1, "norm_first": True, "norm_out": 2},
        {"norm_in": False, "norm_in_group": 1, "gelu": False},
        {"norm_in": False, "weight_pos_embed": 0.5, "layer_scale": True},
        {"emb": "cape", "norm_first": True},
        {"emb": "scaled", "max_positions": 100},
        {"num_layers": 4, "max_period": 100.0, "norm_first": True, "layer_scale": True},
    ],
    ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()) or "defaults",
)
def test_small_configurations_match_reference(options):
    ref, ours = _pair(seed=3, **{**SMALL, **options})
    x, xt = _inputs(32, 4, 10, 40, batch=2)
    with torch.no_grad():
        expected = ref(x, xt)
        got = ours(x, xt)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=0)


def test_training_mode_without_dropout_matches_reference():
    """Train mode takes the slow attention path of torch; it must agree with eval numerics."""
    ref, ours = _pair(seed=4, **SMALL, norm_first=True, layer_scale=True)
    ref.train()
    ours.train()
    x, xt = _inputs(32, 4, 6, 24)
    with torch.no_grad():
        expected = ref(x, xt)
        got = ours(x, xt)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=0)


def test_make_optim_group_carries_weight_decay_and_lr():
    encoder = CrossTransformerEncoder(16, num_heads=2, num_layers=1, weight_decay=0.05, lr=1e-3)
    group = encoder.make_optim_group()
    assert group["weight_decay"] == 0.05
    assert group["lr"] == 1e-3
    assert len(group["params"]) == len(list(encoder.parameters()))
    assert "lr" not in CrossTransformerEncoder(16, num_heads=2, num_layers=1).make_optim_group()


def test_gradients_reach_every_parameter():
    encoder = CrossTransformerEncoder(16, num_heads=2, num_layers=2, layer_scale=True)
    x, xt = _inputs(16, 2, 3, 6)
    y, yt = encoder(x, xt)
    (y.square().mean() + yt.square().mean()).backward()
    missing = [
        name
        for name, param in encoder.named_parameters()
        # post-norm cross layers create norm3 without using it, as the reference does
        if param.grad is None and "norm3" not in name
    ]
    assert missing == []
    assert math.isfinite(float(y.detach().sum()))
