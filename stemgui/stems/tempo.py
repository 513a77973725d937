"""The tempo of a song in beats per minute, estimated from its drums (or its mix).

Three steps, numpy only:

1. **Onset strength** (``onset_envelope``): the signal, a block at a time, is summed to mono,
   brought down to about 11 kHz (mean of ``decimation`` frames), and cut into 46 ms Hann frames
   every 64 samples (about 172 frames per second at 44.1 kHz). Its spectral flux (the sum over
   frequency of the rise of the log magnitude from one frame to the next) peaks where a note or
   a drum hit starts. Only one block of samples is in memory at a time, and a memory-mapped
   array lets go of the pages it read: a 60-minute song costs its envelope (2.5 MB) and a block.
2. **Periodicity**: the envelope, less its local mean, is autocorrelated (through the FFT; each
   lag divided by the frames it overlaps). A tempo of ``bpm`` beats has a period of
   ``L = 60 * rate / bpm`` envelope frames; its comb score is the mean autocorrelation at
   L, 2L, 3L and 4L, which is high only where beats line up at every multiple.
3. **Choice and refinement**: the best comb score on a 0.25 BPM grid from 60 to 200 BPM,
   weighted by a prior that prefers 80-160 BPM (as DJ software does; 1 inside, falling off
   as a Gaussian of 0.25 octave outside), wins. Onsets alone cannot tell drum & bass at 174
   BPM from hip-hop at 87 (in both a hit every 0.69 s, hi-hats between); the
   snare can: it marks beats 2 and 4, every second beat. So a winner below 100 BPM is doubled
   when the flux of the snare's band (``SNARE_BAND``) repeats every one of its beats nearly as
   much (``BACKBEAT_RATIO``) as every two: a snare every beat is the backbeat of twice the
   tempo (measured on synthetic drums: 0.94-0.98 for drum & bass, 0.48-0.51 for hip-hop).
   The period is then refined from the
   autocorrelation's peaks at every multiple of it up to 16 beats (each placed by parabolic
   interpolation, the period fitted through them by least squares). Where the beats keep a
   steady grid, the grid fitted to the whole song (``stemgui.stems.beats``) gives the length
   of the beat instead, and where they fall (a beat up to ``START_TOLERANCE`` before the
   song's start falls on its first frame); the tempo is rounded to 0.1 BPM.

No tempo (None) for a signal whose loudest sample is below -80 dBFS (silence), shorter than
``MIN_SECONDS``, without onsets (the top 1 % of the envelope less than ``MIN_ONSET`` above its
median: a held chord reaches 2-3.5, drums at -45 dBFS 9, a mix 12 or more), or whose best comb
score is below ``MIN_PULSE`` (white noise, whose envelope is all onsets of no period, scores
0.03; drums 0.3-0.9).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from stemgui.audio.stream import BlockReader, array_reader, stem_reader
from stemgui.stems.beats import ONSET_DELAY, fit_grid
from stemgui.stems.spectra import Spectra

logger = logging.getLogger(__name__)

MIN_BPM, MAX_BPM = 60.0, 200.0
PREFERRED = (80.0, 160.0)
"""The range the prior prefers; outside it the weight falls off by ``PRIOR_OCTAVES``."""
PRIOR_OCTAVES = 0.25
BACKBEAT_RATIO = 0.75
MIN_PULSE = 0.1
MIN_ONSET = 5.0
MIN_SECONDS = 6.0
SILENCE = 1e-4  # -80 dBFS
START_TOLERANCE = 0.005
"""Seconds: a beat of the grid this little before the song's start is its first hit, on its
first frame (the grid's beats lie within 5 ms of the hits: a song that starts on one had its
beat 1-3 ms before it, the first beat was the second, and the metronome never clicked it)."""

ANALYSIS_RATE = 11025  # about: the signal is decimated by a whole factor towards it
N_FFT = 512
HOP = 64
_GAMMA = 1000.0  # log compression: log(1 + gamma * magnitude)
SNARE_BAND = (250.0, 2000.0)  # Hz: a snare's body, above the kick, below the hi-hats


@dataclass(frozen=True)
class Tempo:
    """A song's tempo: ``bpm`` to 0.1 and, when its beats keep a steady grid
    (``stemgui.stems.beats``), where they fall: the ``first_beat`` and the ``beat``'s length,
    in seconds (None: no steady grid; the tempo alone is still told)."""

    bpm: float
    first_beat: float | None = None
    beat: float | None = None


def estimate_tempo(samples: np.ndarray, samplerate: int) -> Tempo | None:
    """The tempo of ``samples`` (channels, frames) float32 (or (frames,)), or None for silence
    or no clear pulse. An ``np.memmap`` is read a block at a time."""
    samples = np.asarray(samples) if not isinstance(samples, np.memmap) else samples
    if samples.ndim == 1:
        samples = samples[None, :]
    return tempo_from_reader(array_reader(samples), samples.shape[-1], samplerate)


def tempo_from_reader(read: BlockReader, frames: int, samplerate: int) -> Tempo | None:
    """``estimate_tempo`` of the ``frames`` frames that ``read`` gives."""
    if frames < MIN_SECONDS * samplerate:
        return None
    envelope, rate, peak = onset_envelope(read, frames, samplerate)
    if peak < SILENCE:
        return None
    period = beat_period(envelope, rate)
    if period is None:
        return None
    return fitted_tempo(envelope[0], rate, period) or Tempo(round_bpm(60.0 * rate / period))


def fitted_tempo(onsets: np.ndarray, rate: float, period: float) -> Tempo | None:
    """The tempo and grid fitted to the whole song (``beats.fit_grid``) from a beat of
    ``period`` frames of ``onsets`` (the flux of every frequency, as ``onset_envelope`` makes
    it, ``rate`` frames per second); None where its beats keep no steady grid near it."""
    grid = fit_grid(_less_local_mean(onsets, round(period)), period)
    if grid is None:
        return None
    first, length = grid
    beat = length / rate
    delay = ONSET_DELAY / (rate * HOP)  # analysis samples -> seconds
    first_beat = (first / rate + delay) % beat
    if beat - first_beat < START_TOLERANCE:  # the first hit, on the song's first frame
        first_beat = 0.0
    return Tempo(round_bpm(60.0 / beat), first_beat, beat)


def round_bpm(bpm: float, digits: int = 1) -> float:
    """``bpm`` to ``digits`` decimals, a half rounded up as people count (120.25 to 120.3, and
    120.5 to 121 with none), not to the even neighbour as ``round`` does (120.2, 120)."""
    scale = 10.0**digits
    return math.floor(bpm * scale + 0.5) / scale


def stemset_tempo(stemset: object) -> Tempo | None:
    """The tempo of a ``StemSet``'s drums when it has a "drums" stem with a pulse (theirs is
    the clearest), else of its mix (a song without drums), else of the sum of its stems; None
    as ``estimate_tempo``."""
    frames, rate = stemset.frames, stemset.samplerate
    if "drums" in stemset.names:
        tempo = tempo_from_reader(stem_reader(stemset.data, stemset.index("drums")), frames, rate)
        if tempo is not None:
            return tempo
    return tempo_from_reader(mix_reader(stemset), frames, rate)


def beat_reader(stemset: object) -> BlockReader:
    """A reader of a ``StemSet``'s drums stem, or of its mix when it has none (two stems of
    the vocals): where its beats are heard."""
    if "drums" in stemset.names:
        return stem_reader(stemset.data, stemset.index("drums"))
    return mix_reader(stemset)


def mix_reader(stemset: object) -> BlockReader:
    """A reader of a ``StemSet``'s mix, or of the sum of its stems when it has none."""
    if stemset.mix is not None:
        return array_reader(stemset.mix)
    readers = [stem_reader(stemset.data, i) for i in range(stemset.sources)]

    def read(start: int, stop: int) -> np.ndarray:
        return sum(r(start, stop) for r in readers)

    return read


