"""Layers and spectrogram plumbing shared by the hybrid networks (HDemucs v3, HTDemucs v4).

A hybrid network runs two U-Nets side by side: one over the waveform (the *time* branch) and one
over the STFT (the *frequency* branch). Everything both networks need lives here, so that
``hdemucs.py`` and ``htdemucs.py`` only describe how the pieces are wired.

Contract (imported by ``hdemucs.py`` and ``htdemucs.py``; the names and signatures are stable):

Padding and normalisation
    ``pad1d(x, paddings: tuple[int, int], mode="constant", value=0.0) -> Tensor``
        ``F.pad`` of the last axis that also allows ``mode="reflect"`` on inputs shorter than the
        padding (zeros are added first so that the reflection is possible).
    ``standardize(x, dims: tuple[int, ...]) -> (normalized, mean, std)``
        ``(x - mean) / (1e-5 + std)`` over ``dims`` (unbiased std, kept dims), as the networks
        normalise their inputs; undo with ``y * std + mean``.

Spectrogram front and back end (complex tensors; ``hop = nfft // 4``)
    ``hybrid_stft(x, nfft, *, hybrid=True, hybrid_old=False) -> z``
        x (batch, channels, time) -> z complex (batch, channels, nfft // 2, frames). With
        ``hybrid`` the signal is padded so that ``frames == ceil(time / hop)`` exactly (reflect
        padding; zero padding when ``hybrid_old``, the MDX 2021 checkpoints' variant); the
        Nyquist bin is dropped.
    ``hybrid_istft(z, hop_length, length, *, hybrid=True, hybrid_old=False) -> x``
        z complex (..., nfft // 2, frames) -> x real (..., length); inverse of ``hybrid_stft``.
    ``to_network_input(z, cac) -> m``
        z complex (batch, channels, freqs, frames) -> m real: with ``cac`` (complex as channels)
        (batch, 2 * channels, freqs, frames), channel order (c0.re, c0.im, c1.re, ...);
        otherwise the magnitude (batch, channels, freqs, frames).
    ``from_network_output(z, m, cac, niters=-1) -> zout``
        m real (batch, sources, 2 * channels | channels, freqs, frames) -> zout complex
        (batch, sources, channels, freqs, frames). With ``cac`` m *is* the spectrogram and z is
        ignored; otherwise m is a magnitude and takes the phase of the mixture z:
        ``niters=-1`` as ``z / (1e-8 + |z|)``, ``niters=0`` as the reference's Wiener filter
        with zero EM iterations (``cos`` / ``sin`` of ``atan2``); ``niters > 0`` (EM
        iterations) is not implemented: ValueError.
    ``check_output_options(cac, wiener_iters, end_iters, hybrid=True, *, max_wiener_iters=-1)``
        ValueError for what the calling network does not implement: ``cac=False`` with more
        Wiener iterations (``wiener_iters`` or ``end_iters``) than ``max_wiener_iters`` (at
        most 0 is possible here), and ``wiener_iters != end_iters`` in a hybrid network (the
        reference refuses it too).
    ``class HybridSpectrogram`` (mixin for an ``nn.Module``)
        ``_spec(x)``, ``_ispec(z, length)``, ``_magnitude(z)``, ``_mask(z, m)``: the four
        functions above bound to the attributes ``nfft``, ``hop_length``, ``cac``,
        ``wiener_iters`` (eval) / ``end_iters`` (training), ``hybrid`` (class default True)
        and ``hybrid_old`` (class default False) of the network.

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
    ``rescale_module`` is re-exported from ``blocks``.

The two U-Nets
    ``shape_fault(nfft, depth, kernel_size, stride, time_stride, time_branch) -> str | None``
        why layers of these arguments cannot line up, whatever the input (``_build_unet``
        raises it as a ValueError), else None.
    ``class HybridUNet`` (mixin for an ``nn.Module``)
        ``_build_unet(**options) -> merged`` creates and registers ``encoder``, ``decoder``,
        ``tencoder``, ``tdecoder`` and ``freq_emb`` (an ``embeddings.ScaledEmbedding``) from
        the constructor options the two networks share; ``_run_unet(x, xt, bottom) -> (x, xt)``
        runs the encoders, ``bottom`` and the decoders.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import DConv, rescale_module
from .embeddings import ScaledEmbedding
from .spec import ispectro, spectro

logger = logging.getLogger(__name__)

__all__ = [
    "HDecLayer",
    "HEncLayer",
    "HybridSpectrogram",
    "HybridUNet",
    "MultiWrap",
    "check_output_options",
    "from_network_output",
    "hybrid_istft",
    "hybrid_stft",
    "pad1d",
    "rescale_module",
    "standardize",
    "to_network_input",
]


# --------------------------------------------------------------------------- padding, norm


def pad1d(
    x: torch.Tensor, paddings: tuple[int, int], mode: str = "constant", value: float = 0.0
) -> torch.Tensor:
    """Pad the last axis of ``x`` (..., time) -> (..., left + time + right).

    Unlike ``F.pad``, ``mode="reflect"`` works when ``time`` is not longer than the padding:
    just enough zeros are appended (right first, then left) to make the reflection legal, and
    taken out of the requested padding so the output length is unchanged.
    """
    left, right = paddings
    length = x.shape[-1]
    if mode == "reflect" and length <= max(left, right):
        extra = max(left, right) - length + 1
        extra_right = min(right, extra)
        extra_left = extra - extra_right
        x = F.pad(x, (extra_left, extra_right))
        left, right = left - extra_left, right - extra_right
    return F.pad(x, (left, right), mode, value)


def standardize(
    x: torch.Tensor, dims: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zero mean, unit (unbiased) std over ``dims``: returns ``(normalized, mean, std)``."""
    mean = x.mean(dim=dims, keepdim=True)
    std = x.std(dim=dims, keepdim=True)
    return (x - mean) / (1e-5 + std), mean, std


