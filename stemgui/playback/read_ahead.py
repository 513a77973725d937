"""The transport the stretcher read the song ahead with, and where a cut sends it back.

``Stretcher`` (``stemgui.playback.stretch``) reads the song from the renderer ahead of what
plays (a window and the search, about 70 ms), and each read moves the transport on. Pause, stop
and seek, and a loop set, turned on or off, are heard at the next block: ``ReadAhead`` keeps the
transport as the last read left it, tells whether anything else changed it since (``changed``),
and at the cut that follows sends it back to the song frame heard (``send_back``), so that play
goes on from there (a loop turned off just before its end does not go round once more; a loop
set that ends before that frame goes round, from its start); a seek is left where it was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from stemgui.playback.runs import RunCallback


class ReadAhead:
    """The transport as the stretcher's last read of the song left it."""

    def __init__(self) -> None:
        self.left: tuple | None = None  # the transport after the last read (``state``)

    def read(
        self,
        transport: Any,
        render: Callable[[np.ndarray, RunCallback], int],
        block: np.ndarray,
        note: RunCallback,
    ) -> int:
        """``render(block, note)`` (the renderer's ``render_stems``), the transport noted after
        it; return what it returns."""
        got = render(block, note)
        if transport is not None:
            self.left = state(transport)
        return got

    def changed(self, transport: Any) -> bool:
        """Whether the transport was paused, stopped or sought, or its loop changed, since the
        last read (the song's end and a loop's wrap happen as it is read: they are in it)."""
        return transport is not None and state(transport) != self.left

    def went_to(self, transport: Any) -> None:
        """The stretcher sought the transport itself (back at speed 1): not a change to cut at."""
        self.left = state(transport)

    def send_back(self, transport: Any, heard: int | None) -> None:
        """At a cut: paused, or the loop changed while playing (not play after the song's end,
        read ahead), the transport goes back to the song frame ``heard`` (``back_to``); sought,
        or nothing heard (silence), it is left where it is."""
        left = self.left
        unsought = transport.position == left[0]
        if heard is not None and unsought and (left[1] or not transport.playing):
            transport.seek(back_to(heard, transport, left[2]))


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
