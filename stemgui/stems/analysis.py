"""What a separated song is found to be: its tempo and beat grid (``stemgui.stems.tempo``) and
its key (``stemgui.stems.key``), estimated once from its stems and kept with them.

A stem cache entry keeps them in its ``entry.json`` (``to_info``): ``bpm`` (None: no pulse),
``beats`` (first beat and beat length in seconds; None: no steady grid) and ``song_key`` (tonic
pitch class and mode; None: no clear key), and ``analysis``, the ``VERSION`` of the estimates
that found them. An entry stored before one of them was kept has no such field, or an older
version, and its song is analysed again (``from_info`` says None): a song without drums kept
as having no tempo gets the one found now from its mix. So has an entry whose estimates failed
(``Analysis.failed``): what a failure left out is not kept as none found.

The user's corrections of the tempo and key (``stemgui.stems.tempo_fix.TempoEdit``) are kept
apart (``edit_info``), written into the entry by the window and never by the estimates:
``tempo_factor`` (``FACTOR_FIELD``: 2 doubled, 0.5 halved; no field: none), ``beat_at``
(``BEAT_AT_FIELD``: seconds where the user put a beat of the grid), ``tapped_tempo``
(``TAPPED_FIELD``: BPM, first beat and beat length of the tempo the user tapped) and
``user_key`` (``KEY_FIELD``: tonic pitch class and mode of the key the user set, as
``song_key``). They are corrections, not the tempo they make, so that they still hold when the
song is analysed again (``edited`` applies them to what the estimates find).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any

from stemgui.stems.key import Key
from stemgui.stems.stemset import is_two_stems
from stemgui.stems.tempo import Tempo
from stemgui.stems.tempo_fix import (
    NO_EDIT,
    KickOnsets,
    TempoEdit,
    applied,
    corrected,
    kept_factor,
    nearest_beat,
    placed,
    same_grid,
)

logger = logging.getLogger(__name__)

# Raised whenever the estimates find other answers for the same stems (2: the tempo of songs
# without drums from their mix, grids refused 0.5 % off their tempo, breaks among bleed; 3: a
# song that starts on a beat has its first beat on its first frame, a grid from 16 beats
# fitted 8 at a time to all of them, none for beats that drift from it; 4: a grid kept through
# loud bleed without a pulse of its own, and over the steady part of a song that slows down at
# its end, gently too, or starts in free time; 5: none for a tempo step near the start whose
# first section lies on the later part's grid by chance, one for a ritardando to 96-99 %,
# fitted without the sections where a ritardando starts).
VERSION = 5
FACTOR_FIELD = "tempo_factor"
BEAT_AT_FIELD = "beat_at"
TAPPED_FIELD = "tapped_tempo"
KEY_FIELD = "user_key"


@dataclass(frozen=True)
class Analysis:
    """A song's ``tempo`` and ``key`` (each None when it has none, or when its estimate
    ``failed``); ``edit``: the user's corrections the ``tempo`` and ``key`` have, and
    ``found``: the analysis as estimated, before them (None: this is it)."""

    tempo: Tempo | None = None
    key: Key | None = None
    failed: bool = False
    edit: TempoEdit = NO_EDIT
    found: Analysis | None = None

    @property
    def tempo_factor(self) -> float:
        """The user's doubling (2) or halving (0.5) of the tempo; 1: neither."""
        return self.edit.factor

    @property
    def estimated(self) -> Analysis:
        """This analysis as the estimates found it, without the user's corrections."""
        return self.found or self

    @property
    def tempo_corrected(self) -> bool:
        """Whether the user corrected the tempo (its ``edit`` but the key): ``tempo_reset``
        undoes something."""
        return self.tempo_reset() != self

    def edited(self, edit: TempoEdit, stemset: Any) -> Analysis:
        """The analysis as estimated with ``edit`` applied to its tempo
        (``tempo_fix.applied``: halving looks at ``stemset``'s drums) and its key; itself
        without one."""
        estimated = self.estimated
        if edit == NO_EDIT:
            return estimated
        tempo, edit = applied(estimated.tempo, edit, stemset)
        key = estimated.key if edit.key is None else edit.key
        return replace(estimated, tempo=tempo, key=key, edit=edit, found=estimated)

    def keyed(self, key: Key | None) -> Analysis:
        """This analysis with the user's ``key`` in the estimate's place (None: the estimate's
        again), its tempo as corrected; the analysis as estimated where nothing is corrected."""
        estimated, edit = self.estimated, replace(self.edit, key=key)
        if edit == NO_EDIT and self.tempo == estimated.tempo:
            return estimated
        return replace(self, key=estimated.key if key is None else key, edit=edit, found=estimated)

    def tempo_reset(self) -> Analysis:
        """This analysis with every correction of its tempo undone, the user's key kept."""
        return self.estimated.keyed(self.edit.key)

    def scaled(self, factor: float, stemset: Any) -> Analysis:
        """This analysis with its tempo doubled or halved towards ``factor`` (a power of two;
        ``tempo_fix.corrected``: halving looks at ``stemset``'s drums), its ``tempo_factor``
        multiplied by what was applied, a beat the user put kept on the beat of the new grid
        nearest it; itself for a factor of 1. A grid that the factor alone does not give
        (doubled, then halved onto the other half of its beats: a factor of 1, not the
        estimate's grid) has a beat of it kept, so that it is the grid at the next start; so has
        one halved in two stems (``is_two_stems``: no drums stem of the vocals' two, the kick's
        band of their mix, where a bass on the backbeat can outweigh the kicks), which the next
        start halves by the drums of the full stems kept (``cached_analysis``)."""
        if factor == 1 or self.tempo is None:
            return self
        onsets = KickOnsets(stemset)
        tempo, step = corrected(self.tempo, factor, stemset, onsets)
        beat_at = self.edit.beat_at
        if beat_at is not None and tempo.beat is not None:
            beat_at = nearest_beat(tempo, beat_at)
        edit = replace(self.edit, factor=self.edit.factor * step, beat_at=beat_at)
        if beat_at is None and tempo.beat is not None:
            alone, _edit = applied(self.estimated.tempo, edit, stemset, onsets)
            halved_elsewhere = edit.factor < 1 and is_two_stems(stemset.names)
            if halved_elsewhere or not same_grid(alone, tempo):
                edit = replace(edit, beat_at=tempo.first_beat)
        return self._corrected(tempo, edit)

    def moved(self, seconds: float) -> Analysis:
        """This analysis with a beat of its grid at ``seconds`` (``tempo_fix.placed``); itself
        without a grid."""
        if self.tempo is None or self.tempo.beat is None:
            return self
        return self._corrected(placed(self.tempo, seconds), replace(self.edit, beat_at=seconds))

    def tapped(self, tempo: Tempo) -> Analysis:
        """This analysis with the user's tapped ``tempo`` instead of the estimate (and of the
        corrections of the tempo made before; the user's key kept)."""
        return self._corrected(tempo, TempoEdit(tapped=tempo, key=self.edit.key))

    def _corrected(self, tempo: Tempo | None, edit: TempoEdit) -> Analysis:
        """``tempo``, made by ``edit`` from the estimate; the estimate itself for no edit (a
        doubling halved back onto its grid), as ``edited`` gives it at the next start."""
        if edit == NO_EDIT:
            return self.estimated
        return replace(self, tempo=tempo, edit=edit, found=self.estimated)

    def to_info(self) -> dict[str, Any]:
        """The fields a stem cache entry keeps of the estimates; none after a failed estimate
        (the song is analysed again when the entry is read). Not the user's corrections
        (``edit_info``): of an analysis as estimated alone (a corrected tempo kept as found
        would be corrected again)."""
        if self.found is not None:
            raise ValueError("a corrected tempo is not kept as found: keep its edit apart")
        if self.failed:
            return {}
        tempo, key = self.tempo, self.key
        beats = None if tempo is None or tempo.beat is None else [tempo.first_beat, tempo.beat]
        return {
            "bpm": None if tempo is None else tempo.bpm,
            "beats": beats,
            "song_key": None if key is None else [key.tonic, key.mode],
            "analysis": VERSION,
        }

    @classmethod
    def from_info(cls, info: Any) -> Analysis | None:
        """The analysis a stem cache entry kept; None when it kept none (stored before) or
        older estimates found it, so that the song is analysed again. Damaged fields read as not
        found."""
        if not isinstance(info, dict) or not {"bpm", "beats", "song_key"} <= info.keys():
            return None
        if info.get("analysis") != VERSION:  # found by older estimates (or damaged)
            return None
        bpm, beats, key = info["bpm"], info["beats"], info["song_key"]
        tempo = None
        if _number(bpm) and bpm > 0:
            # a grid whose beat is the tempo's (a beat of 0 divided by zero on the timeline),
            # its first beat within the first beat's length, as the estimate gives it (at 1e300
            # the click's count of beats stood still: the audio callback never returned)
            grid = (
                isinstance(beats, list)
                and len(beats) == 2
                and all(map(_number, beats))
                and 0 <= beats[0] < beats[1]
                and abs(60.0 / beats[1] - bpm) < 0.051  # the tempo is 60 / beat rounded to 0.1 BPM
            )
            tempo = Tempo(float(bpm), *(map(float, beats) if grid else ()))
        return cls(tempo, _kept_key(key))

    def describe(self) -> str:
        """For the log: "tempo 119.0 BPM, first beat at 0.005 s, key A major (11B)"; "(corrected
        by the user: ×2)" after the tempo, "(set by the user)" after the key, where they were."""
        tempo, key = self.tempo, self.key
        said = "no tempo" if tempo is None else f"tempo {tempo.bpm:.1f} BPM"
        if tempo is not None and tempo.beat is not None:
            said += f", first beat at {tempo.first_beat:.3f} s"
        tempo_edits = _described(self.edit)
        if self.found is not None and (tempo_edits or self.edit.key is None):
            said += f" (corrected by the user: {tempo_edits or 'undone'})"
        if key is None:
            return said + ", no key"
        by_user = " (set by the user)" if self.edit.key is not None else ""
        return said + f", key {key.name} ({key.camelot}){by_user}"


