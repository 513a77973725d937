"""Position and frequency codes: what the hybrid networks add to their tokens and bins.

The cross-domain transformer (:mod:`.transformer`) adds a sinusoidal position code to its tokens:
2D over frequency and frame for the spectrogram branch (:func:`sin_embedding_2d`), 1D for the
waveform branch (:func:`sin_embedding`, :func:`cape_embedding` or a learnt
:class:`ScaledEmbedding`). The hybrid U-Nets (:mod:`.hybrid_unet`) add a learnt
:class:`ScaledEmbedding` of the frequency bins after their first layer.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

logger = logging.getLogger(__name__)


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


class ScaledEmbedding(nn.Module):
    """Embedding whose stored weight is divided by ``scale`` and multiplied back on use.

    That is the same as a ``scale`` times larger learning rate for it. With ``smooth`` the
    initial rows are a normalised running sum of Gaussian rows, so neighbouring indices
    (frequencies) start with similar vectors.
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, scale: float = 10.0, smooth: bool = False
    ):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)
        weight = self.embedding.weight.data
        if smooth:
            counts = torch.arange(1, num_embeddings + 1, dtype=weight.dtype)
            weight[:] = torch.cumsum(weight, dim=0) / counts.sqrt()[:, None]
        weight /= scale
        self.scale = scale

    @property
    def weight(self) -> torch.Tensor:
        return self.embedding.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Integer indices (n,) -> (n, embedding_dim)."""
        return self.embedding(x) * self.scale
