"""A tempo read at twice or half the song's, corrected by the user: ``doubled``, ``halved``,
and ``corrected`` by the factor kept with the song (as DJ software's "×2" and "÷2").

No estimate settles this (``stemgui.stems.tempo``): a backbeat at 70 BPM is made of the hits of
a half-time feel at 140, and a song at 200 reads 100. The user says which it is:

- **Doubling** puts a beat halfway between each two beats of the grid.
- **Halving** keeps every other beat: the half whose beats carry more onset strength in the
  kick's band (``KICK_BAND``) of the drums stem (the mix when there is none), where the kick
  marks beats 1 and 3 and the snare 2 and 4. On synthetic rock drums at 100-140 BPM the
  kick's band weighs the kicks' beats 1.5 times the snare's; the flux of every frequency weighs
  the snare's broad noise 2.1 times the kicks', and would keep the backbeat.

A tempo without a grid has its BPM alone changed. The BPM is scaled exactly (120.3 halved reads
60.15, and doubled again 120.3), and kept within ``LIMITS``: a step that would leave them is
not taken (``allowed``).

The user fixes a grid's other faults too, and every correction of a song is one ``TempoEdit``,
kept with its stems (``analysis.edit_info``) and applied to whatever tempo the estimates find
(``applied``): a grid locked to the off-beats (every beat half a beat late) has a beat put where
the user hears one (``placed``, at ``TempoEdit.beat_at``); a tempo the estimates got wrong, or
found none of, is replaced by the one the user taps (``TempoEdit.tapped``, ``stemgui.stems.taps``).
The key the user sets (``TempoEdit.key``: the estimate's can be the relative key, or a whole tone
off) is one more field of the same edit, kept and applied with them (``analysis.Analysis.keyed``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from stemgui.stems.beats import ONSET_DELAY
from stemgui.stems.key import Key
from stemgui.stems.tempo import HOP, Tempo, beat_reader, onset_envelope

logger = logging.getLogger(__name__)

LIMITS = (30.0, 300.0)
"""BPM: a corrected tempo stays within them."""
KICK_BAND = (30.0, 150.0)
"""Hz: a kick's body, below a snare's (``tempo.SNARE_BAND``)."""
NEAR = 0.02
"""Seconds either side of a beat of the grid where its hit is looked for (the grid's beats
lie within 5 ms of the hits)."""
MAX_STEPS = 4
"""A kept factor is a power of two from 1/16 to 16; any other is damaged and read as 1."""


@dataclass(frozen=True)
class TempoEdit:
    """The user's corrections of a song's tempo, applied in this order (``applied``): the
    ``tapped`` tempo replaces the estimate (None: the estimate stays); it is doubled or halved
    towards ``factor`` (a power of two; 1: neither); its grid is moved so that a beat falls at
    ``beat_at`` seconds (None: where the estimate put them), its BPM unchanged. Beside them,
    the ``key`` the user set, in the estimate's place (None: the estimate's)."""

    tapped: Tempo | None = None
    factor: float = 1.0
    beat_at: float | None = None
    key: Key | None = None


NO_EDIT = TempoEdit()


def applied(
    estimate: Tempo | None,
    edit: TempoEdit,
    stemset: object,
    onsets: KickOnsets | None = None,
) -> tuple[Tempo | None, TempoEdit]:
    """(``estimate`` with ``edit`` applied; the edit as applied: its factor as far as
    ``corrected`` went). Halving looks at ``stemset``'s drums (``kick_onsets``; ``onsets``:
    as read for another correction of the same stems)."""
    tempo, factor = corrected(edit.tapped or estimate, edit.factor, stemset, onsets)
    return placed(tempo, edit.beat_at), replace(edit, factor=factor)


def placed(tempo: Tempo | None, seconds: float | None) -> Tempo | None:
    """``tempo`` with its grid moved by less than a beat so that a beat falls at ``seconds``
    (its BPM and beat length unchanged); as it is without a grid or ``seconds``."""
    if tempo is None or tempo.beat is None or seconds is None:
        return tempo
    return Tempo(tempo.bpm, seconds % tempo.beat, tempo.beat)


def nearest_beat(tempo: Tempo, seconds: float) -> float:
    """The time of the beat of ``tempo``'s grid nearest ``seconds`` (before the song's start,
    for a time within half a beat of it: the grid goes on before its first beat)."""
    return tempo.first_beat + round((seconds - tempo.first_beat) / tempo.beat) * tempo.beat


def same_grid(one: Tempo | None, other: Tempo | None) -> bool:
    """Whether two tempos have grids whose beats fall at the same times (the same beat length,
    first beats a whole number of beats apart)."""
    if one is None or other is None or one.beat is None or other.beat is None:
        return False
    if not math.isclose(one.beat, other.beat, rel_tol=1e-9):
        return False
    beats = (one.first_beat - other.first_beat) / one.beat
    return abs(beats - round(beats)) < 1e-6


def allowed(tempo: Tempo | None, factor: float) -> bool:
    """Whether ``tempo`` times ``factor`` stays within ``LIMITS`` (False without a tempo)."""
    return tempo is not None and LIMITS[0] <= tempo.bpm * factor <= LIMITS[1]


def doubled(tempo: Tempo) -> Tempo:
    """``tempo`` at twice the BPM: a beat halfway between each two of its grid's."""
    if tempo.beat is None:
        return replace(tempo, bpm=tempo.bpm * 2)
    beat = tempo.beat / 2
    return Tempo(tempo.bpm * 2, tempo.first_beat % beat, beat)


