"""Where the beats fall: a steady grid (first beat, beat length) fitted to an onset envelope.

The tempo (``stemgui.stems.tempo``) gives the beat's length to about 0.1 %: over a 5-minute
song of 600 beats, a grid drawn from it would drift by more than half a beat. So the grid is
fitted to the whole song:

1. **Phase by sections**: the envelope (less its local mean, its rises only) is cut into
   sections of ``SECTION_BEATS`` beats, spread evenly from its start to its end (the last
   ends with it, so that the length is fitted to every beat; they overlap, or leave a gap of
   up to half a section). In each, the phase whose comb (every beat of the section) sums the
   most onset strength, placed to a fraction of a frame by a parabola, marks its middle beat
   (a length a little off tilts the comb around its middle: its first beat would be off); how
   far that sum stands above the section's mean is its weight.
2. **Numbering**: taken in time order, each section's beat gets the beat number nearest to
   where the grid fitted so far puts it; a wrong number would tilt every later one, so the fit
   is updated as it goes (from one section to the next a length 0.1 % off moves a beat by
   0.008 beats).
3. **Fit**: beat time against beat number by weighted least squares; beats more than
   ``OUTLIER_BEATS`` off the line (a fill) are dropped and it is fitted again. A song whose
   beats stray from any steady grid (a band speeding up, a tempo change, rubato) has no grid:
   fewer than ``STEADY_SHARE`` of its sections with a pulse lie on the line, its first two or
   its last two lie off it (a tempo change puts every one after it off; a break in free time
   between two parts on the grid puts some off in a row, and keeps the grid), two in a row
   off it have one steady tempo of their own (``SAME_TEMPO``: a tempo step, also where a
   section before it lies on the line by chance), or the line's beat lies more than
   ``MAX_CORRECTION`` off the tempo's. Off at one end alone, the song keeps the grid of its
   steady part when that is one run of ``END_SHARE`` of its sections: a ritardando at the
   end, an intro in free time, not a tempo change; the grid, a line, goes on over them. Two
   in a row there at one tempo of their own are a ritardando all the same when the tempo of
   that end's last ``DRIFT_BEATS`` keeps moving away from the grid's (``RIT_DRIFT``): one
   too gentle (to 96-99 % over 8 bars) for its sections' tempos to part. Where a song's
   first or last section lies off the line and the tempo of that end drifts so, the sections
   in its ``DRIFT_BEATS`` are left out of the line too: a ritardando lies on it where it
   starts, and tilted it (6 ms off at the steady part's other end). A section with as
   many onsets as those with a pulse (``ASTRAY_LEVEL``), no
   pulse at the tempo but a pulse of its own at a tempo up to ``DRIFT`` away
   (``ASTRAY_PULSE``) lies off the line: its beats are at another tempo, which smears them
   over the comb's phases. One without a pulse of its own is a break, whatever its onsets:
   few (silence), or those of another instrument's bleed in a drums stem, under which the
   drums were faint.

Envelope frame ``n`` compares the analysis frames that start at ``n - 1`` and ``n`` hops: a hit
shows most where it enters the window's right part, ``ONSET_DELAY`` analysis samples after
that frame's start (measured on synthetic drums: the grid then falls on the hits within 2 ms).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

SECTION_BEATS = 8
"""A song of two sections (16 beats) has a grid: on synthetic drums of 16-28 beats at 80-200
BPM its beats fall within 5 ms of theirs, as a long song's do."""
OUTLIER_BEATS = 0.05
"""Steady drums' sections lie within 0.023 beat of the line (in loud noise, hits up to 10 ms
off at random, swung); drums 1 BPM faster after 30 s of 120 put some 0.09-0.13 off, which
0.15 kept."""
STEADY_SHARE = 0.8
QUIET_SECTION = 0.25
FAINT_SECTION = 0.05
"""Of the strongest section's weight: a drums stem's bleed of noise (-60 to -20 dBFS) weighs
0.1-2 % of drums', drums at another tempo 10-12 % (which must count, to find no grid)."""
ASTRAY_LEVEL = 0.5
"""Of the median level of the sections with a pulse: a section with less onset strength holds
no beats (a drums stem's bleed of noise at -60 dBFS: 0.01; drums 3-5 % off the beat 0.97-1.1,
and a melody's bleed at -20 dBFS, as loud as the drums, over drums 20 dB down 0.5-0.7)."""
ASTRAY_PULSE = 0.6
"""Of the median weight of the sections with a pulse: a section whose pulse at a tempo up to
``DRIFT`` off weighs that much holds beats at another tempo (drums 1-5 % off the beat:
0.8-1.0; the melody's bleed over faint drums 0.2, drums in free time 0.4-0.5)."""
DRIFT = 0.08
"""How far (a ratio of the beat's length) a section's own tempo is searched for."""
END_SHARE = 0.75
SAME_TEMPO = 0.007
"""Sections at a tempo of their own after a step (117-130 BPM after 120, or before it) lie
within 0.45 % of each other, those of a ritardando over 8 bars to 95 % of the tempo 1.2-1.3 %
apart, to 60-90 % about 3 %. Read to the search's 0.5 % steps alone, a step's lay up to 0.5 %
apart and a ritardando to 95 %'s 1.0-1.5 %: 1 % took it for a step. Those of a ritardando
to 96-99 % lie 0.3-1 % apart, some within it: ``RIT_DRIFT`` tells them from a step."""
DRIFT_BEATS = 24
RIT_DRIFT = 0.00015
"""How fast (a ratio of the beat's length, per beat) the tempo of an end's last
``DRIFT_BEATS`` must move away from the grid's for a ritardando: one over 8 bars to 99.5 %
of the tempo. On synthetic drums, ritardandos over 8 bars to 96-99 % move 0.027-0.14 % a
beat, 8 bars at 117-130 BPM before or after 120 (a step) 0.008 % at most, either way."""
MIN_SECTIONS = 2
MAX_CORRECTION = 0.005
"""How far the grid's beat may lie from the tempo's: steady drums 0.03 % at most; a tempo that
changes can leave a few sections on a line of another beat (120 then 126 BPM: 129)."""
ONSET_DELAY = 348  # analysis samples (31.6 ms at 11025 Hz); see the module's docstring


