"""What a separated song is found to be: its tempo and beat grid (``stemgui.stems.tempo``) and
its key (``stemgui.stems.key``), estimated once from its stems and kept with them.

A stem cache entry keeps them in its ``entry.json`` (``to_info``): ``bpm`` (None: no pulse),
``beats`` (first beat and beat length in seconds; None: no steady grid) and ``song_key`` (tonic
pitch class and mode; None: no clear key), and ``analysis``, the ``VERSION`` of the estimates
that found them. An entry stored before one of them was kept has no such field, or an older
version, and its song is analysed again (``from_info`` says None): a song without drums kept
as having no tempo gets the one found now from its mix. So has an entry whose estimates failed
(``Analysis.failed``): what a failure left out is not kept as none found.

The user's correction of a tempo read at twice or half the song's (``stemgui.stems.tempo_fix``)
is kept apart, as ``tempo_factor`` (``FACTOR_FIELD``: 2 doubled, 0.5 halved; no field: none),
written into the entry by the window and never by the estimates: it is a factor, not a number,
so that it still holds when the song is analysed again (``scaled`` applies it).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any

from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo

logger = logging.getLogger(__name__)

# Raised whenever the estimates find other answers for the same stems (2: the tempo of songs
# without drums from their mix, grids refused 0.5 % off their tempo, breaks among bleed; 3: a
# song that starts on a beat has its first beat on its first frame, a grid from 16 beats
# fitted 8 at a time to all of them, none for beats that drift from it).
VERSION = 3
FACTOR_FIELD = "tempo_factor"


@dataclass(frozen=True)
class Analysis:
    """A song's ``tempo`` and ``key`` (each None when it has none, or when its estimate
    ``failed``); ``tempo_factor``: the user's correction the ``tempo`` has (``scaled``), 1 for
    the tempo as estimated."""

    tempo: Tempo | None = None
    key: Key | None = None
    failed: bool = False
    tempo_factor: float = 1.0

    def scaled(self, factor: float, stemset: Any) -> Analysis:
        """This analysis with its tempo doubled or halved towards ``factor`` (a power of two;
        ``tempo_fix.corrected``: halving looks at ``stemset``'s drums), its ``tempo_factor``
        multiplied by what was applied; itself for a factor of 1."""
        from stemgui.stems.tempo_fix import corrected

        if factor == 1 or self.tempo is None:
            return self
        tempo, applied = corrected(self.tempo, factor, stemset)
        return replace(self, tempo=tempo, tempo_factor=self.tempo_factor * applied)

    def to_info(self) -> dict[str, Any]:
        """The fields a stem cache entry keeps of the estimates; none after a failed estimate
        (the song is analysed again when the entry is read). Not the ``tempo_factor``: of an
        analysis as estimated alone (a corrected tempo kept as found would be corrected
        again)."""
        if self.tempo_factor != 1:
            raise ValueError("a corrected tempo is not kept as found: keep its factor apart")
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
        found = None
        if (
            isinstance(key, list)
            and len(key) == 2
            and key[0] in range(12)
            and not isinstance(key[0], bool)
            and key[1] in ("major", "minor")
        ):
            found = Key(int(key[0]), str(key[1]))
        return cls(tempo, found)

    def describe(self) -> str:
        """For the log: "tempo 119.0 BPM, first beat at 0.005 s, key A major (11B)"."""
        tempo, key = self.tempo, self.key
        said = "no tempo" if tempo is None else f"tempo {tempo.bpm:.1f} BPM"
        if tempo is not None and tempo.beat is not None:
            said += f", first beat at {tempo.first_beat:.3f} s"
        if self.tempo_factor != 1:
            said += f" (corrected by the user: ×{self.tempo_factor:g})"
        return said + (", no key" if key is None else f", key {key.name} ({key.camelot})")


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
