"""Playing in another key at the same pace, for singing or playing along: ``Transposer``.

A song goes up by ``semitones`` when it is stretched to last ``ratio = 2 ** (semitones / 12)``
times as long with its pitch kept (``stemgui.playback.stretch``, at ``speed / ratio``) and then
played ``ratio`` times as fast: every frame read ``ratio`` frames after the last, between the
stretched frames, by a Lanczos kernel (``TAPS`` lobes each side; widened by the ratio going up,
so that nothing above the new Nyquist folds back down). Its pace is the speed's, its notes a
``ratio`` higher (lower for negative semitones).

At 0 semitones the stretcher's frames pass untouched. Back to 0 from a transposition, one block
plays a fraction of a frame faster, so that the next frame falls on a stretched one; the frames
already stretched then play as they are, and the stretcher's after them: nothing is skipped.
The song frames the stretcher says it plays are read as its frames are: ``on_run`` hears of
them block by block, each run on from the last.
"""

from __future__ import annotations

import math

import numpy as np

from stemgui.playback.renderer import soft_limit
from stemgui.playback.runs import Laid, RunCallback, play_runs, render_rest
from stemgui.playback.stretch import MAX_SPEED, MIN_SPEED, Stretcher

TAPS = 8
SEMITONES = tuple(range(-6, 7))
"""What the app offers (Playback ▸ Transpose): up to a tritone either way."""


class Transposer:
    """``render`` as the stretcher's, ``semitones`` higher (or lower) at the same pace.

    Args:
        stretcher: the song's ``Stretcher``; its ``speed`` is the pace this plays at.
        limit: bend peaks past -1 dBFS as the renderer's limiter does (for playback; an
            export rescales its files itself, and its stems must still add up to its mix).
    """

    def __init__(self, stretcher: Stretcher, limit: bool = True) -> None:
        self.stretcher = stretcher
        self.limit = limit
        self.speed = 1.0  # the pace, set from any thread
        self.semitones = 0  # set from any thread; read once per block
        self._history = np.zeros((self.reach, stretcher.channels), np.float32)  # last played
        self._buffer: np.ndarray | None = None  # stretched frames; None: not transposing
        self._at = 0.0  # where in ``_buffer`` the next frame is read
        self._runs: list[Laid] = []  # the song frames the stretcher laid over ``_buffer``
        self._scratch = np.empty((2, 4096), np.float32)

    @property
    def reach(self) -> int:
        """Stretched frames the kernel reads either side of a frame at the widest ratio."""
        return math.ceil(TAPS * 2 ** (max(SEMITONES) / 12)) + 1

    def render(self, out: np.ndarray, on_run: RunCallback | None = None) -> int:
        """Fill ``out`` (frames, channels) float32; return how many of its frames carry song."""
        semitones = int(self.semitones)
        ratio = 2.0 ** (semitones / 12)
        self.stretcher.speed = min(max(float(self.speed), MIN_SPEED), MAX_SPEED) / ratio
        if semitones == 0:
            if self._buffer is not None and self._at != math.floor(self._at):
                # a block a fraction of a frame faster: the next frame lies on a stretched one
                ratio = 1.0 + (math.ceil(self._at) - self._at) / out.shape[0]
                filled = self._transposed(out, ratio, on_run)
                self._at = float(round(self._at))
                return filled
            done, filled = (0, 0) if self._buffer is None else self._drain(out, on_run)
            if done < out.shape[0]:
                filled += render_rest(self.stretcher.render, out, done, on_run)
            self._remember(out)
            return filled
        if self._buffer is None:  # from 0: the kernel starts on the frames last heard
            self._buffer, self._at, self._runs = self._history.copy(), float(len(self._history)), []
        return self._transposed(out, ratio, on_run)

    # --- the transposition ------------------------------------------------------------------

    def _transposed(self, out: np.ndarray, ratio: float, on_run: RunCallback | None) -> int:
        frames = out.shape[0]
        width = max(1.0, ratio)  # going up: the kernel widened, its cut-off lowered
        reach = math.ceil(TAPS * width)
        where = self._at + ratio * np.arange(frames)
        self._need(int(where[-1]) + reach + 1)
        whole = np.floor(where)
        index = (whole.astype(np.int64) - reach + 1)[:, None] + np.arange(2 * reach)[None, :]
        weights = _kernel(ratio, where - whole)  # (frames, taps)
        taken = self._buffer[np.clip(index, 0, len(self._buffer) - 1)]  # (frames, taps, ch)
        out[:] = np.einsum("ft,ftc->fc", weights, taken)
        if self.limit:  # between the samples of limited audio the kernel finds peaks past 1
            soft_limit(out, self._scratch)
        stop = self._at + ratio * frames
        carried = play_runs(self._runs, self._at, stop, on_run, scale=ratio)
        filled = min(frames, round(carried / ratio))
        self._at = stop
        self._forget(int(self._at) - reach - 1)
        self._remember(out)
        return filled

    def _need(self, frames: int) -> None:
        """Stretch song until ``_buffer`` holds ``frames`` frames."""
        missing = frames - len(self._buffer)
        if missing <= 0:
            return
        block = np.zeros((missing, self.stretcher.channels), np.float32)
        base, notes = len(self._buffer), []
        self.stretcher.render(block, lambda *run: notes.append(run))
        # each run the stretcher reports plays until the next, the last to the block's end
        ends = [offset for offset, _, _ in notes[1:]] + [missing]
        self._runs += [
            (base + o, song, count, end - o) for (o, song, count), end in zip(notes, ends)
        ]
        self._buffer = np.concatenate([self._buffer, block])

    def _forget(self, before: int) -> None:
        drop = min(max(0, before), len(self._buffer))
        if drop:
            self._buffer = self._buffer[drop:]
            self._at -= drop
            self._runs = [(i - drop, s, c, n) for i, s, c, n in self._runs if i - drop + n > 0]

    # --- back at 0 semitones ----------------------------------------------------------------

    def _drain(self, out: np.ndarray, on_run: RunCallback | None) -> tuple[int, int]:
        """The frames stretched for the transposition and not yet heard, as they are: how
        many, and how many of them carry song."""
        start = math.ceil(self._at)
        rest = self._buffer[start:]
        n = min(len(rest), out.shape[0])
        out[:n] = rest[:n]
        filled = round(play_runs(self._runs, start, start + n, on_run))
        if n == len(rest):
            self._buffer, self._runs = None, []
        else:
            self._at = float(start + n)
        return n, filled

    def _remember(self, out: np.ndarray) -> None:
        """Keep the last frames played: a transposition starts its kernel on them."""
        n = min(out.shape[0], self._history.shape[0])  # in place: the callback allocates little
        if n == 0:
            return
        self._history[:-n] = self._history[n:].copy() if n < self._history.shape[0] else 0.0
        self._history[-n:] = out[-n:]


