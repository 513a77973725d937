"""Synthetic drum tracks of a known tempo, for the tempo estimate's tests and bench."""

from __future__ import annotations

import numpy as np

from tests.stems.harmony import key_song

RATE = 44100

# 16 steps (sixteenth notes) per bar: the steps of each instrument
PATTERNS = {
    # four on the floor (house, techno): kick every beat, clap on 2 and 4, open hat off-beat
    "four": {"kick": (0, 4, 8, 12), "snare": (4, 12), "hat": (2, 6, 10, 14)},
    # hip-hop: syncopated kick, backbeat snare, sixteenth hi-hats
    "hiphop": {"kick": (0, 7, 10), "snare": (4, 12), "hat": tuple(range(16))},
    # breakbeat: kick 1 and the "and" of 2, snare 2 and 4, eighth hats
    "break": {"kick": (0, 6, 10), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
    # rock: kick on 1 and 3, snare on 2 and 4, eighth hats
    "rock": {"kick": (0, 8), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
    # drum & bass two-step: kick on 1 and the "and" of 3, snare 2 and 4, eighth hats
    "dnb": {"kick": (0, 10), "snare": (4, 12), "hat": (0, 2, 4, 6, 8, 10, 12, 14)},
}


def _hit(kind: str, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.25 * RATE)) / RATE
    if kind == "kick":  # a sine falling from 120 to 50 Hz
        phase = 2 * np.pi * (50 * t + 70 * 0.03 * (1 - np.exp(-t / 0.03)))
        return np.sin(phase) * np.exp(-t / 0.12)
    if kind == "snare":  # a tone and a noise burst
        return 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05) + 0.6 * rng.standard_normal(
            t.size
        ) * np.exp(-t / 0.08)
    noise = np.diff(rng.standard_normal(t.size + 1))  # a hi-hat: bright noise, short
    return 0.25 * noise * np.exp(-t / 0.025)


