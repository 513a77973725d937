"""Building blocks shared by the Demucs-family networks.

All tensors here are channel-first, ``(batch, channels, time)``, unless a docstring says otherwise.
Parameter names and module nesting follow the reference Demucs implementation exactly, so that its
state dicts load into our networks unchanged:

- :class:`DConv` holds ``layers``, a ``ModuleList`` of ``Sequential`` residual branches whose
  children are numbered as in the reference (conv, norm, act, [BLSTM], [LocalState], conv, norm,
  GLU, LayerScale).
- :class:`BLSTM` holds ``lstm`` (``nn.LSTM``) and ``linear``.
- :class:`LocalState` holds ``content``, ``query``, ``key``, ``query_decay`` (and
  ``query_freqs`` when ``nfreqs > 0``) and ``proj``.
- :class:`LayerScale` holds ``scale``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

logger = logging.getLogger(__name__)

_RESCALED_TYPES = (nn.Conv1d, nn.ConvTranspose1d, nn.Conv2d, nn.ConvTranspose2d)


def constructor_kwargs(arguments: dict[str, Any], **normalized: Any) -> dict[str, Any]:
    """Every constructor argument of a network, defaults applied, for its ``_init_kwargs``.

    ``arguments`` is ``locals()`` taken as the very first statement of ``__init__``, when it
    holds the arguments only; ``self`` and the ``__class__`` cell of ``super()`` are left out.
    ``normalized`` replaces some of them by the plain form a checkpoint stores (a list for a
    tuple, a float for a ``Fraction``).
    """
    kwargs = {k: v for k, v in arguments.items() if k not in ("self", "__class__")}
    unknown = set(normalized) - set(kwargs)
    if unknown:
        raise TypeError(f"not constructor arguments: {sorted(unknown)}")
    kwargs.update(normalized)
    return kwargs


def center_trim(tensor: torch.Tensor, reference: torch.Tensor | int) -> torch.Tensor:
    """Trim the last dimension of ``tensor`` symmetrically down to a reference length.

    Args:
        tensor: ``(..., time)``.
        reference: a length, or a tensor whose last dimension gives it.

    Returns:
        ``(..., length)``; when the excess is odd the extra sample is removed on the right.

    Raises:
        ValueError: if ``tensor`` is shorter than the reference.
    """
    length = reference.shape[-1] if isinstance(reference, torch.Tensor) else int(reference)
    excess = tensor.shape[-1] - length
    if excess < 0:
        raise ValueError(
            f"cannot trim a tensor of length {tensor.shape[-1]} to the longer length {length}"
        )
    left = excess // 2
    return tensor[..., left : left + length]


def norm_layer(enabled: bool, groups: int, channels: int) -> nn.Module:
    """``GroupNorm(groups, channels)`` when ``enabled``, identity otherwise."""
    return nn.GroupNorm(groups, channels) if enabled else nn.Identity()


def rescale_conv(conv: nn.Module, reference: float) -> None:
    """Divide a convolution's weight and bias by ``sqrt(std(weight) / reference)`` in place.

    This is the reference's initialisation trick: it pulls the weight standard deviation
    towards ``reference`` (geometric middle between the default init and ``reference``).
    """
    std = conv.weight.detach().std()
    scale = (std / reference) ** 0.5
    with torch.no_grad():
        conv.weight.div_(scale)
        if conv.bias is not None:
            conv.bias.div_(scale)


def rescale_module(module: nn.Module, reference: float) -> None:
    """Apply :func:`rescale_conv` to every (transposed) 1d/2d convolution inside ``module``."""
    for sub in module.modules():
        if isinstance(sub, _RESCALED_TYPES):
            rescale_conv(sub, reference)


class LayerScale(nn.Module):
    """Per-channel learnt scale, initialised small, for residual branches (Touvron et al. 2021).

    Args:
        channels: number of channels scaled.
        init: initial value of every scale.
        channel_last: ``False`` for ``(batch, channels, time)`` inputs, ``True`` for inputs whose
            last dimension is the channel one, e.g. ``(time, batch, channels)``.
    """

    def __init__(self, channels: int, init: float = 0.0, channel_last: bool = False):
        super().__init__()
        self.channel_last = channel_last
        self.scale = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channel_last:
            return x * self.scale
        return x * self.scale.unsqueeze(-1)


class BLSTM(nn.Module):
    """Bidirectional LSTM over time whose hidden size equals its input size.

    A linear layer maps the two directions back to ``dim`` channels. With ``max_steps`` set,
    inputs longer than it are cut into windows of ``max_steps`` with 50 % overlap, each window
    runs through the LSTM separately, and the central part of each window is kept.

    Args:
        dim: channels in and out.
        layers: number of stacked LSTM layers.
        max_steps: window length in time steps (a multiple of 4), or ``None`` for no windowing.
        skip: add the input to the output (residual connection).

    Shapes:
        ``(batch, dim, time) -> (batch, dim, time)``.
    """

    def __init__(self, dim: int, layers: int = 1, max_steps: int | None = None, skip: bool = False):
        super().__init__()
        if max_steps is not None and max_steps % 4:
            raise ValueError(f"max_steps must be a multiple of 4, got {max_steps}")
        self.max_steps = max_steps
        self.skip = skip
        self.lstm = nn.LSTM(input_size=dim, hidden_size=dim, num_layers=layers, bidirectional=True)
        self.linear = nn.Linear(2 * dim, dim)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, dim, time) -> (batch, dim, time)`` through the LSTM and the linear map."""
        sequence = x.permute(2, 0, 1)  # (time, batch, dim)
        out = self.linear(self.lstm(sequence)[0])
        return out.permute(1, 2, 0)

    def _run_windowed(self, x: torch.Tensor) -> torch.Tensor:
        batch, dim, length = x.shape
        width = self.max_steps
        hop = width // 2
        margin = hop // 2
        count = math.ceil(length / hop)
        padded = F.pad(x, (0, (count - 1) * hop + width - length))
        # (batch, dim, count, width) -> (batch * count, dim, width)
        windows = padded.unfold(-1, width, hop).permute(0, 2, 1, 3).reshape(-1, dim, width)
        out = self._run(windows).reshape(batch, count, dim, width)
        pieces = []
        for index in range(count):
            start = 0 if index == 0 else margin
            stop = width if index == count - 1 else width - margin
            pieces.append(out[:, index, :, start:stop])
        return torch.cat(pieces, dim=-1)[..., :length]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.max_steps is not None and x.shape[-1] > self.max_steps:
            y = self._run_windowed(x)
        else:
            y = self._run(x)
        return x + y if self.skip else y