# --------------------------------------------------------------------------- spectrogram


def hybrid_stft(
    x: torch.Tensor, nfft: int, *, hybrid: bool = True, hybrid_old: bool = False
) -> torch.Tensor:
    """STFT of the network input.

    Shapes: (batch, channels, time) -> complex (batch, channels, nfft // 2, frames).

    The hop is ``nfft // 4``. For a hybrid network the frames must line up with the time
    branch, whose convolutions divide the length exactly by their stride: the signal is padded
    by ``3 * hop / 2`` on each side (plus up to a multiple of ``hop`` on the right), and the two
    outermost frames on each side are dropped, leaving ``ceil(time / hop)`` frames.
    """
    hop = nfft // 4
    if hybrid:
        length = x.shape[-1]
        frames = math.ceil(length / hop)
        border = hop // 2 * 3
        mode = "constant" if hybrid_old else "reflect"
        x = pad1d(x, (border, border + frames * hop - length), mode=mode)
    z = spectro(x, nfft, hop)[..., :-1, :]
    if hybrid:
        if z.shape[-1] != frames + 4:
            raise RuntimeError(f"expected {frames + 4} STFT frames, got {z.shape[-1]}")
        z = z[..., 2 : 2 + frames]
    return z


def hybrid_istft(
    z: torch.Tensor,
    hop_length: int,
    length: int,
    *,
    hybrid: bool = True,
    hybrid_old: bool = False,
) -> torch.Tensor:
    """Inverse of :func:`hybrid_stft`: complex (..., freqs, frames) -> real (..., length).

    The dropped Nyquist bin comes back as zeros; for a hybrid network the four dropped border
    frames come back as zeros as well and the padding is cut off again.
    """
    z = F.pad(z, (0, 0, 0, 1))
    if not hybrid:
        return ispectro(z, hop_length, length)
    z = F.pad(z, (2, 2))
    padded = hop_length * math.ceil(length / hop_length)
    if hybrid_old:
        # The MDX 2021 checkpoints were trained with this (misaligned) inverse: keep it.
        return ispectro(z, hop_length, length=padded)[..., :length]
    border = hop_length // 2 * 3
    x = ispectro(z, hop_length, length=padded + 2 * border)
    return x[..., border : border + length]


