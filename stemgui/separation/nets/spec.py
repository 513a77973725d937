"""Short-time Fourier transform and its inverse, with the conventions of the Demucs weights.

Both directions use a Hann window of ``n_fft`` samples, ``normalized=True`` (the transform is
scaled by ``1 / sqrt(n_fft)``), centred frames with reflect padding, and a hop of ``n_fft // 4``
unless told otherwise. These are the settings the official Demucs checkpoints were trained with;
changing any of them changes every output.

Apple MPS and Intel XPU have no complex support, so there the transform runs on the CPU and the
result stays on the CPU (the callers move it back where needed).
"""

from __future__ import annotations

import logging

import torch

logger = logging.getLogger(__name__)

# Devices on which torch.stft / torch.istft are not available or lack complex numbers.
_CPU_FALLBACK = frozenset({"mps", "xpu"})


def spectro(
    x: torch.Tensor, n_fft: int = 512, hop_length: int | None = None, pad: int = 0
) -> torch.Tensor:
    """STFT of the last axis.

    Args:
        x: real signal of shape (..., time).
        n_fft: window length in samples.
        hop_length: hop in samples; ``n_fft // 4`` when None.
        pad: zero-pad each window to ``n_fft * (1 + pad)`` before the FFT (finer bins).

    Returns:
        complex spectrogram of shape (..., n_fft * (1 + pad) // 2 + 1, frames),
        with ``frames = 1 + time // hop_length``.
    """
    *leading, length = x.shape
    flat = x.reshape(-1, length)
    if flat.device.type in _CPU_FALLBACK:
        flat = flat.cpu()
    window = torch.hann_window(n_fft, dtype=flat.dtype, device=flat.device)
    z = torch.stft(
        flat,
        n_fft * (1 + pad),
        hop_length or n_fft // 4,
        win_length=n_fft,
        window=window,
        center=True,
        pad_mode="reflect",
        normalized=True,
        return_complex=True,
    )
    return z.view(*leading, z.shape[-2], z.shape[-1])


def ispectro(
    z: torch.Tensor, hop_length: int | None = None, length: int | None = None, pad: int = 0
) -> torch.Tensor:
    """Inverse of :func:`spectro` (overlap-add with the same window and normalisation).

    Args:
        z: complex spectrogram of shape (..., freqs, frames); the FFT size is ``2 * freqs - 2``.
        hop_length: hop in samples; ``n_fft // 4`` of the *window* when None.
        length: trim or zero-pad the output to this many samples.
        pad: the ``pad`` that :func:`spectro` was called with (the window is
            ``fft_size // (1 + pad)`` long).

    Returns:
        real signal of shape (..., time).
    """
    *leading, freqs, frames = z.shape
    fft_size = 2 * freqs - 2
    win_length = fft_size // (1 + pad)
    flat = z.reshape(-1, freqs, frames)
    if flat.device.type in _CPU_FALLBACK:
        flat = flat.cpu()
    window = torch.hann_window(win_length, dtype=flat.real.dtype, device=flat.device)
    x = torch.istft(
        flat,
        fft_size,
        hop_length,
        win_length=win_length,
        window=window,
        center=True,
        normalized=True,
        length=length,
    )
    return x.view(*leading, x.shape[-1])
