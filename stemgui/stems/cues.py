"""A song's cue points (hot cues): up to ``COUNT`` numbered places in it that the user sets and
jumps to, as DJs mark a song's parts and musicians practising its sections.

A cue is a time of the song in seconds (song time: it holds at any speed and key), not a frame,
so that it holds for the song in two stems and in four alike. A stem cache entry keeps the
song's cues in its ``entry.json`` beside the user's corrections of its tempo and key
(``analysis.edit_info``), as ``FIELD``: a list of ``COUNT`` times, None where a cue is not set
(``to_info``; no field: none set). They are the user's, not the estimates': a song analysed
again keeps them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

COUNT = 8
FIELD = "cues"


@dataclass(frozen=True)
class Cues:
    """The times of cues 1 to ``COUNT`` (``times[0]`` is cue 1's), in seconds of the song;
    None where a cue is not set."""

    times: tuple[float | None, ...] = (None,) * COUNT

    def at(self, number: int) -> float | None:
        """Cue ``number``'s time (1 to ``COUNT``); None: not set."""
        return self.times[_index(number)]

    def placed(self, number: int, seconds: float) -> Cues:
        """These cues with cue ``number`` at ``seconds`` (before the song's start: at it)."""
        times = list(self.times)
        times[_index(number)] = max(float(seconds), 0.0)
        return Cues(tuple(times))

    def cleared(self, number: int | None = None) -> Cues:
        """These cues without cue ``number`` (None: without any)."""
        if number is None:
            return NO_CUES
        times = list(self.times)
        times[_index(number)] = None
        return Cues(tuple(times))

    def numbers(self) -> list[int]:
        """The numbers of the cues set, in order."""
        return [number for number, time in enumerate(self.times, 1) if time is not None]

    def to_info(self) -> dict[str, Any]:
        """The field a stem cache entry keeps them in (written whole: it replaces the cues kept
        before)."""
        return {FIELD: list(self.times)}

    @classmethod
    def from_info(cls, info: Any) -> Cues:
        """The cues a stem cache entry kept (``to_info``); none where it kept none. A damaged
        time (not a finite number of seconds from the start) reads as that cue not set."""
        kept = info.get(FIELD) if isinstance(info, dict) else None
        if not isinstance(kept, list):
            return NO_CUES
        times = [_kept_time(value) for value in kept[:COUNT]]
        return Cues(tuple(times + [None] * (COUNT - len(times))))


NO_CUES = Cues()


def _index(number: int) -> int:
    if not 1 <= number <= COUNT:
        raise ValueError(f"a cue's number is 1 to {COUNT}, not {number}")
    return number - 1


def _kept_time(value: Any) -> float | None:
    """A time kept in a stem cache entry: a finite number of seconds, not before the start and
    not a bool (JSON reads NaN and Infinity too); else None."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) and value >= 0 else None