def to_network_input(z: torch.Tensor, cac: bool) -> torch.Tensor:
    """Complex (batch, channels, freqs, frames) -> real input of the frequency branch.

    With ``cac``: (batch, 2 * channels, freqs, frames), real and imaginary part of each channel
    side by side. Otherwise the magnitude, (batch, channels, freqs, frames).
    """
    if not cac:
        return z.abs()
    batch, channels, freqs, frames = z.shape
    parts = torch.view_as_real(z)  # (batch, channels, freqs, frames, 2)
    return parts.permute(0, 1, 4, 2, 3).reshape(batch, 2 * channels, freqs, frames)


def from_network_output(
    z: torch.Tensor, m: torch.Tensor, cac: bool, niters: int = -1
) -> torch.Tensor:
    """Output of the frequency branch -> complex (batch, sources, channels, freqs, frames).

    Args:
        z: mixture spectrogram, complex (batch, channels, freqs, frames); unused with ``cac``.
        m: with ``cac`` the source spectrograms as channels, real
            (batch, sources, 2 * channels, freqs, frames); otherwise magnitudes
            (batch, sources, channels, freqs, frames) that take the mixture's phase.
        niters: without ``cac``, how the phase is applied: ``-1`` multiplies by
            ``z / (1e-8 + |z|)``; ``0`` is the reference's Wiener filter with no EM iteration,
            ``m * (cos a + i sin a)`` with ``a = atan2(z.imag, z.real)`` (its residual source,
            if any, is dropped again, so ``wiener_residual`` changes nothing); more EM
            iterations are not implemented (ValueError).
    """
    if cac:
        batch, sources, _, freqs, frames = m.shape
        parts = m.view(batch, sources, -1, 2, freqs, frames).permute(0, 1, 2, 4, 5, 3)
        return torch.view_as_complex(parts.contiguous())
    if niters < 0:
        mixture = z[:, None]
        return mixture / (1e-8 + mixture.abs()) * m
    if niters == 0:
        angle = torch.atan2(z.imag, z.real)[:, None]
        return torch.complex(m * torch.cos(angle), m * torch.sin(angle))
    raise ValueError(f"Wiener filtering with {niters} EM iterations is not implemented")


def check_output_options(
    cac: bool, wiener_iters: int, end_iters: int, hybrid: bool = True, *, max_wiener_iters: int = -1
) -> None:
    """Refuse the output modes the calling network does not implement.

    ``max_wiener_iters`` is the largest number of Wiener iterations the network accepts when
    ``cac`` is off: -1 for none (magnitude times the mixture phase only), 0 for the Wiener
    filter's initial estimate (what the MDX 2021 hybrid checkpoints use).
    """
    if hybrid and wiener_iters != end_iters:
        raise ValueError(
            f"a hybrid network needs wiener_iters == end_iters, got {wiener_iters} and {end_iters}"
        )
    if not cac and max(wiener_iters, end_iters) > max_wiener_iters:
        limit = "no Wiener filtering" if max_wiener_iters < 0 else f"at most {max_wiener_iters}"
        raise ValueError(
            f"Wiener filtering with cac=False, wiener_iters={wiener_iters} and "
            f"end_iters={end_iters} is not implemented here ({limit}; -1 means none); "
            "use cac=True, as the official v3/v4 checkpoints except the MDX 2021 ones do"
        )


