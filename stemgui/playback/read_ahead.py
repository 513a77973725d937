"""The transport the stretcher read the song ahead with, and where a cut sends it back.

``Stretcher`` (``stemgui.playback.stretch``) reads the song from the renderer ahead of what
plays (a window and the search, about 70 ms), and each read moves the transport on. Pause, stop
and seek, and a loop set, turned on or off, are heard at the next block: ``ReadAhead`` keeps the
transport as the last read left it, tells whether anything else changed it since (``changed``),
and at the cut that follows sends it back to the song frame heard (``send_back``), so that play
goes on from there (a loop turned off just before its end does not go round once more; a loop
set that ends before that frame goes round, from its start); a seek is left where it was sent.

The GUI thread changes the transport at any time, after the check at a block's start too, and
the block's reads then read it so changed: what plays and the loop are kept as the first read
found them, and a seek or a stop made before or as it read as where it sent the transport,
so that the next block cuts all the same (taken in with the read, a loop set there was never
heard: having read past its end, the song played on to its end).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from stemgui.playback.runs import RunCallback


class ReadAhead:
    """The transport as the stretcher's last read of the song left it."""

    def __init__(self) -> None:
        # the transport after the last read (``state``): where it was left, whether it played
        # and its loop as the first read found them
        self.left: tuple | None = None
        self.sought: int | None = None  # where a seek before or in a read sent it (read on)

    def read(
        self,
        transport: Any,
        render: Callable[[np.ndarray, RunCallback], int],
        block: np.ndarray,
        note: RunCallback,
    ) -> int:
        """``render(block, note)`` (the renderer's ``render_stems``), the transport noted after
        it (not a change made since the last read); return what it returns."""
        if transport is None:
            return render(block, note)
        before = transport.position
        runs: list[tuple[int, int]] = []  # (song frame, count) of each run read

        def noted(offset: int, song: int, count: int) -> None:
            runs.append((song, count))
            note(offset, song, count)

        got = render(block, noted)
        after = state(transport)
        if self.left is not None:
            sought = _sought(transport, self.left[0], before, runs, after[0])
            self.sought = self.sought if sought is None else sought
            after = (after[0], *self.left[1:])
        self.left = after
        return got

    def changed(self, transport: Any) -> bool:
        """Whether the transport was paused, stopped or sought, or its loop changed, since the
        last read (the song's end and a loop's wrap happen as it is read: they are in it)."""
        if transport is None:
            return False
        return self.sought is not None or state(transport) != self.left

    def went_to(self, transport: Any) -> None:
        """The stretcher sought the transport itself (back at speed 1): not a change to cut at."""
        self.left = state(transport)

    def send_back(self, transport: Any, heard: int | None) -> None:
        """At a cut: paused, or the loop changed while playing (not play after the song's end,
        read ahead), the transport goes back to the song frame ``heard`` (``back_to``); sought
        before or as it read, back where it was sent (not past what was read after it); sought
        since the last read, or nothing heard (silence), it is left where it is."""
        left = self.left
        if transport.position != left[0]:
            return
        if self.sought is not None:
            transport.seek(self.sought)
        elif heard is not None and (left[1] or not transport.playing):
            transport.seek(back_to(heard, transport, left[2]))


def _sought(
    transport: Any, left: int, before: int, runs: list[tuple[int, int]], after: int
) -> int | None:
    """Where the transport was last sought to since the last read left it at ``left``, if it
    was: before this read (it was at ``before``), as it read (a run of ``runs`` that does not
    go on from the last, or from ``before``, nor wraps round the loop), or after it (not where
    the last run ended, or ``before`` where none did: at ``after``)."""
    sought = before if before != left else None
    at, loop = before, transport.loop
    for song, count in runs:
        wrap = loop is not None and song == loop[0] and (at == loop[1] or at >= transport.frames)
        if song != at and not wrap:
            sought = song
        at = song + count
    return after if after != at else sought


def back_to(heard: int, transport: Any, loop_before: tuple[int, int] | None) -> int:
    """Where a cut sends the transport: the song frame ``heard``, or the start of a loop set
    since the last input (not ``loop_before``) that ends at or before it, as the player does
    (sent past the loop's end, read past it too, the song played on to its end first)."""
    loop = transport.loop
    if transport.loop_enabled and loop is not None and loop != loop_before and heard >= loop[1]:
        return loop[0]
    return heard


def state(transport: Any) -> tuple:
    """What of the transport the song read ahead depends on: where it is, whether it plays,
    its loop."""
    return transport.position, transport.playing, transport.loop, transport.loop_enabled