class LocalState(nn.Module):
    """Multi-head self-attention over time without positional embedding.

    Each head penalises distant time steps through ``ndecay`` learnt decay rates (a query-dependent
    mix of ``-k * |t - s|`` kernels), so attention stays local unless the data asks otherwise.
    Optionally ``nfreqs`` cosine kernels add periodic position features. A time step never attends
    to itself. The result is projected and added to the input.

    Args:
        channels: channels in and out; must be divisible by ``heads``.
        heads: number of attention heads.
        nfreqs: number of periodic kernels (0 in every released model).
        ndecay: number of decay kernels.

    Shapes:
        ``(batch, channels, time) -> (batch, channels, time)``.
    """

    def __init__(self, channels: int, heads: int = 4, nfreqs: int = 0, ndecay: int = 4):
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        self.heads = heads
        self.nfreqs = nfreqs
        self.ndecay = ndecay
        self.content = nn.Conv1d(channels, channels, 1)
        self.query = nn.Conv1d(channels, channels, 1)
        self.key = nn.Conv1d(channels, channels, 1)
        if nfreqs:
            self.query_freqs = nn.Conv1d(channels, heads * nfreqs, 1)
        if ndecay:
            self.query_decay = nn.Conv1d(channels, heads * ndecay, 1)
            # Start with (almost) no decay, the widest window: sigmoid(-2) is small.
            with torch.no_grad():
                self.query_decay.weight.mul_(0.01)
                self.query_decay.bias.fill_(-2.0)
        self.proj = nn.Conv1d(channels + heads * nfreqs, channels, 1)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, heads * c, time) -> (batch, heads, c, time)``."""
        return x.view(x.shape[0], self.heads, -1, x.shape[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length = x.shape
        steps = torch.arange(length, device=x.device, dtype=x.dtype)
        offset = steps[:, None] - steps[None, :]  # (key t, query s)

        queries = self._heads(self.query(x))
        keys = self._heads(self.key(x))
        # scores[b, h, t, s]: key step t against query step s.
        scores = torch.einsum("bhct,bhcs->bhts", keys, queries) / keys.shape[2] ** 0.5
        if self.nfreqs:
            periods = torch.arange(1, self.nfreqs + 1, device=x.device, dtype=x.dtype)
            freq_kernel = torch.cos(2 * math.pi * offset / periods.view(-1, 1, 1))  # (f, t, s)
            freq_q = self._heads(self.query_freqs(x)) / self.nfreqs**0.5
            scores = scores + torch.einsum("fts,bhfs->bhts", freq_kernel, freq_q)
        if self.ndecay:
            rates = torch.arange(1, self.ndecay + 1, device=x.device, dtype=x.dtype)
            decay_kernel = -rates.view(-1, 1, 1) * offset.abs() / self.ndecay**0.5  # (f, t, s)
            decay_q = torch.sigmoid(self._heads(self.query_decay(x))) / 2
            scores = scores + torch.einsum("fts,bhfs->bhts", decay_kernel, decay_q)

        diagonal = torch.eye(length, device=x.device, dtype=torch.bool)
        scores = scores.masked_fill(diagonal, -100.0)
        weights = scores.softmax(dim=2)  # over key steps

        content = self._heads(self.content(x))
        result = torch.einsum("bhts,bhct->bhcs", weights, content)
        if self.nfreqs:
            positional = torch.einsum("bhts,fts->bhfs", weights, freq_kernel)
            result = torch.cat([result, positional], dim=2)
        return x + self.proj(result.reshape(batch, -1, length))


class PointwiseConv1d(nn.Conv1d):
    """``nn.Conv1d`` with a kernel of 1, computed as a matrix product.

    Same parameters (``weight`` ``(out, in, 1)``, ``bias``) and result; oneDNN is slow on the
    few input channels of a DConv branch (6 in the official htdemucs): a batched matrix
    product is two to three times faster there.

    Shapes:
        ``(batch, in_channels, time) -> (batch, out_channels, time)``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight[:, :, 0].expand(x.shape[0], -1, -1)
        if self.bias is None:
            return torch.bmm(weight, x)
        return torch.baddbmm(self.bias[:, None], weight, x)