class HybridSpectrogram:
    """Mixin giving a network the reference's ``_spec`` / ``_ispec`` / ``_magnitude`` / ``_mask``.

    The network sets ``nfft``, ``hop_length`` (``nfft // 4``), ``cac``, ``wiener_iters`` and
    ``end_iters`` (and has ``training``, being an ``nn.Module``); ``hybrid`` and ``hybrid_old``
    default to the HTDemucs behaviour (True, False).
    """

    nfft: int
    hop_length: int
    cac: bool
    wiener_iters: int
    end_iters: int
    training: bool
    hybrid: bool = True
    hybrid_old: bool = False

    def _spec(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, time) -> complex (batch, channels, nfft // 2, frames)."""
        return hybrid_stft(x, self.nfft, hybrid=self.hybrid, hybrid_old=self.hybrid_old)

    def _ispec(self, z: torch.Tensor, length: int) -> torch.Tensor:
        """Complex (..., nfft // 2, frames) -> real (..., length)."""
        return hybrid_istft(
            z, self.hop_length, length, hybrid=self.hybrid, hybrid_old=self.hybrid_old
        )

    def _magnitude(self, z: torch.Tensor) -> torch.Tensor:
        """Complex (B, C, F, T) -> real (B, 2C, F, T) with cac, else (B, C, F, T)."""
        return to_network_input(z, self.cac)

    def _mask(self, z: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Real (B, S, 2C | C, F, T) -> complex (B, S, C, F, T); see :func:`from_network_output`."""
        niters = self.end_iters if self.training else self.wiener_iters
        return from_network_output(z, m, self.cac, niters)


# --------------------------------------------------------------------------- layers


def _norm_layer(enabled: bool, groups: int, channels: int) -> nn.Module:
    return nn.GroupNorm(groups, channels) if enabled else nn.Identity()


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
        self.norm1 = _norm_layer(norm, norm_groups, chout)
        if rewrite:
            conv_class = nn.Conv2d if freq else nn.Conv1d
            self.rewrite = conv_class(chout, 2 * chout, 1 + 2 * context, 1, context)
            self.norm2 = _norm_layer(norm, norm_groups, 2 * chout)
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
        self.norm2 = _norm_layer(norm, norm_groups, chout)
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
            self.norm1 = _norm_layer(norm, norm_groups, 2 * chin)
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


# --------------------------------------------------------------------------- the two U-Nets


def shape_fault(
    nfft: int, depth: int, kernel_size: int, stride: int, time_stride: int, time_branch: bool
) -> str | None:
    """Why the layers of a hybrid U-Net of these arguments cannot line up, or None.

    Each argument may be possible alone and not with the others (a file edited by hand, or
    trained so): such a network was built and failed at the first chunk of every song (a
    decoder one sample short, 'cannot inject', 'expected 58 STFT frames'). Only what fails
    whatever the input is refused here. A layer's decoder gives back ``(n - 1) * stride +
    kernel_size - 2 * pad`` of its encoder's ``n`` (``pad = kernel_size // 4``): below
    ``stride`` (kernel_size 1 with stride 4; stride 100) a decoder is short of its input; above
    it (kernel_size 1000) the time branch is not divided by the stride, which only the merge
    of the branches minds. With ``kernel_size - 2 * pad == stride`` (8 and 4, the official
    models') a layer over frequencies needs bins the stride divides, the merge a time branch
    divided by the spectrogram's hop ``nfft // 4``, which is even (its frames are the padded
    length over the hop) and a layer over time only (after the merge) an even ``time_stride``.
    """
    excess = kernel_size - 2 * (kernel_size // 4) - stride
    hop = nfft // 4
    if excess < 0:
        return (
            f"kernel_size={kernel_size} is too small for stride={stride}: a decoder layer "
            "gives back less than its encoder took (kernel_size - 2 * (kernel_size // 4) must "
            "be at least the stride, as kernel_size=8 and stride=4)"
        )
    if time_branch and (hop < 2 or hop % 2):
        return (
            f"nfft={nfft} does not fit the time branch: its hop (nfft // 4 = {hop}) must be even "
            "(nfft a multiple of 8, as 4096)"
        )
    freqs = nfft // 2
    for index in range(depth):
        if freqs <= 1:  # over time only
            if time_stride % 2:
                return (
                    f"time_stride={time_stride} must be even for layer {index} over time only "
                    f"(depth={depth}, nfft={nfft})"
                )
        elif freqs <= kernel_size:  # the last over frequencies: the branches merge here
            if time_branch and excess:
                return (
                    f"kernel_size={kernel_size} is too large for stride={stride} where the "
                    f"branches merge (layer {index}): kernel_size - 2 * (kernel_size // 4) must "
                    "be the stride, as kernel_size=8 and stride=4"
                )
            if time_branch and stride ** (index + 1) != hop:
                return (
                    f"nfft={nfft} does not fit stride={stride} and kernel_size={kernel_size}: the "
                    f"branches merge at layer {index}, where the time branch is divided by "
                    f"{stride ** (index + 1)} and the spectrogram by its hop {hop}"
                )
            freqs = 1
        elif freqs % stride and not excess:
            return (
                f"nfft={nfft} does not fit stride={stride}: layer {index} has {freqs} frequency "
                "bins, not a multiple of the stride"
            )
        else:
            freqs //= stride
    return None


class HybridUNet:
    """Mixin that builds and runs the encoder / decoder layers of a hybrid network.

    :meth:`_build_unet` registers on the network, in this order (the reference's, which fixes
    the order of ``parameters()`` that diffq-quantized states rely on): ``encoder`` and
    ``decoder`` (the frequency branch, and the layers over time after a merge), ``tencoder``
    and ``tdecoder`` (the time branch, only with ``time_branch``), then ``freq_emb``. Encoders
    are listed outermost layer first, decoders innermost layer first.

    At each layer the frequency branch divides its bins by ``stride``; the layer that collapses
    the last ``kernel_size`` bins or fewer into one is where the time branch *merges*: its
    ``tencoder`` layer is ``empty`` (a bare convolution added into the frequency branch) and
    the layers below run over time only (kernel ``2 * time_stride``) in ``encoder`` and
    ``decoder``. The network sets ``depth`` and ``hybrid`` (whether it has a time branch).
    """

    depth: int
    hybrid: bool
    encoder: nn.ModuleList
    decoder: nn.ModuleList
    tencoder: nn.ModuleList
    tdecoder: nn.ModuleList
    freq_emb: ScaledEmbedding | None
    freq_emb_scale: float

    def _build_unet(
        self,
        *,
        audio_channels: int,
        nsources: int,
        channels: int,
        channels_time: int | None,
        growth: float,
        nfft: int,
        cac: bool,
        depth: int,
        rewrite: bool,
        time_branch: bool,
        multi_freqs: Sequence[float],
        multi_freqs_depth: int,
        freq_emb: float,
        emb_scale: float,
        emb_smooth: bool,
        kernel_size: int,
        time_stride: int,
        stride: int,
        context: int,
        context_enc: int,
        norm_starts: int,
        norm_groups: int,
        dconv_mode: int,
        dconv_depth: int,
        dconv_comp: float,
        dconv_init: float,
        dconv_attn: int | None = None,
        dconv_lstm: int | None = None,
    ) -> bool:
        """Create and register the layers (arguments as the networks' constructors; ``None``
        for ``dconv_attn`` / ``dconv_lstm``: no DConv layer gets attention / a BiLSTM).

        Returns:
            whether the time branch merges into the frequency branch.
        """
        fault = shape_fault(nfft, depth, kernel_size, stride, time_stride, time_branch)
        if fault is not None:
            raise ValueError(fault)
        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()
        if time_branch:
            self.tencoder = nn.ModuleList()
            self.tdecoder = nn.ModuleList()
        self.freq_emb = None
        self.freq_emb_scale = freq_emb

        spec_factor = 2 if cac else 1  # frequency-branch channels per audio channel
        chin, chin_z = audio_channels, audio_channels * spec_factor
        chout, chout_z = channels_time or channels, channels
        freqs = nfft // 2
        merged = False
        for index in range(depth):
            freq = freqs > 1
            last_freq = freq and freqs <= kernel_size
            if not freq:
                layer_kernel, layer_stride = 2 * time_stride, time_stride
            elif last_freq:
                # Collapse the remaining bins into one: the branches merge after this layer.
                layer_kernel, layer_stride = freqs, stride
                merged = True
                chout_z = chout = max(chout, chout_z)
            else:
                layer_kernel, layer_stride = kernel_size, stride
            dconv_kw: dict = dict(
                depth=dconv_depth, compress=dconv_comp, init=dconv_init, gelu=True
            )
            if dconv_lstm is not None:
                dconv_kw["lstm"] = index >= dconv_lstm
            if dconv_attn is not None:
                dconv_kw["attn"] = index >= dconv_attn
            common = dict(
                norm=index >= norm_starts,
                rewrite=rewrite,
                norm_groups=norm_groups,
                dconv_kw=dconv_kw,
            )
            layer_kw = dict(
                common, kernel_size=layer_kernel, stride=layer_stride, freq=freq, pad=not last_freq
            )
            time_kw = dict(common, kernel_size=kernel_size, stride=stride, freq=False, pad=True)
            split = bool(multi_freqs) and index < multi_freqs_depth

            enc: nn.Module = HEncLayer(
                chin_z, chout_z, dconv=dconv_mode & 1, context=context_enc, **layer_kw
            )
            if time_branch and freq:
                self.tencoder.append(
                    HEncLayer(
                        chin,
                        chout,
                        dconv=dconv_mode & 1,
                        context=context_enc,
                        empty=last_freq,
                        **time_kw,
                    )
                )
            self.encoder.append(MultiWrap(enc, multi_freqs) if split else enc)

            if index == 0:
                # The outermost decoder layers produce every source at once.
                chin = audio_channels * nsources
                chin_z = chin * spec_factor
            dec: nn.Module = HDecLayer(
                chout_z,
                chin_z,
                dconv=dconv_mode & 2,
                last=index == 0,
                context=context,
                context_freq=not split,
                **layer_kw,
            )
            self.decoder.insert(0, MultiWrap(dec, multi_freqs) if split else dec)
            if time_branch and freq:
                self.tdecoder.insert(
                    0,
                    HDecLayer(
                        chout,
                        chin,
                        dconv=dconv_mode & 2,
                        empty=last_freq,
                        last=index == 0,
                        context=context,
                        **time_kw,
                    ),
                )

            chin, chin_z = chout, chout_z
            chout, chout_z = int(growth * chout), int(growth * chout_z)
            if freq:
                freqs = 1 if freqs <= kernel_size else freqs // stride
            if index == 0 and freq_emb:
                self.freq_emb = ScaledEmbedding(freqs, chin_z, smooth=emb_smooth, scale=emb_scale)
        return merged

    def _run_unet(
        self,
        x: torch.Tensor,
        xt: torch.Tensor | None,
        bottom: Callable[
            [torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor | None]
        ],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Run both branches through the encoders, ``bottom``, then the decoders.

        Args:
            x: standardized frequency-branch input (B, 2C | C, F, T).
            xt: standardized waveform (B, C, time); None without a time branch.
            bottom: maps the encoders' last outputs ``(x, xt)`` to the decoders' inputs.

        Returns:
            ``(x, xt)``: the frequency branch output (B, S * (2C | C), F, T) and the time branch
            output (B, S * C, time), or None without a time branch.
        """
        time_branch = self.hybrid
        skips, skips_t = [], []
        lengths, lengths_t = [], []  # input lengths, to undo the padding in the decoders
        for index, encode in enumerate(self.encoder):
            lengths.append(x.shape[-1])
            inject = None
            if time_branch and index < len(self.tencoder):
                lengths_t.append(xt.shape[-1])
                tencode = self.tencoder[index]
                xt = tencode(xt)
                if tencode.empty:
                    inject = xt  # same shape as the frequency branch now: merge
                else:
                    skips_t.append(xt)
            x = encode(x, inject)
            if index == 0 and self.freq_emb is not None:
                bins = torch.arange(x.shape[-2], device=x.device)
                emb = self.freq_emb(bins).t()[None, :, :, None]  # (1, C, F', 1)
                x = x + self.freq_emb_scale * emb.expand_as(x)
            skips.append(x)

        x, xt = bottom(x, xt)

        split_at = self.depth - len(self.tdecoder) if time_branch else self.depth
        for index, decode in enumerate(self.decoder):
            x, pre = decode(x, skips.pop(), lengths.pop())
            if index < split_at:
                continue
            tdecode = self.tdecoder[index - split_at]
            if tdecode.empty:
                # The time branch starts again from the shared layers' last activation.
                if pre.shape[2] != 1:
                    raise RuntimeError(f"expected a single frequency bin, got {tuple(pre.shape)}")
                xt, _ = tdecode(pre[:, :, 0], None, lengths_t.pop())
            else:
                xt, _ = tdecode(xt, skips_t.pop(), lengths_t.pop())
        if skips or skips_t or lengths_t:
            raise RuntimeError("unused skip connections: encoder and decoder do not match")
        return x, xt
