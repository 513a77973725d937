"""Which song frames a buffer plays: the runs a renderer reports as it renders (``on_run``:
buffer offset, first song frame, count), kept over a stretched buffer (``Laid``: the song frames
laid evenly over its frames) and told on block by block, each part on from the last exactly, so
that the position the device plays is known at any speed or key (``stemgui.playback.stretch``,
``stemgui.playback.pitch``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RunCallback = Callable[[int, int, int], None]
Laid = tuple[float, int, int, float]
"""Song frames laid over a buffer: (index, first song frame, count, length in frames)."""


def song_frame(runs: list[tuple[int, int, int]], index: int) -> int | None:
    """The song frame at ``index`` of a buffer whose ``runs`` (index, song frame, count) were
    reported as it was rendered, the latest last; None where none covers it (silence)."""
    for where, song, count in reversed(runs):
        if where <= index < where + count:
            return song + index - where
    return None


def laid_over(runs: list[tuple[int, int, int]], start: int, stop: int, length: int) -> list[Laid]:
    """The song frames ``runs`` (index, song frame, count) report at indices [start, stop),
    laid evenly over a buffer of ``length`` frames (a loop's wrap or a seek inside them splits
    them)."""
    scale = length / max(stop - start, 1)
    laid = []
    for index, song, count in runs:
        a, b = max(start, index), min(stop, index + count)
        if a < b:
            offset = round((a - start) * scale)
            laid.append((offset, song + a - index, b - a, round((b - start) * scale) - offset))
    return laid


def last_song(runs: list[tuple[int, int, int]], start: int, stop: int) -> int | None:
    """The song frame of the last index in [start, stop) that ``runs`` (index, song frame,
    count) cover, or None (silence throughout)."""
    index = max((min(w + n, stop) - 1 for w, _, n in runs if w < stop), default=-1)
    return song_frame(runs, index) if index >= start else None


def heard_at(laid: list[Laid], played: int) -> int | None:
    """The song frame heard at frame ``played`` of a buffer ``laid`` lies over: inside a run,
    the one it plays; past one, where it ended; before the first, its first; None where there
    is none (silence)."""
    heard = None
    for offset, song, count, length in laid:
        if offset > played:
            return song if heard is None else heard
        into = min(played - offset, length)
        heard = song + (count if length <= 0 else round(into * count / length))
    return heard


def play_runs(
    runs: list[Laid],
    start: float,
    stop: float,
    on_run: RunCallback | None,
    at: int = 0,
    scale: float = 1.0,
) -> float:
    """Say which song frames frames [start, stop) of a buffer play; return how many of those
    frames carry song.

    ``runs`` (index, song, count, length) lay song frames [song, song + count) evenly over the
    buffer's frames [index, index + length) (a run of length 0 plays at ``index``). Each run's
    part inside [start, stop) goes to ``on_run(at + (frame - start) / scale, song, count)``:
    the parts of a run, reported block by block, follow on exactly and add up to it.
    """
    carried = 0.0
    for index, song, count, length in runs:
        if length > 0:
            a, b = max(start, index), min(stop, index + length)
            if a >= b:
                continue
            first = song + round((a - index) * count / length)
            last = song + round((b - index) * count / length)
            carried += b - a
        elif start <= index < stop:
            a, first, last = index, song, song + count
        else:
            continue
        if on_run is not None and last > first:
            on_run(at + int((a - start) / scale), first, last - first)
    return carried


def render_rest(
    render: Callable[..., int], out: np.ndarray, done: int, on_run: RunCallback | None
) -> int:
    """``render`` into ``out[done:]``, the runs it reports told ``done`` frames on."""
    if on_run is None or done == 0:  # (no closure to make in every callback)
        return render(out[done:], on_run)
    return render(out[done:], lambda offset, song, count: on_run(done + offset, song, count))