def edit_info(edit: TempoEdit) -> dict[str, Any]:
    """The fields a stem cache entry keeps of the user's corrections ``edit`` (each of them:
    writing them all replaces those kept before; None: no such correction)."""
    tapped = edit.tapped
    return {
        FACTOR_FIELD: edit.factor,
        BEAT_AT_FIELD: edit.beat_at,
        TAPPED_FIELD: None if tapped is None else [tapped.bpm, tapped.first_beat, tapped.beat],
        KEY_FIELD: None if edit.key is None else [edit.key.tonic, edit.key.mode],
    }


def kept_edit(info: Any) -> TempoEdit:
    """The user's corrections a stem cache entry kept (``edit_info``); a damaged field reads
    as no such correction."""
    if not isinstance(info, dict):
        return NO_EDIT
    beat_at, tapped = info.get(BEAT_AT_FIELD), info.get(TAPPED_FIELD)
    grid = (
        isinstance(tapped, list)
        and len(tapped) == 3
        and all(map(_number, tapped))
        and 0 <= tapped[1] < tapped[2]
        and abs(60.0 / tapped[2] - tapped[0]) < 0.051  # as ``from_info`` reads a grid
    )
    return TempoEdit(
        tapped=Tempo(*map(float, tapped)) if grid else None,
        factor=kept_factor(info.get(FACTOR_FIELD)),
        beat_at=float(beat_at) if _number(beat_at) else None,
        key=_kept_key(info.get(KEY_FIELD)),
    )


