"""The player's speed, key and click commands: how fast and in which key the song plays, with
the metronome click on its beats, handed to the output's audio chain (``stemgui.playback``).

``PaceCommands`` is a mixin of ``Player`` (``stemgui.ui.player``), which keeps the state these
commands change and polls the output (the speed trainer steps up there, once a lap heard).
"""

from __future__ import annotations

from typing import Any

from stemgui.playback.pitch import SEMITONES
from stemgui.playback.stretch import MAX_SPEED, MIN_SPEED, SPEEDS


class PaceCommands:
    """Mixin giving ``Player`` its speed, key and click commands.

    The player has the signals ``state_changed`` and ``pace_changed``, its ``transport`` and
    ``output`` (None without a song, or without a device), its ``timeline`` (for the beat grid)
    and the state: ``speed`` (pitch kept) and ``semitones`` (pace kept) of the song on screen,
    ``click`` (for every song from now on).
    """

    state_changed: Any
    pace_changed: Any
    transport: Any
    output: Any
    timeline: Any
    speed: float
    semitones: int
    click: bool

    def set_pace(self, speed: float = 1.0, semitones: int = 0) -> None:
        """Play at ``speed`` times the song's pace with the pitch kept (clamped to the
        stretcher's 0.25-2) and ``semitones`` higher (negative: lower) at that pace (clamped to
        the tritone either way ``SEMITONES`` offers); the defaults: the song as it is. Nothing
        without a song: the next one is shown at its own pace (or where it was left)."""
        if self.transport is None:
            return
        self.speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        self.semitones = min(max(int(semitones), SEMITONES[0]), SEMITONES[-1])
        self._apply_to_output()
        self.state_changed.emit()
        self.pace_changed.emit()

    def set_speed(self, speed: float) -> None:
        """``set_pace`` at another speed, in the same key."""
        self.set_pace(speed, self.semitones)

    def slower(self) -> None:
        """The next slower of the speeds offered (``SPEEDS``)."""
        self.set_speed(max((s for s in SPEEDS if s < self.speed - 1e-9), default=SPEEDS[0]))

    def faster(self) -> None:
        """The next faster of the speeds offered."""
        self.set_speed(min((s for s in SPEEDS if s > self.speed + 1e-9), default=SPEEDS[-1]))

    def set_semitones(self, semitones: int) -> None:
        """``set_pace`` in another key, at the same speed."""
        self.set_pace(self.speed, semitones)

    def transpose(self, step: int) -> None:
        """``step`` semitones higher (negative: lower) than now."""
        self.set_semitones(self.semitones + step)

    def set_click(self, on: bool) -> None:
        """A metronome click on every beat of the song's grid (none without one), heard at
        the speed and key the song plays at; for every song from now on."""
        self.click = bool(on)
        self._apply_to_output()
        self.state_changed.emit()

    def _apply_to_output(self) -> None:
        """Hand the speed, key and click to the output's chain (a test's may have none)."""
        transposer = getattr(self.output, "transposer", None)
        if transposer is not None:
            transposer.speed, transposer.semitones = self.speed, self.semitones
        clicker = getattr(self.output, "clicker", None)
        if clicker is not None:
            timeline = self.timeline
            clicker.beats, clicker.on = (lambda: timeline.beats), self.click
