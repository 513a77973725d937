"""Tap tempo: the beats a user taps along to a song, read as a tempo and a beat grid.

Each tap is the time of the song heard when the key went down (the player's position, not the
wall clock: taps along to a song played at 75 % read its own tempo). The taps of one run are
numbered one beat apart; the grid is the straight line through them by least squares (beat
length its slope, a beat where it crosses the first tap's number), as Rekordbox and Traktor
read taps. A run starts over where the taps stop (``GAP`` heard: the wall clock between two
presses, the slowest tempo of ``tempo_fix.LIMITS`` at any speed), go back (a seek) or break
step (``SPREAD``); a run of ``STEADY_TAPS`` or more is the song's tempo.

A few seconds of taps give the beat's length to about 0.1 BPM: over a 5-minute song that grid
drifts 0.25 s from the beats. So a steady run's grid is fitted to the whole song's onsets
(``refined``: ``song_onsets``, read once a song, then ``tempo.fitted_tempo`` from the taps'
beat), where the song keeps a steady grid near the taps' and that grid lies on them.
"""

from __future__ import annotations

import numpy as np

from stemgui.stems.tempo import Tempo, beat_reader, fitted_tempo, onset_envelope, round_bpm

GAP = 2.0
"""Seconds heard (the wall clock's): a press this long after the last starts a new run (30 BPM;
at 50 % speed 2 s of the song are 4 s heard)."""
SPREAD = 0.25
"""A tap this share of the run's beat early or late on the beat after the last starts a new
run from the last (a tapper's hits spread 10-40 ms: 2-8 % of a beat at 120 BPM)."""
STEADY_TAPS = 4
"""Taps in a run before it sets the song's tempo (3 give two beats' lengths only)."""
AGREE = 0.01
"""Seconds: a grid fitted to the song is taken where its beats lie this close to the taps'
line at every tap, or as close as the taps lie to it (their spread: a tapper's hits spread
10-40 ms), and the taps' reading kept where it lies farther."""


class Taps:
    """The taps of the run going on; ``tap`` adds one, ``reading`` reads them."""

    def __init__(self) -> None:
        self.times: list[float] = []  # seconds of the song, one beat apart
        self._pressed = 0.0  # the wall clock's seconds at the last tap

    def tap(self, seconds: float, pressed: float | None = None) -> None:
        """A tap at ``seconds`` of the song, pressed at ``pressed`` seconds of the wall clock
        (``time.monotonic``; None: at 100 % speed, where the song's time is the clock's): the
        next of the run, or the first of a new one (``GAP``, back, ``SPREAD``: the tap before
        it is the new run's first)."""
        times = self.times
        pressed = seconds if pressed is None else pressed
        gap, self._pressed = pressed - self._pressed, pressed
        if times and not (seconds > times[-1] and 0 <= gap <= GAP):
            times.clear()
        elif len(times) >= 2:
            beat = (times[-1] - times[0]) / (len(times) - 1)
            if abs(seconds - times[-1] - beat) > SPREAD * beat:
                del times[:-1]
        times.append(float(seconds))

    @property
    def steady(self) -> bool:
        """Whether the run has ``STEADY_TAPS`` taps or more."""
        return len(self.times) >= STEADY_TAPS

    def reading(self) -> Tempo | None:
        """The tempo and grid of the run's taps (``tapped_tempo``); None before two."""
        return tapped_tempo(self.times) if len(self.times) >= 2 else None

    def clear(self) -> None:
        self.times.clear()


def tapped_tempo(times: list[float]) -> Tempo:
    """The tempo whose grid is the line through ``times`` (seconds, two or more, one beat
    apart) by least squares: its beat the line's slope, its first beat where the line falls
    within the song's first beat, its BPM rounded to 0.1 (as the estimate's)."""
    beat, first = _line(times)
    return Tempo(round_bpm(60.0 / beat), float(first % beat), float(beat))


def song_onsets(stemset: object) -> tuple[np.ndarray, float]:
    """(the flux of every frequency per envelope frame, frames per second) of a ``StemSet``'s
    drums, or of its mix when it has none (``tempo.beat_reader``), for ``refined``."""
    read = beat_reader(stemset)
    envelope, rate, _peak = onset_envelope(read, stemset.frames, stemset.samplerate)
    return envelope[0], rate


def refined(times: list[float], onsets: tuple[np.ndarray, float]) -> Tempo:
    """The tempo of the taps at ``times`` (seconds, two or more, one beat apart) with its grid
    fitted to the whole song's ``onsets`` (``song_onsets``) from the taps' beat, where the
    song's beats keep a steady grid near it that lies within ``AGREE`` (or the taps' spread)
    of the taps' line at every tap; else the taps' reading (``tapped_tempo``): a song without
    a pulse, or taps on its off-beats."""
    tapped = tapped_tempo(times)
    envelope, rate = onsets
    fitted = fitted_tempo(envelope, rate, tapped.beat * rate)
    if fitted is None:
        return tapped
    beat, first = _line(times)
    line = first + beat * np.arange(len(times))
    spread = max(AGREE, float(np.max(np.abs(np.asarray(times) - line))))
    beats = np.round((line - fitted.first_beat) / fitted.beat)
    if np.max(np.abs(fitted.first_beat + beats * fitted.beat - line)) > spread:
        return tapped
    return fitted


def _line(times: list[float]) -> tuple[float, float]:
    """(slope, intercept) of the line through ``times`` numbered 0, 1, 2... by least squares:
    the beat's length and the time of beat 0."""
    numbers = np.arange(len(times), dtype=np.float64)
    beat, first = np.polyfit(numbers, np.asarray(times, dtype=np.float64), 1)
    return float(beat), float(first)
