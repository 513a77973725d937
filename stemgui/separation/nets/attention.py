"""Self- and cross-attention layers of the cross-domain transformer (:mod:`.transformer`).

Parameter names and module nesting follow the reference ``demucs.transformer`` exactly, so that its
state dicts load unchanged:

- :class:`SelfAttentionLayer` holds ``self_attn`` (``nn.MultiheadAttention``), ``linear1``,
  ``linear2``, ``norm1``, ``norm2``, ``norm_out`` (optional), ``gamma_1``, ``gamma_2``.
- :class:`CrossAttentionLayer` holds ``cross_attn``, ``linear1``, ``linear2``, ``norm1``,
  ``norm2``, ``norm3``, ``norm_out`` (optional), ``gamma_1``, ``gamma_2``.

Inside the layers sequences are batch-first, ``(batch, tokens, channels)``. The reference's sparse
attention options rely on experimental xformers kernels that no released model uses; they are
rejected here with a ``ValueError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from stemgui.separation.nets.blocks import LayerScale

logger = logging.getLogger(__name__)

Activation = Callable[[torch.Tensor], torch.Tensor]


class ChannelLastGroupNorm(nn.GroupNorm):
    """``nn.GroupNorm`` applied to ``(batch, tokens, channels)`` sequences.

    With one group it normalises each batch item over all its tokens and channels together.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


def _activation(activation: str | Activation) -> Activation:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"activation must be 'relu', 'gelu' or a function, got {activation!r}")


def _check_dense(sparse: bool) -> None:
    if sparse:
        raise ValueError(
            "sparse attention needs the experimental xformers kernels of the reference "
            "implementation; no released model uses it and stemgui does not support it"
        )


def multi_head_attention(
    attention: nn.MultiheadAttention, queries: torch.Tensor, keys: torch.Tensor
) -> torch.Tensor:
    """``attention(queries, keys, keys)`` (batch-first, no mask) with the parameters of
    ``attention``, computed by ``F.scaled_dot_product_attention``.

    ``nn.MultiheadAttention``'s own inference path for self-attention multiplies out the whole
    ``(tokens, tokens)`` weight matrix per head; the fused kernel never does, which makes the
    transformer of the official htdemucs about 2.5 times faster on a CPU for the same result.

    Shapes:
        queries ``(batch, tokens, d_model)``, keys ``(batch, other_tokens, d_model)``
        -> ``(batch, tokens, d_model)``.
    """
    width = queries.shape[-1]
    weight, bias = attention.in_proj_weight, attention.in_proj_bias
    if keys is queries:
        q, k, v = F.linear(queries, weight, bias).chunk(3, dim=-1)
    else:
        biases = (None, None) if bias is None else bias.split([width, 2 * width])
        weights = weight.split([width, 2 * width])
        q = F.linear(queries, weights[0], biases[0])
        k, v = F.linear(keys, weights[1], biases[1]).chunk(2, dim=-1)

    def heads(tokens: torch.Tensor) -> torch.Tensor:  # (batch, heads, tokens, width / heads)
        return tokens.unflatten(-1, (attention.num_heads, -1)).transpose(1, 2)

    dropout = attention.dropout if attention.training else 0.0
    out = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), dropout_p=dropout)
    return attention.out_proj(out.transpose(1, 2).flatten(2))


