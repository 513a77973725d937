"""Spectrogram plumbing shared by the hybrid networks (HDemucs v3, HTDemucs v4).

A hybrid network runs two U-Nets side by side: one over the waveform (the *time* branch) and one
over the STFT (the *frequency* branch). This module turns the waveform into the frequency
branch's input and its output back into a waveform; the layers are in ``hybrid_layers.py``, the
U-Nets that wire them in ``hybrid_unet.py``.

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
"""

from __future__ import annotations

import logging
import math

import torch
from torch.nn import functional as F

from .spec import ispectro, spectro

logger = logging.getLogger(__name__)

__all__ = [
    "HybridSpectrogram",
    "check_output_options",
    "from_network_output",
    "hybrid_istft",
    "hybrid_stft",
    "pad1d",
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
