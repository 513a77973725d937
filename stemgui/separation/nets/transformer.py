"""Cross-domain transformer at the bottom of HTDemucs.

The spectrogram branch (a feature map ``(batch, channels, freqs, frames)``) and the waveform branch
(``(batch, channels, time)``) each become a sequence of tokens with a sinusoidal position code
(2D over frequency and frame for the first, 1D for the second; :mod:`.embeddings`). Both sequences
then go through ``num_layers`` pairs of layers, alternating self-attention within each branch and
cross-attention from one branch to the other (:mod:`.attention`); both branches come back out in
their input shape.

Parameter names and module nesting follow the reference ``demucs.transformer`` exactly, so that its
state dicts load unchanged: :class:`CrossTransformerEncoder` holds ``norm_in`` and ``norm_in_t``
(when input norms are on), ``position_embeddings`` (``emb="scaled"`` only), and ``layers`` /
``layers_t`` (spectrogram / waveform), two ``ModuleList`` of
:class:`~.attention.SelfAttentionLayer` and :class:`~.attention.CrossAttentionLayer`.

The reference's sparse attention options rely on experimental xformers kernels that no released
model uses; they are rejected here with a ``ValueError``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from stemgui.separation.nets.attention import (
    ChannelLastGroupNorm,
    CrossAttentionLayer,
    SelfAttentionLayer,
    _check_dense,
)
from stemgui.separation.nets.embeddings import (
    ScaledEmbedding,
    cape_embedding,
    sin_embedding,
    sin_embedding_2d,
)

logger = logging.getLogger(__name__)


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
            # N(0, 1) * 0.2 / 3 to give an effective initial scale of 0.2.
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