PHASES = 2048  # fractions of a frame the kernel is tabled at: 1/2048 frame, -63 dB at 10 kHz
_tables: dict[float, np.ndarray] = {}
_RATIOS = frozenset(2.0 ** (step / 12) for step in SEMITONES)  # as ``render`` computes them


def _kernel(ratio: float, fraction: np.ndarray) -> np.ndarray:
    """(frames, taps) float32 weights of the stretched frames around each frame read, which
    lies ``fraction`` (0-1) past a stretched frame: a Lanczos kernel of ``TAPS`` lobes, widened
    by ``ratio`` going up, each row adding up to one (a steady signal keeps its level). Tabled
    at ``PHASES`` fractions for the semitones offered; computed for any other ratio (the one
    block that lands a return to 0 semitones on a stretched frame)."""
    if ratio not in _RATIOS:
        return _lanczos(ratio, fraction)
    table = _tables.get(ratio)
    if table is None:
        table = _tables[ratio] = _lanczos(ratio, np.arange(PHASES + 1) / PHASES)
    return table[np.rint(fraction * PHASES).astype(np.int64)]


def _lanczos(ratio: float, fraction: np.ndarray) -> np.ndarray:
    width = max(1.0, ratio)
    reach = math.ceil(TAPS * width)
    x = (fraction[:, None] + reach - 1 - np.arange(2 * reach)[None, :]) / width
    weights = np.sinc(x) * np.sinc(x / TAPS) * (np.abs(x) < TAPS) / width
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