class DConv(nn.Module):
    """Residual branches of dilated convolutions, added to the input one after the other.

    Branch ``d`` (``d = 0 .. depth - 1``) projects the input down to ``channels / compress``
    channels with a dilated convolution (dilation ``2 ** d``), normalises, applies the activation,
    optionally a windowed :class:`BLSTM` and a :class:`LocalState` attention, projects back up to
    ``2 * channels``, normalises, gates with a GLU and scales with a :class:`LayerScale`.

    Args:
        channels: channels in and out.
        compress: channel compression inside each branch.
        depth: number of branches; a negative value gives ``|depth|`` branches without dilation.
        init: initial value of the :class:`LayerScale`.
        norm: use ``GroupNorm(1, ·)`` after each projection (identity otherwise).
        attn: insert a :class:`LocalState` in every branch.
        heads: attention heads of the :class:`LocalState`.
        ndecay: decay kernels of the :class:`LocalState`.
        lstm: insert a windowed :class:`BLSTM` (2 layers, windows of 200 steps) in every branch.
        gelu: GELU activation if true, ReLU otherwise.
        kernel: odd kernel size of the dilated convolutions.
        dilate: dilate the convolutions (also requires ``depth > 0``).

    Shapes:
        ``(batch, channels, time) -> (batch, channels, time)``.
    """

    def __init__(
        self,
        channels: int,
        compress: float = 4,
        depth: int = 2,
        init: float = 1e-4,
        norm: bool = True,
        attn: bool = False,
        heads: int = 4,
        ndecay: int = 4,
        lstm: bool = False,
        gelu: bool = True,
        kernel: int = 3,
        dilate: bool = True,
    ):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"DConv kernel must be odd, got {kernel}")
        self.channels = channels
        self.compress = compress
        self.depth = abs(depth)
        dilate = dilate and depth > 0
        hidden = int(channels / compress)
        activation = nn.GELU if gelu else nn.ReLU

        def normalisation(width: int) -> nn.Module:
            return nn.GroupNorm(1, width) if norm else nn.Identity()

        self.layers = nn.ModuleList()
        for index in range(self.depth):
            dilation = 2**index if dilate else 1
            down = [
                nn.Conv1d(
                    channels, hidden, kernel, dilation=dilation, padding=dilation * (kernel // 2)
                ),
                normalisation(hidden),
                activation(),
            ]
            middle: list[nn.Module] = []
            if lstm:
                middle.append(BLSTM(hidden, layers=2, max_steps=200, skip=True))
            if attn:
                middle.append(LocalState(hidden, heads=heads, ndecay=ndecay))
            up = [
                PointwiseConv1d(hidden, 2 * channels),
                normalisation(2 * channels),
                nn.GLU(dim=1),
                LayerScale(channels, init),
            ]
            self.layers.append(nn.Sequential(*down, *middle, *up))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for branch in self.layers:
            x = x + branch(x)
        return x