class _AttentionLayer(nn.Module):
    """What both layer kinds share: attention, feed-forward block, norms, layer scales, dropouts.

    Modules are registered in the reference's order (attention, ``linear1``, ``linear2``, norms,
    ``norm_out``, layer scales), so that ``parameters()`` lists tensors in the same order: a
    diffq-quantized reference state stores its tensors by position. A subclass names its
    attention module (``attention``) and says how many norms it has (``norms``).

    Args:
        d_model: channels of the tokens.
        nhead: attention heads.
        dim_feedforward: hidden width of the feed-forward block.
        dropout: dropout of the attention, the feed-forward block and the residual branches.
        activation: of the feed-forward block: ``"relu"``, ``"gelu"`` or a function.
        group_norm: if set, ``GroupNorm(group_norm, ·)`` over all tokens instead of LayerNorms.
        norm_first: pre-norm (each block reads a normalised copy of its input) or post-norm.
        norm_out: with ``norm_first``, groups of a final ``GroupNorm`` (as in the reference,
            an even value means none).
        layer_norm_eps: epsilon of the norms.
        layer_scale: scale each residual branch by a :class:`LayerScale`.
        init_values: initial value of those scales.
        sparse: sparse attention (not supported: ``ValueError``).
    """

    attention: str
    norms: int

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Activation = F.relu,
        group_norm: int | bool = False,
        norm_first: bool = False,
        norm_out: int | bool = False,
        layer_norm_eps: float = 1e-5,
        layer_scale: bool = False,
        init_values: float = 1e-4,
        sparse: bool = False,
    ):
        _check_dense(sparse)
        super().__init__()
        self.norm_first = norm_first
        self.add_module(
            self.attention,
            nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True),
        )
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.activation = _activation(activation)
        for index in range(1, self.norms + 1):
            self.add_module(f"norm{index}", self._norm(group_norm, d_model, layer_norm_eps))
        self.norm_out: nn.Module | None = None
        # The reference tests ``norm_first & norm_out`` bitwise: an even group count means none.
        if int(norm_first) & int(norm_out):
            self.norm_out = ChannelLastGroupNorm(int(norm_out), d_model)
        self.gamma_1 = LayerScale(d_model, init_values, True) if layer_scale else nn.Identity()
        self.gamma_2 = LayerScale(d_model, init_values, True) if layer_scale else nn.Identity()
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    norm1: nn.Module
    norm2: nn.Module

    @staticmethod
    def _norm(groups: int | bool, d_model: int, eps: float) -> nn.Module:
        if groups:
            return ChannelLastGroupNorm(int(groups), d_model, eps=eps)
        return nn.LayerNorm(d_model, eps=eps)

    def _feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.dropout(self.activation(self.linear1(x)))
        return self.dropout2(self.linear2(hidden))


class SelfAttentionLayer(_AttentionLayer):
    """Transformer encoder layer: multi-head self-attention then a feed-forward block.

    With ``norm_first`` (pre-norm) each block reads a normalised copy of its input and its
    output, scaled by a :class:`LayerScale` when ``layer_scale``, is added to the input; an
    optional ``GroupNorm(norm_out, ·)`` ends the layer. Otherwise (post-norm) the norms follow
    each residual addition. ``group_norm`` replaces the LayerNorms by ``GroupNorm`` over all tokens.

    Shapes:
        ``(batch, tokens, d_model) -> (batch, tokens, d_model)``.
    """

    attention = "self_attn"
    norms = 2
    self_attn: nn.MultiheadAttention

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout1(multi_head_attention(self.self_attn, x, x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            x = x + self.gamma_1(self._attend(self.norm1(x)))
            x = x + self.gamma_2(self._feed_forward(self.norm2(x)))
            if self.norm_out is not None:
                x = self.norm_out(x)
            return x
        x = self.norm1(x + self.gamma_1(self._attend(x)))
        return self.norm2(x + self.gamma_2(self._feed_forward(x)))


class CrossAttentionLayer(_AttentionLayer):
    """Transformer layer whose queries come from one sequence and keys/values from another.

    Same residual, norm and layer-scale scheme as :class:`SelfAttentionLayer`; in pre-norm mode
    the queries go through ``norm1``, the keys through ``norm2`` and the feed-forward input
    through ``norm3`` (which post-norm mode creates but does not use, as the reference does).

    Shapes:
        queries ``(batch, tokens, d_model)``, keys ``(batch, other_tokens, d_model)``
        -> ``(batch, tokens, d_model)``.
    """

    attention = "cross_attn"
    norms = 3
    cross_attn: nn.MultiheadAttention
    norm3: nn.Module

    def _attend(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return self.dropout1(multi_head_attention(self.cross_attn, queries, keys))

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            x = queries + self.gamma_1(self._attend(self.norm1(queries), self.norm2(keys)))
            x = x + self.gamma_2(self._feed_forward(self.norm3(x)))
            if self.norm_out is not None:
                x = self.norm_out(x)
            return x
        x = self.norm1(queries + self.gamma_1(self._attend(queries, keys)))
        return self.norm2(x + self.gamma_2(self._feed_forward(x)))