def kept_analysis(info: Any, stemset: Any, label: Any) -> Analysis:
    """The tempo and key a stem cache entry's ``info`` kept (``Analysis.from_info``), or, for
    an entry stored before they were (or by older estimates), ``analyse`` of its full
    ``stemset``; either way with the user's corrections kept there (``kept_edit``) applied: what
    the app shows and tags its exports with, and the command line its files."""
    analysis = Analysis.from_info(info) or analyse(stemset, label)
    return analysis.edited(kept_edit(info), stemset)


def _kept_key(value: Any) -> Key | None:
    """A key kept in a stem cache entry ([tonic pitch class, mode]); damaged: None."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and value[0] in range(12)
        and not isinstance(value[0], bool)
        and value[1] in ("major", "minor")
    ):
        return Key(int(value[0]), str(value[1]))
    return None


def _described(edit: TempoEdit) -> str:
    """For the log: "tapped, ×2, a beat at 12.345 s" (the corrections of the tempo; "": none)."""
    said = ["tapped"] if edit.tapped is not None else []
    said += [f"×{edit.factor:g}"] if edit.factor != 1 else []
    said += [f"a beat at {edit.beat_at:.3f} s"] if edit.beat_at is not None else []
    return ", ".join(said)


def _number(value: Any) -> bool:
    """A finite number (JSON reads NaN and Infinity too), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def analyse(stemset: Any, label: Any) -> Analysis:
    """The tempo (of the drums, else the mix) and key (of the stems but the drums) of a
    separated song's full ``stemset``; a failure of either only logs (naming ``label``), the
    song is separated all the same."""
    from stemgui.stems.key import stemset_key
    from stemgui.stems.tempo import stemset_tempo

    found: dict[str, Any] = {}
    for what, estimate in (("tempo", stemset_tempo), ("key", stemset_key)):
        try:
            found[what] = estimate(stemset)
        except Exception:  # a bug in an estimate must not fail a separated song
            logger.exception("%s: estimating the %s failed", label, what)
            found[what], found["failed"] = None, True
    analysis = Analysis(**found)
    logger.info("%s: %s", label, analysis.describe())
    return analysis
