"""A metronome click on the song's beats, as heard: ``Clicker``.

It sits last in the audio callback's chain (after the stretcher and transposer), so the click
stays a click at any speed or key: it reads which song frames each run of the output plays
(the ``on_run`` reports the chain makes for the heard position) and puts a short decaying tone
where a beat of the grid falls, ``output offset + (beat - run start) / speed`` frames in. Each
beat sounds once: the chain's runs follow on exactly where the song goes on, at any speed or key,
and a run that does not begin where the last ended is a jump (a seek, the loop going round,
however short) that starts counting from the beat at or after it. The click is added after the
renderer's limiter and the sum limited again, so it never clips.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from stemgui.playback.renderer import soft_limit
from stemgui.playback.runs import RunCallback

CLICK_SECONDS = 0.012
CLICK_HZ = 1760.0  # A6: heard over a mix, not mistaken for a hi-hat
CLICK_LEVEL = 0.3

Beats = Callable[[], "tuple[float, float] | None"]


class Clicker:
    """``render`` as the chain's, with a click on each beat of ``beats()`` while ``on``.

    Args:
        chain: what renders the song (``Transposer``), reporting runs to ``on_run``.
        samplerate: of the song and the output.
        beats: the grid now, (first beat, beat length) in frames, or None (no click).
    """

    def __init__(self, chain: object, samplerate: int, beats: Beats = lambda: None) -> None:
        self.chain = chain
        self.beats = beats
        self.on = False  # set from any thread
        t = np.arange(round(CLICK_SECONDS * samplerate)) / samplerate
        envelope = np.exp(-t / (CLICK_SECONDS / 5))
        self.click = (CLICK_LEVEL * np.sin(2 * np.pi * CLICK_HZ * t) * envelope).astype(np.float32)
        self._tail = np.zeros(0, np.float32)  # the end of a click that went past a block
        self._due: list[int] = []  # clicks of beats reported whose frame is in a later block
        self._next_beat: int | None = None  # the number of the next beat to click
        self._song_end: int | None = None  # where the last run ended in the song
        self._scratch = np.empty((2, 4096), np.float32)

    def render(self, out: np.ndarray, on_run: RunCallback | None = None) -> int:
        """Fill ``out`` (frames, channels) float32; return how many of its frames carry song."""
        on, grid = self.on, self.beats()
        if not on or grid is None:
            self._tail, self._next_beat, self._song_end, self._due = self._tail[:0], None, None, []
            return self.chain.render(out, on_run)
        runs: list[tuple[int, int, int]] = []

        def note(offset: int, song: int, count: int) -> None:
            runs.append((offset, song, count))
            if on_run is not None:
                on_run(offset, song, count)

        filled = self.chain.render(out, note)
        clicked = self._play_tail(out)
        due, self._due = self._due, []
        for at in due:
            clicked |= self._at(out, at)
        # output frames a song frame: the pace the chain plays at (a run may go on past
        # this block: the stretcher's reports cover half a window, longer than a block)
        scale = 1.0 / float(getattr(self.chain, "speed", 1.0))
        for offset, song, count in runs:
            if count > 0:
                clicked |= self._click_run(out, offset, song, count, scale, grid)
        if clicked:
            soft_limit(out, self._scratch)
        return filled

    def _click_run(
        self,
        out: np.ndarray,
        offset: int,
        song: int,
        count: int,
        scale: float,
        grid: tuple[float, float],
    ) -> bool:
        """Click the beats on song frames [song, song + count), which play from ``out[offset]``
        on, ``scale`` output frames a song frame. A beat is on the frame nearest it: a loop or a
        seek to a beat rounded down to its frame starts on it (the beat is clicked there, not as
        the last frame before the loop goes round)."""
        first, length = grid
        if self._next_beat is None or song != self._song_end:
            self._next_beat = math.ceil((song - 0.5 - first) / length)  # a jump: from here on
        self._song_end = song + count
        clicked = False
        while (beat := first + self._next_beat * length) < song + count - 0.5:
            clicked |= self._at(out, offset + round(max(beat - song, 0.0) * scale))
            self._next_beat += 1
        return clicked

    def _at(self, out: np.ndarray, at: int) -> bool:
        """A click ``at`` frames into this block, or kept for the block it falls in."""
        if at >= out.shape[0]:
            self._due.append(at - out.shape[0])
            return False
        self._add(out, at)
        return True

    def _add(self, out: np.ndarray, at: int) -> None:
        n = min(self.click.shape[0], out.shape[0] - at)
        out[at : at + n] += self.click[:n, None]
        self._tail = self.click[n:]

    def _play_tail(self, out: np.ndarray) -> bool:
        if self._tail.shape[0] == 0:
            return False
        n = min(self._tail.shape[0], out.shape[0])
        out[:n] += self._tail[:n, None]
        self._tail = self._tail[n:]
        return True
