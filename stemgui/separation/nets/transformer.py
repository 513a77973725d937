"""Cross-domain transformer at the bottom of HTDemucs.

The spectrogram branch (a feature map ``(batch, channels, freqs, frames)``) and the waveform branch
(``(batch, channels, time)``) each become a sequence of tokens with a sinusoidal position code
(2D over frequency and frame for the first, 1D for the second). Both sequences then go through
``num_layers`` pairs of layers, alternating self-attention within each branch and cross-attention
from one branch to the other; both branches come back out in their input shape.

Parameter names and module nesting follow the reference ``demucs.transformer`` exactly, so that its
state dicts load unchanged:

- :class:`CrossTransformerEncoder` holds ``norm_in`` and ``norm_in_t`` (when input norms are on),
  ``position_embeddings`` (``emb="scaled"`` only), and ``layers`` / ``layers_t`` (spectrogram /
  waveform), two ``ModuleList`` of :class:`SelfAttentionLayer` and :class:`CrossAttentionLayer`.
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
import math
import random
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from stemgui.separation.nets.blocks import LayerScale

logger = logging.getLogger(__name__)

Activation = Callable[[torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------------------------
# Positional embeddings


def sin_embedding(
    length: int,
    dim: int,
    *,
    shift: int = 0,
    max_period: float = 10000.0,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Sinusoidal position code of a 1D sequence.

    Channel ``i < dim / 2`` of position ``p`` is ``cos(p / max_period ** (i / (dim / 2 - 1)))``
    and channel ``dim / 2 + i`` the matching sine.

    Returns:
        ``(length, dim)`` float32.
    """
    if dim % 2:
        raise ValueError(f"a sinusoidal embedding needs an even dimension, got {dim}")
    half = dim // 2
    positions = shift + torch.arange(length, device=device)
    periods = max_period ** (torch.arange(half, device=device) / (half - 1))
    phase = positions[:, None] / periods[None, :]  # (length, half)
    return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)


def sin_embedding_2d(
    dim: int,
    height: int,
    width: int,
    *,
    max_period: float = 10000.0,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Sinusoidal position code of a 2D grid (frequency ``height`` by frame ``width``).

    The first half of the channels codes the column (frame), interleaving sines (even channels)
    and cosines (odd channels); the second half codes the row (frequency) the same way.

    Returns:
        ``(dim, height, width)`` float32.
    """
    if dim % 4:
        raise ValueError(f"a 2D sinusoidal embedding needs a dimension divisible by 4, got {dim}")
    half = dim // 2
    inv_periods = torch.exp(torch.arange(0.0, half, 2) * -(math.log(max_period) / half))
    columns = torch.arange(0.0, width)[:, None] * inv_periods  # (width, half / 2)
    rows = torch.arange(0.0, height)[:, None] * inv_periods  # (height, half / 2)
    code = torch.empty(dim, height, width)
    code[0:half:2] = torch.sin(columns).t()[:, None, :]
    code[1:half:2] = torch.cos(columns).t()[:, None, :]
    code[half::2] = torch.sin(rows).t()[:, :, None]
    code[half + 1 :: 2] = torch.cos(rows).t()[:, :, None]
    return code.to(device)


def cape_embedding(
    length: int,
    dim: int,
    batch: int,
    *,
    mean_normalize: bool,
    augment: bool,
    max_global_shift: float = 0.0,
    max_local_shift: float = 0.0,
    max_scale: float = 1.0,
    max_period: float = 10000.0,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Continuous augmented positional embedding (CAPE, Likhomanenko et al. 2021).

    Positions are optionally centred on their mean; with ``augment`` (training) each batch item
    gets a random global shift, each position a random local shift, and the whole sequence a
    random log-uniform scaling. The positions are then coded as in :func:`sin_embedding`.

    Returns:
        ``(batch, length, dim)`` float32.
    """
    if dim % 2:
        raise ValueError(f"a sinusoidal embedding needs an even dimension, got {dim}")
    positions = torch.arange(length, dtype=torch.float64)[None, :].repeat(batch, 1)
    if mean_normalize:
        positions = positions - positions.mean(dim=1, keepdim=True)
    if augment:
        global_shift = (torch.rand(batch, 1, dtype=torch.float64) * 2 - 1) * max_global_shift
        local_shift = (torch.rand(batch, length, dtype=torch.float64) * 2 - 1) * max_local_shift
        log_scale = (torch.rand(batch, 1, dtype=torch.float64) * 2 - 1) * math.log(max_scale)
        positions = (positions + global_shift + local_shift) * torch.exp(log_scale)
    positions = positions.float().to(device)
    half = dim // 2
    periods = max_period ** (torch.arange(half, device=device) / (half - 1))
    phase = positions[..., None] / periods  # (batch, length, half)
    return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1).float()


