"""Layers computed differently from PyTorch's modules give the modules' results and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stemgui.separation.nets.attention import multi_head_attention
from stemgui.separation.nets.blocks import PointwiseConv1d
from stemgui.separation.nets.hybrid_layers import FrequencyConvTranspose2d


def _same_gradients(ours: nn.Module, theirs: nn.Module, out: torch.Tensor, ref: torch.Tensor):
    out.square().sum().backward()
    ref.square().sum().backward()
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("cross", [False, True])
def test_attention_matches_multihead_attention(cross):
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(32, 4, batch_first=True)
    reference = nn.MultiheadAttention(32, 4, batch_first=True)
    reference.load_state_dict(attention.state_dict())
    queries = torch.randn(2, 50, 32)
    keys = torch.randn(2, 30, 32) if cross else queries
    out = multi_head_attention(attention, queries, keys)
    ref = reference(queries, keys, keys, need_weights=False)[0]
    assert out.shape == (2, 50, 32)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    _same_gradients(attention, reference, out, ref)
    with torch.no_grad():  # PyTorch's inference fast path
        torch.testing.assert_close(
            multi_head_attention(attention.eval(), queries, keys),
            reference.eval()(queries, keys, keys, need_weights=False)[0],
            rtol=1e-5,
            atol=1e-5,
        )


def test_attention_dropout_only_in_training():
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(16, 2, dropout=0.5, batch_first=True)
    x = torch.randn(1, 20, 16)
    first, second = multi_head_attention(attention, x, x), multi_head_attention(attention, x, x)
    assert not torch.equal(first, second)
    attention.eval()
    first, second = multi_head_attention(attention, x, x), multi_head_attention(attention, x, x)
    assert torch.equal(first, second)


def test_pointwise_conv_matches_conv1d():
    torch.manual_seed(0)
    ours = PointwiseConv1d(6, 96)
    reference = nn.Conv1d(6, 96, 1)
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(5, 6, 77)
    out, ref = ours(x), reference(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    _same_gradients(ours, reference, out, ref)


@pytest.mark.parametrize(("kernel", "stride"), [(8, 4), (4, 4), (6, 2), (3, 2)])
def test_frequency_transposed_conv_matches_conv_transpose2d(kernel, stride):
    torch.manual_seed(0)
    ours = FrequencyConvTranspose2d(12, 5, kernel, stride)
    reference = nn.ConvTranspose2d(12, 5, (kernel, 1), (stride, 1))
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, 12, 9, 7)
    out, ref = ours(x), reference(x)
    assert out.shape == ref.shape == (2, 5, 8 * stride + kernel, 7)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    _same_gradients(ours, reference, out, ref)