def fit_grid(onsets: np.ndarray, period: float) -> tuple[float, float] | None:
    """(first beat, beat length) in envelope frames of the steady grid that fits ``onsets``
    (the onset strength, less its local mean) best, starting from a beat length of ``period``
    frames; None when too short (fewer than ``MIN_SECTIONS`` sections with a pulse) or not
    steady."""
    onsets = np.maximum(np.asarray(onsets, dtype=np.float64), 0.0)
    span = SECTION_BEATS * period
    if onsets.shape[0] < MIN_SECTIONS * span - period / 2:
        return None
    sections = max(MIN_SECTIONS, round(onsets.shape[0] / span))
    starts = np.linspace(0.0, onsets.shape[0] - span, sections)
    beats, weights, levels = np.empty(sections), np.empty(sections), np.empty(sections)
    for i, start in enumerate(starts):
        beats[i], weights[i], levels[i] = _section_beat(onsets, start, period)
    # a break: no pulse to place; so is a pulse far fainter than the strongest section's,
    # where the median is of a drums stem's bleed in a song mostly without drums
    quiet = max(QUIET_SECTION * np.median(weights), FAINT_SECTION * np.max(weights))
    weights[weights < quiet] = 0.0
    pulsing = weights > 0
    if np.count_nonzero(pulsing) < MIN_SECTIONS:
        return None
    numbers = _numbers(beats, weights, period)
    keep = pulsing.copy()
    for _ in range(3):  # fit, drop what lies off the line, fit again
        if np.count_nonzero(keep) < MIN_SECTIONS:
            return None
        first, length = _line(numbers[keep], beats[keep], weights[keep])
        on_line = np.abs(beats - (first + numbers * length)) <= OUTLIER_BEATS * length
        keep = pulsing & on_line
    # the own tempo (a ratio of the beat's length) of each section off the line, and of each
    # with as many onsets as where the pulse is but none on it; how strong its pulse there is
    loud = ~pulsing & (levels >= ASTRAY_LEVEL * np.median(levels[pulsing]))
    ratios, strong = np.ones(sections), np.zeros(sections, dtype=bool)
    for i in np.flatnonzero(loud | (pulsing & ~keep)):
        ratios[i], weight = _own_pulse(onsets, starts[i], period)
        strong[i] = weight >= ASTRAY_PULSE * np.median(weights[pulsing])
    counted = pulsing | (loud & strong)  # the latter: beats at another tempo, off the line

    @functools.cache
    def drifting(at_end: bool) -> bool:  # a ritardando, not a step
        return _drift(onsets, period, at_end) >= RIT_DRIFT

    if not _steady(~keep[counted], ratios[counted], strong[counted], drifting):
        return None
    # a ritardando lies on the line where it starts, and tilts it: the grid is the steady part's
    middles = starts + span / 2
    for at_end, edge in zip((False, True), np.flatnonzero(counted)[[0, -1]]):
        inside = (onsets.shape[0] - middles if at_end else middles) > DRIFT_BEATS * period
        if not keep[edge] and np.count_nonzero(keep & inside) >= MIN_SECTIONS and drifting(at_end):
            keep &= inside
            first, length = _line(numbers[keep], beats[keep], weights[keep])
    if abs(length / period - 1) > MAX_CORRECTION:
        return None
    return first % length, length


