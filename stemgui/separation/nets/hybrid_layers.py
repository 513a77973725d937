"""Encoder and decoder layers of the hybrid networks (HDemucs v3, HTDemucs v4).

Each layer serves either branch of a hybrid network: over frequencies, (B, C, F, T), in the
spectrogram U-Net, or over time, (B, C, T), in the waveform U-Net. ``hybrid_unet.py`` stacks
them into the two U-Nets.

Contract (imported by ``hybrid_unet.py``; the names and signatures are stable):

Layers (parameter names as in the reference, so its state dicts load with strict=True)
    ``HEncLayer(chin, chout, kernel_size=8, stride=4, norm_groups=1, empty=False, freq=True,
    dconv=True, norm=True, context=0, dconv_kw=None, pad=True, rewrite=True)``
        ``forward(x, inject=None)``; freq: (B, chin, F, T) -> (B, chout, F / stride, T);
        time: (B, chin, T) -> (B, chout, ceil(T / stride)).
    ``HDecLayer(chin, chout, last=False, kernel_size=8, stride=4, norm_groups=1, empty=False,
    freq=True, dconv=True, norm=True, context=1, dconv_kw=None, pad=True, context_freq=True,
    rewrite=True)``
        ``forward(x, skip, length) -> (out, pre)``; ``pre`` is the activation just before the
        transposed convolution (used where the branches split).
    ``MultiWrap(layer, split_ratios)``
        one copy of an HEncLayer / HDecLayer per frequency band (``multi_freqs`` option).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import DConv, norm_layer

logger = logging.getLogger(__name__)

__all__ = [
    "FrequencyConvTranspose2d",
    "HDecLayer",
    "HEncLayer",
    "MultiWrap",
]


def _per_frequency(module: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """Apply a (batch, channels, time) module to every frequency row of (B, C, F, T)."""
    batch, channels, freqs, frames = y.shape
    rows = y.permute(0, 2, 1, 3).reshape(batch * freqs, channels, frames)
    rows = module(rows)
    return rows.view(batch, freqs, channels, frames).permute(0, 2, 1, 3)


class HEncLayer(nn.Module):
    """One encoder layer of either branch: strided conv, norm, GELU, DConv, 1x1 rewrite + GLU.

    Args:
        chin, chout: input and output channels.
        kernel_size, stride: of the strided convolution (over frequencies when ``freq``).
        norm_groups: GroupNorm groups (when ``norm``).
        empty: keep only the strided convolution (the time layer that merges into the
            frequency branch).
        freq: act on (B, C, F, T) along F with (k, 1) kernels; otherwise on (B, C, T).
        dconv: add a :class:`DConv` residual branch (built with ``dconv_kw``).
        norm: GroupNorm after the convolutions (Identity otherwise).
        context: half-width of the rewrite convolution (0 is a 1x1 conv).
        pad: pad by ``kernel_size // 4`` so the output is input / stride; the time layer also
            right-pads its input to a multiple of ``stride``.
        rewrite: add the rewrite convolution and GLU.
    """

    def __init__(
        self,
        chin: int,
        chout: int,
        kernel_size: int = 8,
        stride: int = 4,
        norm_groups: int = 1,
        empty: bool = False,
        freq: bool = True,
        dconv: bool = True,
        norm: bool = True,
        context: int = 0,
        dconv_kw: dict | None = None,
        pad: bool = True,
        rewrite: bool = True,
    ):
        super().__init__()
        self.freq = freq
        self.kernel_size = kernel_size
        self.stride = stride
        self.empty = empty
        self.norm = norm
        self.pad = kernel_size // 4 if pad else 0
        if freq:
            self.conv = nn.Conv2d(chin, chout, (kernel_size, 1), (stride, 1), (self.pad, 0))
        else:
            self.conv = nn.Conv1d(chin, chout, kernel_size, stride, self.pad)
        self.rewrite = None
        self.dconv = None
        if empty:
            return
        self.norm1 = norm_layer(norm, norm_groups, chout)
        if rewrite:
            conv_class = nn.Conv2d if freq else nn.Conv1d
            self.rewrite = conv_class(chout, 2 * chout, 1 + 2 * context, 1, context)
            self.norm2 = norm_layer(norm, norm_groups, 2 * chout)
        if dconv:
            self.dconv = DConv(chout, **(dconv_kw or {}))

    def forward(self, x: torch.Tensor, inject: torch.Tensor | None = None) -> torch.Tensor:
        """freq: (B, chin, F, T) -> (B, chout, F', T); time: (B, chin, T) -> (B, chout, T').

        ``inject`` (the time branch's output, (B, chout, T') or (B, chout, F', T')) is added
        after the strided convolution.
        """
        if not self.freq:
            if x.dim() == 4:
                x = x.reshape(x.shape[0], -1, x.shape[-1])
            remainder = x.shape[-1] % self.stride
            if remainder:
                x = F.pad(x, (0, self.stride - remainder))
        y = self.conv(x)
        if self.empty:
            return y
        if inject is not None:
            if inject.shape[-1] != y.shape[-1]:
                raise RuntimeError(f"cannot inject {tuple(inject.shape)} into {tuple(y.shape)}")
            if inject.dim() == 3 and y.dim() == 4:
                inject = inject[:, :, None]
            y = y + inject
        y = F.gelu(self.norm1(y))
        if self.dconv is not None:
            y = _per_frequency(self.dconv, y) if self.freq else self.dconv(y)
        if self.rewrite is None:
            return y
        return F.glu(self.norm2(self.rewrite(y)), dim=1)


class HDecLayer(nn.Module):
    """One decoder layer: add skip, 1x1 rewrite + GLU, DConv, transposed conv, norm, GELU.

    Arguments as :class:`HEncLayer`, plus ``last`` (no GELU at the end: the network output) and
    ``context_freq`` (when False the rewrite convolution has context over time only, a
    (1, 1 + 2 * context) kernel; used inside :class:`MultiWrap`).
    """

    def __init__(
        self,
        chin: int,
        chout: int,
        last: bool = False,
        kernel_size: int = 8,
        stride: int = 4,
        norm_groups: int = 1,
        empty: bool = False,
        freq: bool = True,
        dconv: bool = True,
        norm: bool = True,
        context: int = 1,
        dconv_kw: dict | None = None,
        pad: bool = True,
        context_freq: bool = True,
        rewrite: bool = True,
    ):
        super().__init__()
        self.pad = kernel_size // 4 if pad else 0
        self.last = last
        self.freq = freq
        self.chin = chin
        self.empty = empty
        self.stride = stride
        self.kernel_size = kernel_size
        self.norm = norm
        self.context_freq = context_freq
        if freq:
            self.conv_tr = FrequencyConvTranspose2d(chin, chout, kernel_size, stride)
        else:
            self.conv_tr = nn.ConvTranspose1d(chin, chout, kernel_size, stride)
        self.norm2 = norm_layer(norm, norm_groups, chout)
        self.rewrite = None
        self.dconv = None
        if empty:
            return
        if rewrite:
            if not freq:
                self.rewrite = nn.Conv1d(chin, 2 * chin, 1 + 2 * context, 1, context)
            elif context_freq:
                self.rewrite = nn.Conv2d(chin, 2 * chin, 1 + 2 * context, 1, context)
            else:
                self.rewrite = nn.Conv2d(chin, 2 * chin, (1, 1 + 2 * context), 1, (0, context))
            self.norm1 = norm_layer(norm, norm_groups, 2 * chin)
        if dconv:
            self.dconv = DConv(chin, **(dconv_kw or {}))

    def forward(
        self, x: torch.Tensor, skip: torch.Tensor | None, length: int | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """freq: (B, chin, F, T) -> (B, chout, F * stride, T);
        time: (B, chin, T) -> (B, chout, length).

        A 3-d input to a frequency layer is viewed as (B, chin, 1, T). Returns ``(out, pre)``,
        ``pre`` being the input of the transposed convolution.
        """
        if self.freq and x.dim() == 3:
            x = x.view(x.shape[0], self.chin, -1, x.shape[-1])
        if self.empty:
            if skip is not None:
                raise ValueError("an empty decoder layer takes no skip connection")
            y = x
        else:
            y = x + skip
            if self.rewrite is not None:
                y = F.glu(self.norm1(self.rewrite(y)), dim=1)
            if self.dconv is not None:
                y = _per_frequency(self.dconv, y) if self.freq else self.dconv(y)
        z = self.norm2(self.conv_tr(y))
        if self.freq:
            if self.pad:
                z = z[..., self.pad : -self.pad, :]
        else:
            z = z[..., self.pad : self.pad + length]
            if z.shape[-1] != length:
                raise RuntimeError(f"decoder produced {z.shape[-1]} samples, expected {length}")
        if not self.last:
            z = F.gelu(z)
        return z, y


class FrequencyConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` along frequency only: kernel ``(kernel_size, 1)``, stride
    ``(stride, 1)``.

    When the kernel is a multiple of the stride (8 and 4 in every official model) it is computed
    as one matrix product giving each input bin's ``kernel_size`` output bins, then an
    overlap-add: same parameters and result as the parent, 1.5 to 3 times faster on a CPU, where
    the parent's kernel is slow for the few output channels of the last layer.

    Shapes:
        ``(batch, in, freqs, frames) -> (batch, out, (freqs - 1) * stride + kernel_size, frames)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int):
        super().__init__(in_channels, out_channels, (kernel_size, 1), (stride, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = self.kernel_size[0], self.stride[0]
        if kernel % stride:
            return super().forward(x)
        batch, _, freqs, frames = x.shape
        overlap = kernel // stride
        weight = self.weight[..., 0].flatten(1).t().expand(batch, -1, -1)  # (B, out * k, in)
        taps = torch.bmm(weight, x.flatten(2))  # contiguous: matmul would copy it once more
        taps = taps.view(batch, self.out_channels, overlap, stride, freqs, frames)
        out = x.new_zeros(batch, self.out_channels, freqs + overlap - 1, stride, frames)
        for shift in range(overlap):  # input bin f reaches output bins (f + shift) * stride + s
            out[:, :, shift : shift + freqs] += taps[:, :, shift].transpose(2, 3)
        out = out.view(batch, self.out_channels, -1, frames)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


class MultiWrap(nn.Module):
    """Independent copies of a frequency layer, one per frequency band.

    ``split_ratios`` (increasing, in (0, 1)) cut the frequency axis into
    ``len(split_ratios) + 1`` bands. The bands overlap exactly as much as the convolution needs,
    so that copies with identical weights reproduce the wrapped layer applied to all
    frequencies at once. The wrapped layer must be a padded frequency layer without norm.
    """

    def __init__(self, layer: HEncLayer | HDecLayer, split_ratios: Sequence[float]):
        super().__init__()
        if layer.norm or not layer.freq or not layer.pad:
            raise ValueError("MultiWrap needs a padded frequency layer without GroupNorm")
        self.conv = isinstance(layer, HEncLayer)
        if not self.conv and layer.context_freq:
            raise ValueError("MultiWrap needs a decoder layer built with context_freq=False")
        self.split_ratios = list(split_ratios)
        self.layers = nn.ModuleList()
        for _ in range(len(self.split_ratios) + 1):
            band = copy.deepcopy(layer)
            if self.conv:
                band.conv.padding = (0, 0)  # the bands are padded by hand in forward
            else:
                band.pad = 0
            for module in band.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            self.layers.append(band)

    def forward(
        self, x: torch.Tensor, skip: torch.Tensor | None = None, length: int | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, None]:
        """Encoder: like :meth:`HEncLayer.forward`; decoder: like :meth:`HDecLayer.forward`
        but ``pre`` is None."""
        if self.conv:
            return self._encode(x)
        return self._decode(x, skip)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        freqs = x.shape[2]
        outs = []
        start = 0
        for ratio, layer in zip([*self.split_ratios, 1], self.layers):
            kernel, stride = layer.kernel_size, layer.stride
            pad = kernel // 4
            first, final = start == 0, ratio == 1
            if final:
                stop = freqs
            else:
                # End the band on a whole number of conv windows (counting the top padding).
                span = round(freqs * ratio) - start + (pad if first else 0)
                windows = round((span - kernel) / stride + 1)
                stop = start + (windows - 1) * stride + kernel - (pad if first else 0)
            if stop <= start or stop > freqs:
                raise RuntimeError(f"bad frequency band [{start}, {stop}) of {freqs}")
            band = x[:, :, start:stop, :]
            band = F.pad(band, (0, 0, pad if first else 0, pad if final else 0))
            outs.append(layer(band))
            start = stop - kernel + stride
        return torch.cat(outs, dim=2)

    def _decode(self, x: torch.Tensor, skip: torch.Tensor | None) -> tuple[torch.Tensor, None]:
        freqs = x.shape[2]
        outs: list[torch.Tensor] = []
        start = 0
        last = self.layers[-1].last
        for ratio, layer in zip([*self.split_ratios, 1], self.layers):
            stride = layer.stride
            stop = freqs if ratio == 1 else round(freqs * ratio)
            # Each band runs without its final GELU; the overlap of neighbouring transposed
            # convolutions is summed first, and the GELU applied once at the end.
            layer.last = True
            try:
                out, _ = layer(x[:, :, start:stop], skip[:, :, start:stop], None)
            finally:
                layer.last = last
            if outs:
                bias = layer.conv_tr.bias.view(1, -1, 1, 1)
                outs[-1][:, :, -stride:] += out[:, :, :stride] - bias
                out = out[:, :, stride:]
            if ratio == 1:
                out = out[:, :, : -stride // 2, :]
            if start == 0:
                out = out[:, :, stride // 2 :, :]
            outs.append(out)
            start = stop
        out = torch.cat(outs, dim=2)
        if not last:
            out = F.gelu(out)
        return out, None