def onset_envelope(
    read: BlockReader, frames: int, samplerate: int, band_hz: tuple[float, float] = SNARE_BAND
) -> tuple[np.ndarray, float, float]:
    """(spectral flux per analysis frame (2, frames): of every frequency, then of ``band_hz``
    alone; analysis frames per second; loudest |sample|)."""
    spectra = Spectra(read, frames, samplerate, analysis_rate=ANALYSIS_RATE, n_fft=N_FFT, hop=HOP)
    pieces: list[np.ndarray] = []
    middles: list[np.ndarray] = []  # the flux of the band alone
    bin_hz = spectra.rate / N_FFT
    band = slice(int(band_hz[0] / bin_hz), int(band_hz[1] / bin_hz) + 1)
    previous: np.ndarray | None = None  # the last frame's log magnitude
    for magnitude in spectra:
        logmag = np.log1p(np.float32(_GAMMA) * magnitude.astype(np.float32))
        if previous is None:
            previous = logmag[:1]
        rise = np.maximum(np.diff(np.concatenate([previous, logmag]), axis=0), 0.0)
        pieces.append(rise.sum(axis=1, dtype=np.float32))
        middles.append(rise[:, band].sum(axis=1, dtype=np.float32))
        previous = logmag[-1:]
    if not pieces:
        return np.zeros((2, 0), dtype=np.float32), spectra.rate / HOP, spectra.peak
    envelope = np.stack([np.concatenate(pieces), np.concatenate(middles)])
    return envelope, spectra.rate / HOP, spectra.peak