def _steady(
    off: np.ndarray, ratios: np.ndarray, strong: np.ndarray, drifting: Callable[[bool], bool]
) -> bool:
    """Whether sections with a pulse, in time order, ``off`` the line or on it, make a steady
    song: none of those off it two in a row at one tempo of their own (``ratios`` within
    ``SAME_TEMPO``, each ``strong``: a tempo step, wherever a section on the line by chance
    puts it), and ``STEADY_SHARE`` of them on it, neither the first two nor the last two off
    (a tempo change puts every one after it off); or ``END_SHARE`` of them in one run on it,
    the rest at one end: a ritardando, an intro in free time, where two in a row at one tempo
    of their own are a step unless the tempo there keeps moving away from the grid's
    (``drifting``, given whether that end is the song's last)."""
    steps = np.abs(ratios[1:] / ratios[:-1] - 1)
    stepped = np.any(off[1:] & off[:-1] & strong[1:] & strong[:-1] & (steps <= SAME_TEMPO))
    lead = off.size if off.all() else int(np.argmin(off))
    tail = off.size if off.all() else int(np.argmin(off[::-1]))
    share = 1 - np.count_nonzero(off) / off.size
    if lead < 2 and tail < 2:
        return share >= STEADY_SHARE and not stepped
    end = slice(0, lead) if lead >= 2 else slice(off.size - tail, off.size)
    if share < END_SHARE or np.count_nonzero(off) > np.count_nonzero(off[end]):
        return False
    return not stepped or drifting(lead < 2)


def _drift(onsets: np.ndarray, period: float, at_end: bool) -> float:
    """How fast (a ratio of the beat's length, per beat) the tempo of the last (``at_end``) or
    first ``DRIFT_BEATS`` beats of ``onsets`` moves away from a beat of ``period`` frames,
    towards that end: the slope, by least squares, of the own tempo (``_own_pulse``) of
    sections of ``SECTION_BEATS`` beats every 2 beats over them (each reads its tempo to
    about 0.1 %; 9 of them, a slope to about 0.003 % a beat)."""
    hops = np.arange(0.0, DRIFT_BEATS - SECTION_BEATS + 1e-9, 2.0)  # beats from the first
    first = max(0.0, onsets.shape[0] - (SECTION_BEATS + hops[-1]) * period) if at_end else 0.0
    ratios = np.array([_own_pulse(onsets, first + hop * period, period)[0] for hop in hops])
    away = np.sign(np.mean(ratios) - 1) * (ratios - 1)  # how far off the grid's tempo
    return _line(hops if at_end else -hops, away, np.ones(hops.size))[1]