def halved(tempo: Tempo, onsets: tuple[np.ndarray, float] | None) -> Tempo:
    """``tempo`` at half the BPM: every other beat of its grid, the half whose beats carry more
    of ``onsets`` (``kick_onsets``: the flux of the kick's band, its frames per second)."""
    if tempo.beat is None or onsets is None:
        return Tempo(tempo.bpm / 2)
    even, odd = _halves(tempo, *onsets)
    first = tempo.first_beat if even >= odd else tempo.first_beat + tempo.beat
    return Tempo(tempo.bpm / 2, first, 2 * tempo.beat)


def corrected(
    tempo: Tempo | None, factor: float, stemset: object, onsets: KickOnsets | None = None
) -> tuple[Tempo | None, float]:
    """(``tempo`` doubled or halved, one step at a time, towards ``factor`` (a power of two);
    the factor applied): a step that would leave ``LIMITS`` (a song analysed again, read at
    another tempo) ends it there. Halving looks at the beats of ``stemset`` (``kick_onsets``;
    ``onsets``: as read for another correction of the same stems)."""
    if tempo is None:
        return None, 1.0
    onsets = onsets or KickOnsets(stemset)
    steps = round(math.log2(factor))
    step = 2.0 if steps > 0 else 0.5
    applied = 1.0
    for _ in range(abs(steps)):
        if not allowed(tempo, step):
            logger.info("a tempo of %g BPM is not corrected to %g", tempo.bpm, tempo.bpm * step)
            break
        if step > 1:
            tempo = doubled(tempo)
        else:
            tempo = halved(tempo, onsets() if tempo.beat is not None else None)
        applied *= step
    return tempo, applied


def kept_factor(value: object) -> float:
    """A factor kept with a song (``analysis.FACTOR_FIELD``): a power of two within
    ``MAX_STEPS`` doublings or halvings; anything else (none kept, damaged) reads as 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return 1.0
    steps = math.log2(value)
    return float(value) if abs(steps) <= MAX_STEPS and steps == round(steps) else 1.0


class KickOnsets:
    """``kick_onsets`` of a ``stemset``, read at the first call and kept: the corrections of
    one step read its drums once."""

    def __init__(self, stemset: object) -> None:
        self.stemset = stemset
        self._onsets: tuple[np.ndarray, float] | None = None

    def __call__(self) -> tuple[np.ndarray, float]:
        if self._onsets is None:
            self._onsets = kick_onsets(self.stemset)
        return self._onsets


def kick_onsets(stemset: object) -> tuple[np.ndarray, float]:
    """(the flux of ``KICK_BAND`` per envelope frame, frames per second) of a ``StemSet``'s
    drums stem, or of its mix when it has none (two stems of the vocals)."""
    read = beat_reader(stemset)
    envelope, rate, _peak = onset_envelope(read, stemset.frames, stemset.samplerate, KICK_BAND)
    return envelope[1], rate


def _halves(tempo: Tempo, onsets: np.ndarray, rate: float) -> tuple[float, float]:
    """The onset strength at the even beats of ``tempo``'s grid (the first, the third...) and
    at the odd ones: at each, the strongest frame within ``NEAR`` of it."""
    if onsets.size == 0:
        return 0.0, 0.0
    delay = ONSET_DELAY / (rate * HOP)  # seconds from a hit to the frame it shows most in
    count = int((onsets.size / rate - tempo.first_beat) / tempo.beat) + 1
    times = tempo.first_beat + tempo.beat * np.arange(count)
    reach = max(1, round(NEAR * rate))
    frames = np.round((times - delay) * rate).astype(int)[:, None] + np.arange(-reach, reach + 1)
    strength = onsets[np.clip(frames, 0, onsets.size - 1)].max(axis=1)
    return float(strength[0::2].sum()), float(strength[1::2].sum())
