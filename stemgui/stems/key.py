"""The key of a song (A major, F♯ minor; Camelot 11B, 11A), estimated from its pitched stems.

Drums have no key and blur it, so a separated song is heard without them: its other stems
summed (its mix when it has no drums stem). numpy only, a block of samples at a time:

1. **Average spectrum**: the signal, summed to mono and brought down to about 11 kHz, is cut
   into 0.74 s Hann frames every 0.37 s whose magnitudes are added up, so a song of any length
   ends as one spectrum (a 60-minute one costs a block and it).
2. **Tonal peaks**: the spectrum less its running mean over a third of an octave (what is left
   stands above the broadband: notes, not noise). Its peaks between 80 Hz and 1 kHz, placed by
   parabolas, give the tuning: their mean distance from equal temperament at A = 440 Hz, in
   cents, circular (a song tuned to 432 Hz, or a tape a little fast, keeps its key).
3. **Chroma**: each bin from 65 Hz (C2) to 2.1 kHz (C7) adds to the pitch class nearest it,
   weighted by how close it lies to that semitone (cos² of the distance in semitones), and
   twice below ``BASS_HZ`` (the bass plays the roots).
4. **Key**: the 12 pitch classes correlated with the Krumhansl-Kessler profiles of the 24
   keys (``PROFILE``; ``PROFILES`` holds others, which bench/key_accuracy.py compares); the
   best wins. None for a song without a key: silence, drums alone, noise (less than
   ``MIN_TONAL`` of the spectrum in that band stands above its running mean: drums 0.04-0.05,
   noise 0.03, songs 0.30 or more), or a best correlation below ``MIN_CORRELATION``.

Relative keys (C major, A minor) share their notes; only the weight of the tonic tells them
apart, and a song that leans on the other chord can read as its relative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stemgui.audio.stream import BlockReader, array_reader, stem_reader
from stemgui.stems.spectra import Spectra

ANALYSIS_RATE = 11025
N_FFT = 8192
HOP = 4096
LOWEST, HIGHEST = 65.4, 2093.0  # Hz: C2 to C7
TUNING_BAND = (80.0, 1000.0)
MIN_CORRELATION = 0.5
MIN_TONAL = 0.15
BASS_HZ = 250.0
MIN_SECONDS = 3.0
SILENCE = 1e-4

# Profiles of the 24 keys by name: (major, minor), the weight of each pitch class from C (the
# tonic) up. Krumhansl & Kessler (1982): how well listeners heard each one fit a key. Temperley &
# de Clercq (2013): how often each one sounds in the melodies, or the chords, of a rock corpus.
PROFILES = {
    "Krumhansl-Kessler": (
        np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
        np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]),
    ),
    "Temperley-de Clercq melody": (
        np.array([223, 1, 158, 15, 194, 71, 2, 169, 3, 119, 8, 35]) / 1000,
        np.array([317, 1, 90, 159, 46, 97, 7, 131, 9, 47, 87, 9]) / 1000,
    ),
    "Temperley-de Clercq chords": (
        np.array([231, 2, 91, 4, 149, 111, 4, 193, 4, 126, 11, 76]) / 1000,
        np.array([202, 6, 102, 127, 47, 113, 5, 177, 46, 51, 90, 34]) / 1000,
    ),
}
PROFILE = "Krumhansl-Kessler"  # the app's; bench/key_accuracy.py says how each set reads

MAJOR_NAMES = ("C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
MINOR_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "G♯", "A", "B♭", "B")


@dataclass(frozen=True)
class Key:
    """A key: its ``tonic`` (pitch class, 0 = C) and ``mode`` ("major" or "minor")."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        """As musicians write it: "A major", "F♯ minor"."""
        names = MAJOR_NAMES if self.mode == "major" else MINOR_NAMES
        return f"{names[self.tonic]} {self.mode}"

    def transposed(self, semitones: int) -> Key:
        """The key ``semitones`` higher (negative: lower): D major +2 is E major."""
        return Key((self.tonic + int(semitones)) % 12, self.mode)

    @property
    def relative(self) -> Key:
        """The key of the same notes in the other mode: C major's is A minor, A minor's C major
        (the estimate's commonest miss: only the weight of the tonic tells them apart)."""
        if self.mode == "major":
            return Key((self.tonic + 9) % 12, "minor")
        return Key((self.tonic + 3) % 12, "major")

    @property
    def tag(self) -> str:
        """As a file's key tag has it (ID3's TKEY, DJ software's INITIALKEY): "F#m", "Db"."""
        names = MAJOR_NAMES if self.mode == "major" else MINOR_NAMES
        tonic = names[self.tonic].replace("♭", "b").replace("♯", "#")
        return tonic + ("m" if self.mode == "minor" else "")

    @property
    def camelot(self) -> str:
        """The Camelot wheel's code, as DJs mix by it: C major 8B, A minor 8A; a step round
        the wheel is a fifth up (G major 9B), the same number the relative key."""
        major = self if self.mode == "major" else self.relative
        number = (8 + 7 * major.tonic) % 12 or 12
        return f"{number}{'B' if self.mode == 'major' else 'A'}"


def estimate_key(samples: np.ndarray, samplerate: int, profile: str = PROFILE) -> Key | None:
    """The key of ``samples`` (channels, frames) float32 (or (frames,)), or None (no clear
    key), by the ``PROFILES`` named ``profile``. An ``np.memmap`` is read a block at a time."""
    samples = np.asarray(samples) if not isinstance(samples, np.memmap) else samples
    if samples.ndim == 1:
        samples = samples[None, :]
    return key_from_reader(array_reader(samples), samples.shape[-1], samplerate, profile)


def stemset_key(stemset: object, profile: str = PROFILE) -> Key | None:
    """The key of a ``StemSet``'s stems but its drums when it has a "drums" stem, else of its
    mix (else of all its stems); None as ``estimate_key``."""
    data, frames, rate = stemset.data, stemset.frames, stemset.samplerate
    names = list(stemset.names)
    if "drums" in names or stemset.mix is None:
        readers = [stem_reader(data, i) for i, name in enumerate(names) if name != "drums"]
        if not readers:
            return None

        def read(start: int, stop: int) -> np.ndarray:
            return sum(r(start, stop) for r in readers)

    else:
        read = array_reader(stemset.mix)
    return key_from_reader(read, frames, rate, profile)


def key_from_reader(
    read: BlockReader, frames: int, samplerate: int, profile: str = PROFILE
) -> Key | None:
    """``estimate_key`` of the ``frames`` frames that ``read`` gives."""
    if frames < MIN_SECONDS * samplerate:
        return None
    spectrum, rate, peak = average_spectrum(read, frames, samplerate)
    if peak < SILENCE or spectrum is None:
        return None
    weights = chroma(spectrum, rate)
    return None if weights is None else key_of_chroma(weights, profile)


def average_spectrum(
    read: BlockReader, frames: int, samplerate: int
) -> tuple[np.ndarray | None, float, float]:
    """(the mean magnitude spectrum of N_FFT-point frames, or None when no whole frame; the
    analysis rate in Hz; the loudest |sample|)."""
    spectra = Spectra(read, frames, samplerate, analysis_rate=ANALYSIS_RATE, n_fft=N_FFT, hop=HOP)
    total = np.zeros(N_FFT // 2 + 1)
    count = 0
    for magnitude in spectra:
        total += magnitude.sum(axis=0)
        count += magnitude.shape[0]
    return (total / count if count else None), spectra.rate, spectra.peak


def chroma(spectrum: np.ndarray, rate: float) -> np.ndarray | None:
    """(12,) weight of each pitch class (C first) in an ``average_spectrum``, tuned; None when
    too little of it is tonal (``MIN_TONAL``)."""
    hz = np.arange(spectrum.shape[0]) * rate / N_FFT
    tonal = np.maximum(spectrum - _running_mean(spectrum, hz), 0.0)
    band = (hz >= LOWEST) & (hz <= HIGHEST)
    if tonal[band].sum() < MIN_TONAL * spectrum[band].sum():
        return None
    cents = tuning(tonal, hz)
    semitones = 12 * np.log2(hz[band] / 440.0) + 69 - cents / 100  # MIDI numbers, A4 = 69
    nearest = np.round(semitones)
    weight = np.cos(np.pi * (semitones - nearest)) ** 2 * np.where(hz[band] < BASS_HZ, 2.0, 1.0)
    return np.bincount(nearest.astype(int) % 12, weights=tonal[band] * weight, minlength=12)


def tuning(tonal: np.ndarray, hz: np.ndarray) -> float:
    """The tuning of ``tonal`` (the spectrum above its running mean) in cents from A = 440 Hz:
    the circular mean distance of its peaks from equal temperament, weighted by their height."""
    inner = np.arange(1, tonal.shape[0] - 1)
    a, b, c = tonal[inner - 1], tonal[inner], tonal[inner + 1]
    band = (hz[inner] >= TUNING_BAND[0]) & (hz[inner] <= TUNING_BAND[1])
    peaks = inner[band & (b > a) & (b >= c) & (b > 0)]
    if peaks.size == 0:
        return 0.0
    a, b, c = tonal[peaks - 1], tonal[peaks], tonal[peaks + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    where = (peaks + shift) * (hz[1] - hz[0])
    deviation = 12 * np.log2(where / 440.0)
    angle = 2 * np.pi * (deviation - np.round(deviation))
    mean = np.angle(np.sum(b * np.exp(1j * angle)))
    return float(100 * mean / (2 * np.pi))


def key_of_chroma(weights: np.ndarray, profile: str = PROFILE) -> Key | None:
    """The key whose profile (of the ``PROFILES`` named ``profile``) correlates best with
    ``weights`` (12,), or None below ``MIN_CORRELATION`` (or for flat weights)."""
    weights = np.asarray(weights, dtype=np.float64)
    if np.ptp(weights) <= 1e-9 * max(float(np.max(np.abs(weights))), 1e-30):
        return None
    best, found = -1.0, None
    for mode, weighed in zip(("major", "minor"), PROFILES[profile]):
        for tonic in range(12):
            r = float(np.corrcoef(weights, np.roll(weighed, tonic))[0, 1])
            if r > best:
                best, found = r, Key(tonic, mode)
    return found if best >= MIN_CORRELATION else None


def _running_mean(spectrum: np.ndarray, hz: np.ndarray) -> np.ndarray:
    """The mean of ``spectrum`` over a third of an octave around each bin (wider up high)."""
    summed = np.concatenate([[0.0], np.cumsum(spectrum)])
    low = np.searchsorted(hz, hz * 2 ** (-1 / 6))
    high = np.searchsorted(hz, hz * 2 ** (1 / 6), side="right")
    high = np.maximum(high, low + 1)
    return (summed[high] - summed[low]) / (high - low)