def _section_beat(onsets: np.ndarray, start: float, period: float) -> tuple[float, float, float]:
    """(the frame of the middle beat, its weight, its level) of the section of
    ``SECTION_BEATS`` beats at ``start``: the middle one, as a ``period`` a little off tilts
    the comb around its middle; the weight is how far the best phase's comb stands above the
    mean of every phase's, the level that mean (how much onset strength the section holds)."""
    sums = _comb(onsets, start, period, 0.5)
    best = int(np.argmax(sums))
    weight = float(sums[best] - sums.mean())
    after = sums[(best + 1) % sums.shape[0]]  # the phase wraps
    phase = 0.5 * (best + _vertex(sums[best - 1], sums[best], after))
    return start + phase + SECTION_BEATS // 2 * period, max(weight, 0.0), float(sums.mean())


def _own_pulse(onsets: np.ndarray, start: float, period: float) -> tuple[float, float]:
    """(the beat's length, as a ratio of ``period``, its weight) of the strongest pulse of the
    section at ``start`` at a tempo up to ``DRIFT`` off ``period``'s, searched by 0.5 % and
    placed between those steps by a parabola (the sections after a step then lie within 0.45 %
    of each other, where a step apart was 0.5 %); the weight as ``_section_beat``'s."""
    ratios = np.arange(1 - DRIFT, 1 + DRIFT + 1e-9, 0.005)
    sums = [_comb(onsets, start, period * ratio, 1.0) for ratio in ratios]
    weights = np.array([s.max() - s.mean() for s in sums])
    best = int(np.argmax(weights))
    shift = _vertex(*weights[best - 1 : best + 2]) if 0 < best < ratios.size - 1 else 0.0
    return float(ratios[best] + 0.005 * shift), float(weights[best])


def _vertex(a: float, b: float, c: float) -> float:
    """Where (-1 to 1, in steps from ``b``'s) the parabola through three values, the middle
    one the greatest, peaks; 0 where they do not curve down."""
    curve = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / curve, -1.0, 1.0)) if curve < 0 else 0.0


def _comb(onsets: np.ndarray, start: float, period: float, step: float) -> np.ndarray:
    """The onset strength summed on ``SECTION_BEATS`` beats of ``period`` frames from
    ``start``, for each phase from 0 to a beat by ``step`` frames (the section's frames
    alone)."""
    phases = np.arange(0.0, period, step)
    times = start + phases[:, None] + period * np.arange(SECTION_BEATS)[None, :]
    lo, hi = int(start), min(onsets.shape[0], int(start + SECTION_BEATS * period) + 2)
    return np.interp(times, np.arange(lo, hi), onsets[lo:hi]).sum(axis=1)


def _numbers(beats: np.ndarray, weights: np.ndarray, period: float) -> np.ndarray:
    """The beat number of each section's beat, counted from the first weighed one's."""
    numbers = np.zeros(beats.shape[0])
    order = np.flatnonzero(weights > 0)
    if order.size == 0:
        return numbers
    first, length = beats[order[0]], period
    for i in order[1:]:
        numbers[i] = round((beats[i] - first) / length)
        done = order[order <= i]
        if np.ptp(numbers[done]) > 0:
            first, length = _line(numbers[done], beats[done], weights[done])
    silent = weights <= 0  # not fitted; numbered all the same
    numbers[silent] = np.round((beats[silent] - first) / length)
    return numbers


def _line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of ``y`` against ``x`` by least squares weighted by ``w``."""
    w = w / w.sum()
    mx, my = float(np.dot(w, x)), float(np.dot(w, y))
    vx = float(np.dot(w, (x - mx) ** 2))
    slope = float(np.dot(w, (x - mx) * (y - my)) / vx) if vx > 0 else 0.0
    return my - slope * mx, slope