# ----------------------------------------------------------------------------------------------
# Layers


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


# ----------------------------------------------------------------------------------------------
# The encoder


class CrossTransformerEncoder(nn.Module):
    """Self- and cross-attention between the spectrogram and the waveform branch.

    Layer ``i`` of each branch is a :class:`SelfAttentionLayer` when ``i % 2`` equals the
    "classic parity" (0, or 1 with ``cross_first``) and a :class:`CrossAttentionLayer` otherwise;
    in a cross layer the spectrogram tokens attend to the waveform tokens and vice versa, both
    reading the other branch's input to that layer.

    Args:
        dim: channels of both branches (divisible by ``num_heads``, and by 4 for the 2D code).
        emb: position code of the waveform branch: ``"sin"``, ``"cape"`` or ``"scaled"``
            (learnt, ``max_positions`` entries). The spectrogram branch always gets the 2D code.
        hidden_scale: feed-forward width as a multiple of ``dim``.
        num_heads: attention heads.
        num_layers: layers per branch.
        cross_first: start with a cross-attention layer.
        dropout: dropout inside the layers.
        norm_in: LayerNorm each branch before the position code; else ``norm_in_group`` gives a
            ``GroupNorm(norm_in_group, dim)`` over all tokens; else nothing.
        group_norm: use ``GroupNorm(group_norm, dim)`` instead of LayerNorm inside the layers.
        norm_first: pre-norm layers. ``norm_out``: a ``GroupNorm(norm_out, dim)`` at the end of
            each pre-norm layer (odd values only: the reference tests ``norm_first & norm_out``
            bitwise, so an even ``norm_out`` adds no norm).
        max_period: longest period of the sinusoidal codes.
        weight_decay, lr: optimiser settings of the transformer's parameter group
            (see :meth:`make_optim_group`).
        layer_scale: :class:`LayerScale` (initialised at 1e-4) on each residual branch.
        gelu: GELU in the feed-forward blocks, ReLU otherwise.
        sin_random_shift: during training, shift the 1D positions by a random integer in
            ``[0, sin_random_shift]``.
        weight_pos_embed: weight of the position codes.
        cape_mean_normalize, cape_augment, cape_glob_loc_scale: CAPE options (global shift,
            local shift, scale); augmentation happens in training mode only.
        sparse_self_attn, sparse_cross_attn, mask_type, mask_random_seed, sparse_attn_window,
        global_window, auto_sparsity, sparsity: the reference's sparse attention; only the
            dense default is supported (``ValueError`` otherwise), the rest is kept for
            compatibility of constructor arguments.

    Shapes:
        ``x``: ``(batch, dim, freqs, frames)``, ``xt``: ``(batch, dim, time)``; returned unchanged
        in shape.
    """

    def __init__(
        self,
        dim: int,
        emb: str = "sin",
        hidden_scale: float = 4.0,
        num_heads: int = 8,
        num_layers: int = 6,
        cross_first: bool = False,
        dropout: float = 0.0,
        max_positions: int = 1000,
        norm_in: bool = True,
        norm_in_group: int | bool = False,
        group_norm: int | bool = False,
        norm_first: bool = False,
        norm_out: int | bool = False,
        max_period: float = 10000.0,
        weight_decay: float = 0.0,
        lr: float | None = None,
        layer_scale: bool = False,
        gelu: bool = True,
        sin_random_shift: int = 0,
        weight_pos_embed: float = 1.0,
        cape_mean_normalize: bool = True,
        cape_augment: bool = True,
        cape_glob_loc_scale: Sequence[float] = (5000.0, 1.0, 1.4),
        sparse_self_attn: bool = False,
        sparse_cross_attn: bool = False,
        mask_type: str = "diag",
        mask_random_seed: int = 42,
        sparse_attn_window: int = 500,
        global_window: int = 50,
        auto_sparsity: bool = False,
        sparsity: float = 0.95,
    ):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")
        if emb not in ("sin", "cape", "scaled"):
            raise ValueError(f"emb must be 'sin', 'cape' or 'scaled', got {emb!r}")
        _check_dense(sparse_self_attn or sparse_cross_attn or auto_sparsity)
        self.num_layers = num_layers
        self.classic_parity = 1 if cross_first else 0
        self.emb = emb
        self.max_period = max_period
        self.weight_decay = weight_decay
        self.lr = lr
        self.weight_pos_embed = weight_pos_embed
        self.sin_random_shift = sin_random_shift
        self.cape_mean_normalize = cape_mean_normalize
        self.cape_augment = cape_augment
        self.cape_glob_loc_scale = list(cape_glob_loc_scale)
        if emb == "scaled":
            # Learnt positions: forward multiplies by 3 (a learning-rate boost), so start at
            # N(0, 1) * 0.2 / 3 to give an effective initial scale of 0.2. Imported here so that
            # the transformer does not depend on the hybrid layers for the usual sin code.
            from stemgui.separation.nets.hybrid import ScaledEmbedding

            self.position_embeddings = ScaledEmbedding(max_positions, dim, scale=3.0)
            with torch.no_grad():
                self.position_embeddings.embedding.weight.mul_(0.2)

        self.norm_in: nn.Module
        self.norm_in_t: nn.Module
        if norm_in:
            self.norm_in = nn.LayerNorm(dim)
            self.norm_in_t = nn.LayerNorm(dim)
        elif norm_in_group:
            self.norm_in = ChannelLastGroupNorm(int(norm_in_group), dim)
            self.norm_in_t = ChannelLastGroupNorm(int(norm_in_group), dim)
        else:
            self.norm_in = nn.Identity()
            self.norm_in_t = nn.Identity()

        layer_kwargs = {
            "d_model": dim,
            "nhead": num_heads,
            "dim_feedforward": int(dim * hidden_scale),
            "dropout": dropout,
            "activation": F.gelu if gelu else F.relu,
            "group_norm": group_norm,
            "norm_first": norm_first,
            "norm_out": norm_out,
            "layer_scale": layer_scale,
        }
        self.layers = nn.ModuleList()  # spectrogram branch
        self.layers_t = nn.ModuleList()  # waveform branch
        for index in range(num_layers):
            kind = SelfAttentionLayer if self._is_self(index) else CrossAttentionLayer
            self.layers.append(kind(**layer_kwargs))
            self.layers_t.append(kind(**layer_kwargs))

    def _is_self(self, index: int) -> bool:
        return index % 2 == self.classic_parity

    def _time_positions(
        self, length: int, batch: int, dim: int, device: torch.device
    ) -> torch.Tensor:
        """Position code of the waveform tokens: ``(length, dim)`` or ``(batch, length, dim)``."""
        if self.emb == "sin":
            shift = random.randrange(self.sin_random_shift + 1) if self.training else 0
            return sin_embedding(
                length, dim, shift=shift, max_period=self.max_period, device=device
            )
        if self.emb == "cape":
            global_shift, local_shift, scale = self.cape_glob_loc_scale
            return cape_embedding(
                length,
                dim,
                batch,
                mean_normalize=self.cape_mean_normalize,
                augment=self.training and self.cape_augment,
                max_global_shift=global_shift,
                max_local_shift=local_shift,
                max_scale=scale,
                max_period=self.max_period,
                device=device,
            )
        return self.position_embeddings(torch.arange(length, device=device))

    def forward(self, x: torch.Tensor, xt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, dim, freqs, frames = x.shape
        # Spectrogram tokens ordered frame-major: (batch, frames * freqs, dim).
        grid = sin_embedding_2d(dim, freqs, frames, max_period=self.max_period, device=x.device)
        grid = grid.permute(2, 1, 0).reshape(frames * freqs, dim)
        x = x.permute(0, 3, 2, 1).reshape(batch, frames * freqs, dim)
        x = self.norm_in(x) + self.weight_pos_embed * grid

        # Waveform tokens: (batch, time, dim).
        length = xt.shape[-1]
        xt = xt.transpose(1, 2)
        positions = self._time_positions(length, batch, dim, x.device)
        xt = self.norm_in_t(xt) + self.weight_pos_embed * positions

        for index in range(self.num_layers):
            if self._is_self(index):
                x = self.layers[index](x)
                xt = self.layers_t[index](xt)
            else:
                x, xt = self.layers[index](x, xt), self.layers_t[index](xt, x)

        x = x.reshape(batch, frames, freqs, dim).permute(0, 3, 2, 1)
        xt = xt.transpose(1, 2)
        return x, xt

    def make_optim_group(self) -> dict:
        """Optimiser parameter group with this transformer's own weight decay and learning rate."""
        group = {"params": list(self.parameters()), "weight_decay": self.weight_decay}
        if self.lr is not None:
            group["lr"] = self.lr
        return group
