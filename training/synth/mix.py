"""Per-stem mixing and the shared limiter, in numpy (no scipy).

Each stem goes through: a compressor (RMS detector over 10 ms, gain smoothed over 20 ms),
high-pass and EQ tilt (zero-phase), stereo width (mid/side) and pan (constant power), a simple
reverb (convolution with seeded, exponentially decaying noise, different left and right) — these
last three done together on one FFT of the stem — and a level in dB relative to a fixed RMS.

The limiter's gain is computed on the SUM of the stems and multiplied into every stem, so the
mixture — always formed as ``stems.sum(0)`` — stays exactly the sum of the stems after limiting.
"""

from __future__ import annotations

import math

import numpy as np

from training.synth.recipe import StemMix

REFERENCE_RMS = 0.07  # a stem at level 0 dB has this RMS before the limiter


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along the last axis (same length, edges averaged over less)."""
    width = max(1, int(width))
    cumulative = np.cumsum(np.pad(x, [(0, 0)] * (x.ndim - 1) + [(1, 0)]), axis=-1)
    n = x.shape[-1]
    half = width // 2
    hi = np.minimum(np.arange(n) + width - half, n)
    lo = np.maximum(np.arange(n) - half, 0)
    return (cumulative[..., hi] - cumulative[..., lo]) / (hi - lo)


def _fft_size(frames: int) -> int:
    """The power of two at or above ``frames`` (numpy's FFT is slowest on large primes)."""
    return 1 << max(0, math.ceil(math.log2(frames)))


def eq_gain(freqs: np.ndarray, tilt_db: float, highpass_hz: float) -> np.ndarray:
    """Gain per frequency: a tilt of ``tilt_db`` per decade around 1 kHz (at most +12 dB)
    times a 2nd-order high-pass at ``highpass_hz`` (0: none); no DC."""
    safe = np.maximum(freqs, 1.0)
    gain = np.minimum(10 ** (tilt_db * np.log10(safe / 1000.0) / 20.0), 4.0)
    if highpass_hz > 0:
        ratio = (safe / highpass_hz) ** 2
        gain = gain * ratio / np.sqrt(1 + ratio**2)
    gain[0] = 0.0
    return gain


def compress(audio: np.ndarray, samplerate: int, threshold_db: float, ratio: float) -> np.ndarray:
    """Downward compression of what exceeds ``threshold_db`` (relative to the stem's peak RMS)."""
    power = _moving_average((audio**2).mean(0), int(0.01 * samplerate))
    level = 10 * np.log10(np.maximum(power, 1e-12))
    reference = level.max()
    over = np.maximum(level - (reference + threshold_db), 0.0)
    gain_db = -over * (1.0 - 1.0 / ratio)
    gain = 10 ** (_moving_average(gain_db, int(0.02 * samplerate)) / 20.0)
    return audio * gain


def place(audio: np.ndarray, width: float, pan: float) -> np.ndarray:
    """Stereo width (0 mono, 1 as is, >1 wider) then constant-power pan in [-1, 1].

    Linear, so it applies to (2, time) signals and to their (2, bins) spectra alike.
    """
    mid = (audio[0] + audio[1]) / 2
    side = (audio[0] - audio[1]) / 2 * width
    angle = (pan + 1) * np.pi / 4
    return np.stack([(mid + side) * np.cos(angle), (mid - side) * np.sin(angle)]) * np.sqrt(2)


def room(size: int, samplerate: int, seconds: float, seed: int) -> np.ndarray:
    """Spectrum (2, size // 2 + 1) of a synthetic room: seeded noise decaying by 60 dB over
    ``seconds``, different left and right, unit energy per side."""
    rng = np.random.default_rng(seed)
    length = min(int(seconds * samplerate), size)
    t = np.arange(length) / samplerate
    envelope = np.exp(-6.9 * t / seconds) * np.minimum(1.0, t / 0.005)
    impulse = rng.standard_normal((2, length)) * envelope
    impulse /= np.sqrt((impulse**2).sum(-1, keepdims=True))
    return np.fft.rfft(impulse, size)


def mix_stem(audio: np.ndarray, samplerate: int, settings: StemMix, seed: int) -> np.ndarray:
    """One stem through the chain: float (2, time) in, float64 (2, time) out.

    Compression, then — all linear, so applied together on one spectrum — EQ, width and pan,
    and the reverb's wet signal added to the dry one; last, the level.
    """
    if not np.any(audio):
        return audio.astype(np.float64)
    frames = audio.shape[-1]
    out = compress(
        audio.astype(np.float64), samplerate, settings.comp_threshold_db, settings.comp_ratio
    )
    tail = settings.reverb_seconds if settings.reverb > 0 else 0.25
    size = _fft_size(frames + int(tail * samplerate))  # no wrap-around of filters or reverb
    spectrum = np.fft.rfft(out, size)
    spectrum *= eq_gain(
        np.fft.rfftfreq(size, 1.0 / samplerate), settings.tilt_db, settings.highpass_hz
    )
    spectrum = place(spectrum, settings.width, settings.pan)
    if settings.reverb > 0:
        spectrum *= 1.0 + settings.reverb * room(size, samplerate, settings.reverb_seconds, seed)
    out = np.fft.irfft(spectrum, size)[:, :frames]
    rms = np.sqrt(np.mean(out**2))
    if rms > 0:
        out *= REFERENCE_RMS * 10 ** (settings.level_db / 20) / rms
    return out


def limiter_gain(
    mixture: np.ndarray, samplerate: int, ceiling: float = 0.95, release: float = 0.05
) -> np.ndarray:
    """Gain (time,) that keeps ``abs(mixture * gain) <= ceiling`` everywhere, smoothly.

    Per block of 64 frames, the gain each block needs is taken as the minimum over its
    neighbours within ``release`` seconds, averaged over a shorter span, and interpolated
    between blocks: every value used around a frame is at most what that frame needs, so the
    ceiling holds exactly while the gain moves smoothly.
    """
    block = 64
    frames = mixture.shape[-1]
    blocks = -(-frames // block)
    peak = np.abs(np.pad(mixture, [(0, 0), (0, blocks * block - frames)])).max(0)
    peak = peak.reshape(blocks, block).max(-1)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    radius = max(2, int(release * samplerate / block))
    padded = np.pad(need, radius, constant_values=1.0)
    window = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    floor = window.min(-1)
    smooth = _moving_average(floor, radius)  # spans < radius blocks: stays <= every need
    centres = (np.arange(blocks) + 0.5) * block
    gain = np.interp(np.arange(frames), centres, smooth)
    return np.minimum(gain, np.repeat(need, block)[:frames])