def beat_period(envelope: np.ndarray, rate: float) -> float | None:
    """The beat's length, in frames, of onset-strength envelopes (2, frames) of ``rate``
    frames per second (all frequencies, the snare's band), as ``onset_envelope`` makes them;
    or None."""
    envelope = np.asarray(envelope, dtype=np.float64)
    if envelope.shape[-1] < MIN_SECONDS * rate - N_FFT / HOP:  # the last starts a window early
        return None
    low, high = np.percentile(envelope[0], [50, 99])
    if high - low < MIN_ONSET:
        logger.debug("no onsets (the loudest rises %.1f above the median)", high - low)
        return None
    width = round(rate)
    acf = _autocorrelation(_less_local_mean(envelope[0], width))
    if acf is None:
        return None
    bpms = np.arange(MIN_BPM, MAX_BPM + 0.125, 0.25)
    periods = 60.0 * rate / bpms  # envelope frames per beat
    comb = np.mean([_at(acf, k * periods) for k in range(1, 5)], axis=0)
    best = int(np.argmax(comb * _prior(bpms)))
    pulse = float(comb[best])
    if pulse < MIN_PULSE:
        logger.debug("no clear pulse (comb score %.3f < %.2f)", pulse, MIN_PULSE)
        return None
    period = float(periods[best])
    if bpms[best] < 100.0 and 2 * bpms[best] <= MAX_BPM and _backbeat_every(envelope[1], period):
        period /= 2  # a snare every beat: a backbeat of twice the tempo
    refined = _refine(acf, period)
    if abs(refined / period - 1) < 0.03:  # else a peak of another pulse was followed
        period = refined
    return period


def _backbeat_every(snare: np.ndarray, period: float) -> bool:
    """Whether the snare's band repeats every ``period`` nearly as much as every two."""
    acf = _autocorrelation(_less_local_mean(snare, round(period)))
    if acf is None:
        return False
    beat, bar = _at(acf, np.array([period, 2 * period]))
    return bool(bar > 0 and beat >= BACKBEAT_RATIO * bar)


def _prior(bpms: np.ndarray) -> np.ndarray:
    low, high = PREFERRED
    outside = np.maximum(np.log2(low / bpms), 0.0) + np.maximum(np.log2(bpms / high), 0.0)
    return np.exp(-0.5 * (outside / PRIOR_OCTAVES) ** 2)


def _less_local_mean(envelope: np.ndarray, width: int) -> np.ndarray:
    """``envelope`` less its running mean over ``width`` frames (slow loudness changes out)."""
    width = max(1, min(width, envelope.shape[0]))
    summed = np.concatenate([[0.0], np.cumsum(envelope)])
    left = np.clip(np.arange(envelope.shape[0]) - width // 2, 0, envelope.shape[0] - width)
    mean = (summed[left + width] - summed[left]) / width
    return envelope - mean


def _autocorrelation(signal: np.ndarray) -> np.ndarray | None:
    """Autocorrelation of ``signal`` for lags up to half its length, each lag's sum divided by
    the frames it overlaps, normalised to 1 at lag 0; None for a constant signal."""
    n = signal.shape[0]
    size = 1 << int(2 * n - 1).bit_length()
    spectrum = np.fft.rfft(signal, size)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: n // 2]
    if acf[0] <= 1e-12 * n:
        return None
    acf /= n - np.arange(acf.shape[0])
    return acf / acf[0]


def _at(acf: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """``acf`` at fractional ``lags`` (linear interpolation; 0 past its end)."""
    return np.interp(lags, np.arange(acf.shape[0]), acf, right=0.0)


def _refine(acf: np.ndarray, period: float, beats: int = 16) -> float:
    """The period fitted through the autocorrelation peaks nearest each multiple of ``period``
    (up to ``beats`` of them, as far as ``acf`` reaches), each peak placed by a parabola
    through its sample and its two neighbours."""
    multiples, peaks = [], []
    for k in range(1, beats + 1):
        guess = k * (peaks[-1] / multiples[-1] if peaks else period)
        reach = max(1, round(0.1 * period))  # a tenth of a beat either side
        lo, hi = round(guess) - reach, round(guess) + reach + 1
        if lo < 1 or hi + 1 >= acf.shape[0]:
            break
        top = lo + int(np.argmax(acf[lo:hi]))
        a, b, c = acf[top - 1], acf[top], acf[top + 1]
        curve = a - 2 * b + c
        shift = 0.5 * (a - c) / curve if curve < 0 else 0.0
        multiples.append(k)
        peaks.append(top + float(np.clip(shift, -0.5, 0.5)))
    if not peaks:
        return period
    multiples_ = np.array(multiples, dtype=np.float64)
    return float(np.dot(multiples_, peaks) / np.dot(multiples_, multiples_))
