"""Where the player was on a song: playhead, loop region, looping, waveform view, speed, key.

A DJ who goes to another song and back, or quits and starts again, lands where they left each
song. The window takes a ``Place`` from the player when a song leaves the screen (and, for the
song on screen, when the session is saved), keeps it on the song's ``Job``, and puts it back
when the song is shown. Times are seconds from the song's start, not frames: a song separated
again by a model of another sample rate lands at the same moment. The session file keeps it as
``{"position": s, "loop": [start, end] | null, "looping": bool, "view": [start, stop],
"speed": 0.8, "semitones": -2}`` (a session of an earlier version has no speed and key: the
song's own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from stemgui.playback.pitch import SEMITONES
from stemgui.playback.stretch import MAX_SPEED, MIN_SPEED

Span = tuple[float, float]
"""(start, end) in seconds, end excluded."""


@dataclass(frozen=True)
class Place:
    """The playhead ``position``, the ``loop`` region or None, whether ``looping``, and the
    waveforms' ``view``, all in seconds; ``looping`` only with a region; the ``speed`` and
    ``semitones`` the song was played at (a part practised slower, or in a singer's key)."""

    position: float
    loop: Span | None
    looping: bool
    view: Span
    speed: float = 1.0
    semitones: int = 0

    @classmethod
    def taken(cls, player: Any) -> Place | None:
        """Where ``player`` (a ``stemgui.ui.player.Player``) is on its song; None: no song.
        Playing, the playhead heard: what the output was sent past it never plays, the output
        closed as the song leaves (the transport is ahead by its latency, slower by what the
        stretcher read too)."""
        transport = player.transport
        if transport is None:
            return None
        rate = transport.samplerate
        loop = transport.loop
        return cls(
            (player.timeline.position if transport.playing else transport.position) / rate,
            None if loop is None else (loop[0] / rate, loop[1] / rate),
            transport.loop_enabled and loop is not None,
            (player.timeline.view[0] / rate, player.timeline.view[1] / rate),
            player.speed,
            player.semitones,
        )

    def clamped(self, length: float) -> Place:
        """This place on a song ``length`` seconds long (a file cut short since, stems of
        another model): the playhead and view kept inside it, a loop past its end dropped."""
        length = max(length, 0.0)
        loop = self.loop if self.loop is not None and self.loop[1] <= length else None
        width = min(self.view[1] - self.view[0], length)
        start = min(self.view[0], length - width)
        return Place(
            min(self.position, length),
            loop,
            self.looping and loop is not None,
            (start, start + width),
            self.speed,
            self.semitones,
        )

    def put(self, player: Any) -> None:
        """Move ``player``, its song just loaded, to this place (clamped to the song)."""
        transport = player.transport
        if transport is None:
            return
        rate = transport.samplerate
        place = self.clamped(transport.frames / rate)

        def frame(seconds: float) -> int:
            return round(seconds * rate)

        if place.loop is not None:
            player.set_loop(frame(place.loop[0]), frame(place.loop[1]))
            player.set_loop_enabled(place.looping)
        player.seek(frame(place.position))
        player.timeline.set_view(frame(place.view[0]), frame(place.view[1]))
        player.set_pace(place.speed, place.semitones)

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "loop": None if self.loop is None else list(self.loop),
            "looping": self.looping,
            "view": list(self.view),
            "speed": self.speed,
            "semitones": self.semitones,
        }

    @classmethod
    def from_json(cls, value: Any) -> Place | None:
        """The ``Place`` a session kept, or None when any field is missing or damaged (a time
        that is not a finite number of seconds from 0, a region that ends before it starts,
        looping without a region, a speed or key the player does not offer): the song then
        starts from its beginning, as a new one."""
        if not isinstance(value, dict):
            return None
        position, looping = value.get("position"), value.get("looping")
        loop, view = value.get("loop"), _span(value.get("view"))
        if loop is not None:
            loop = _span(loop)
            if loop is None:
                return None
        if not _seconds(position) or not isinstance(looping, bool) or view is None:
            return None
        if looping and loop is None:
            return None
        speed, semitones = value.get("speed", 1.0), value.get("semitones", 0)
        if not _seconds(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
            return None
        if not isinstance(semitones, int) or isinstance(semitones, bool):
            return None
        if semitones not in SEMITONES:
            return None
        return cls(float(position), loop, looping, view, float(speed), semitones)


def _seconds(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _span(value: Any) -> Span | None:
    if not (isinstance(value, list) and len(value) == 2 and all(map(_seconds, value))):
        return None
    start, end = float(value[0]), float(value[1])
    return (start, end) if start < end else None