def drum_track(
    bpm: float,
    seconds: float = 30.0,
    style: str = "four",
    *,
    swing: float = 0.0,
    jitter_ms: float = 3.0,
    noise: float = 0.02,
    seed: int = 0,
) -> np.ndarray:
    """(2, frames) float32 drums at ``bpm``: ``PATTERNS[style]`` bar after bar, the off
    sixteenths late by ``swing`` of a sixteenth, every hit off by up to ``jitter_ms`` at random
    with a random level (80-100 %), over white noise of ``noise`` RMS."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    out = np.zeros(frames + RATE, dtype=np.float64)
    step = 60.0 / bpm / 4  # seconds per sixteenth
    steps = int(seconds / step)
    for kind, where in PATTERNS[style].items():
        for n in range(steps):
            if n % 16 not in where:
                continue
            when = n * step + (swing * step if n % 2 else 0.0)
            when += rng.uniform(-jitter_ms, jitter_ms) / 1000
            start = max(0, round(when * RATE))
            hit = _hit(kind, rng) * rng.uniform(0.8, 1.0)
            out[start : start + hit.size] += hit[: out.size - start]
    out = out[:frames] + noise * rng.standard_normal(frames)
    stereo = np.stack([out, out]) * 0.5
    return stereo.astype(np.float32)


def sped_up(track: np.ndarray, by: float) -> np.ndarray:
    """``track`` played faster and faster: ``by`` faster at its end than at its start (what
    was at ``s`` seconds of a ``t``-second track is heard at ``t * sped_up_at(s / t, by)``)."""
    frames = track.shape[-1]
    u = np.arange(frames) / frames
    source = (u + by / 2 * u**2) * frames
    source = source[source < frames - 1]
    return np.stack([np.interp(source, np.arange(frames), c) for c in track]).astype(np.float32)


def sped_up_at(u: float | np.ndarray, by: float) -> float | np.ndarray:
    """Where (a fraction of the track) ``sped_up`` plays what was at ``u`` of it."""
    return (np.sqrt(1 + 2 * by * u) - 1) / by


def slowing_down(track: np.ndarray, bpm: float, steady: int, beats: int, to: float) -> np.ndarray:
    """``track`` (at ``bpm``) as it was for ``steady`` beats, then slowing down over ``beats``
    more (a ritardando): its tempo falls evenly, beat after beat, to ``to`` of ``bpm``; cut
    there. Its beats, in seconds: ``slowed_beats``."""
    frames = track.shape[-1]
    played = slowed_beats(bpm, steady, beats, to, 50 * (steady + beats))
    source = np.linspace(0.0, (steady + beats) * 60 / bpm, played.size)
    at = np.interp(np.arange(int(played[-1] * RATE)) / RATE, played, source) * RATE
    at = at[at < frames - 1]
    return np.stack([np.interp(at, np.arange(frames), c) for c in track]).astype(np.float32)


def slowed_beats(bpm: float, steady: int, beats: int, to: float, points: int = 0) -> np.ndarray:
    """The times of the beats (or of ``points`` evenly spaced beat numbers) of
    ``slowing_down``."""
    n = np.linspace(0, steady + beats, points) if points else np.arange(steady + beats + 1.0)
    late = np.maximum(n - steady, 0.0)
    k = (1 - to) / beats  # the tempo at beat steady + x is bpm * (1 - k x)
    return (np.minimum(n, steady) - np.log(1 - k * late) / k) * 60 / bpm


def stepped_at_ends(bpm: float, early: bool, late: bool, style: str = "four") -> np.ndarray:
    """Drums at 120 BPM for 80 s, with 8 bars at ``bpm`` before them when ``early`` and after
    them when ``late``: a tempo step near an end."""
    parts = [drum_track(bpm, 32 * 60 / bpm, style, seed=2)] if early else []
    parts.append(drum_track(120, 80.0, style, seed=1))
    if late:
        parts.append(drum_track(bpm, 32 * 60 / bpm, style, seed=3))
    return np.concatenate(parts, axis=1)


def intro_at(bpm: float, seconds: float = 44.0, style: str = "four") -> np.ndarray:
    """16 s of drums at ``bpm``, then ``seconds`` at 120 BPM: a tempo step near the start whose
    first beat falls on the grid of the 120 BPM part (16 s are 32 of its beats)."""
    intro = drum_track(bpm, 16.0, style, seed=2)
    return np.concatenate([intro, drum_track(120, seconds, style, seed=1)], axis=1)


def under_bleed(drums: np.ndarray, start: float, seconds: float) -> np.ndarray:
    """``drums`` 20 dB quieter for ``seconds`` from ``start`` s, under the bleed of a melody at
    -20 dBFS (as loud as the drums elsewhere), as a separated drums stem holds it."""
    out = drums.copy()
    part = slice(round(start * RATE), round((start + seconds) * RATE))
    out[:, part] = 0.1 * out[:, part] + bleed(out[:, part].shape[1], 1.9, -20.0)
    return out


def bleed(frames: int, pace: float, dbfs: float) -> np.ndarray:
    """(2, frames) of a song in A major played ``pace`` times as fast (its quarter notes
    every 0.5 s / ``pace``: at no tempo of the drums), at ``dbfs`` RMS."""
    song = key_song(9, "major", frames / RATE * pace + 2.0)[0]
    played = np.interp(np.arange(frames) * pace, np.arange(song.size), song)
    played *= 10 ** (dbfs / 20) / np.sqrt(np.mean(played**2))
    return np.stack([played, played]).astype(np.float32)


def grid_error(tempo, start: float, bpm: float, at: float) -> float:
    """Seconds between the beat of ``tempo``'s grid nearest the beat of drums at ``bpm`` from
    ``start`` s that is nearest ``at`` s, and that beat."""
    true = start + round((at - start) * bpm / 60) * 60 / bpm
    nearest = tempo.first_beat + round((true - tempo.first_beat) / tempo.beat) * tempo.beat
    return nearest - true
