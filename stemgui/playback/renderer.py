"""The body of every output's callback: transport -> mix -> output buffer, without clicks.

``BlockRenderer.render`` asks the transport for the next runs of frames and mixes them with
``stemgui.stems.mixer.mix_block`` straight into the output buffer. A step in the signal is a
click, so nothing it plays changes at once:

- **gains ramp.** A change of solo, mute or gain (``mixer.gains``) goes from the old factors
  to the new ones in a straight line over ``FADE_SECONDS``: no click, and no zipper noise
  from a dragged slider. While nothing sounds the new factors apply at once. Slower or faster
  (``stemgui.playback.stretch``) the stems go through the stretcher side by side
  (``render_stems``) and the gains ramp as they come out of it (``mix_stems``), at once too.
- **cuts cross-fade.** Where the frames played jump (a seek, a loop's wrap, a start or a
  resume from silence) or stop (pause, stop, the song's end, waiting for the separation),
  what was playing goes on for ``FADE_SECONDS`` fading out (the *tail*, each stem's kept in a
  small buffer at the cut and mixed as it plays; the transport's position does not move for
  it) while what plays next
  fades in from silence. A cut inside another's fades folds the earlier tail into its own.
- **a soft limiter** (``soft_limit``) on what goes to the device: samples within
  ±``LIMIT_KNEE`` (-1 dBFS) pass unchanged, louder ones bend towards full scale and never
  pass it. Stems and their gains add up past full scale (a soloed stem over the soloed
  original plays it twice); exports (``render_mix``) are the mix unchanged.

It touches no Qt, takes the transport's lock only inside ``Transport.on_block``, runs no
Python loop per sample, and allocates nothing large: its buffers are made once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from stemgui.playback.transport import Transport
from stemgui.stems.mixer import mix_block
from stemgui.stems.stemset import StemSet

FADE_SECONDS = 0.005
"""How long a gain ramp and a cut's fades take: 5 ms, 220 frames at 44.1 kHz."""
LIMIT_KNEE = 10.0 ** (-1.0 / 20.0)
"""Where the limiter starts to bend (-1 dBFS): below it the output is the mix, exactly."""

_SCRATCH_FRAMES = 4096


class HasGains(Protocol):
    """Anything with a ``gains`` tuple of per-stem linear factors (``MixerState``)."""

    @property
    def gains(self) -> tuple[float, ...]: ...


def soft_limit(block: np.ndarray, scratch: np.ndarray) -> None:
    """Bend the samples of ``block`` (frames, channels) float32 past ±``LIMIT_KNEE``, in place.

    ``|y| = |x|`` up to the knee ``k``; above it ``|y| = k + (1 - k) * tanh((|x| - k) / (1 - k))``,
    which leaves the knee with slope 1 (no corner to hear) and never reaches past 1.0. The sign
    is kept. A block within the knee (nearly all of them) costs one max and one min.

    Args:
        block: the samples, any strides.
        scratch: float32 buffer of shape (2, n >= 1); the block goes through it n frames at a
            time.
    """
    frames = block.shape[0]
    if frames == 0 or (block.max() <= LIMIT_KNEE and block.min() >= -LIMIT_KNEE):
        return
    room = 1.0 - LIMIT_KNEE
    step = scratch.shape[1]
    for a in range(0, frames, step):
        b = min(a + step, frames)
        size, bent = scratch[0, : b - a], scratch[1, : b - a]
        for c in range(block.shape[1]):
            x = block[a:b, c]
            np.abs(x, out=size)
            np.subtract(size, LIMIT_KNEE, out=bent)
            np.maximum(bent, 0.0, out=bent)  # how far past the knee: 0 below it
            np.multiply(bent, 1.0 / room, out=bent)
            np.tanh(bent, out=bent)
            np.multiply(bent, room, out=bent)
            np.add(bent, LIMIT_KNEE, out=bent)
            np.minimum(bent, 1.0, out=bent)  # float rounding never passes full scale
            np.minimum(size, bent, out=size)  # below the knee: |x| itself, exactly
            np.copysign(size, x, out=x)


class BlockRenderer:
    """Transport -> mix -> output buffer, with the ramps, fades and limiter above.

    Args:
        stemset: the stems, (sources, channels, frames).
        mixer: source of the per-stem gains, read once per block.
        transport: decides which frames play next.
        fade_seconds: length of the gain ramps and the cuts' fades (at least one frame).
    """

    def __init__(
        self,
        stemset: StemSet,
        mixer: HasGains,
        transport: Transport,
        *,
        fade_seconds: float = FADE_SECONDS,
    ) -> None:
        self.stemset = stemset
        self.mixer = mixer
        self.transport = transport
        self.fade = max(1, round(fade_seconds * stemset.samplerate))
        self._scratch = np.empty((2, _SCRATCH_FRAMES), dtype=np.float32)
        # fade-in of frame m of a fade: (m + 1) / fade; fade-out: what is left of 1
        self._fade_in = np.arange(1, self.fade + 1, dtype=np.float32) / self.fade
        self._fade_out = (1.0 - self._fade_in).astype(np.float32)
        self._next: int | None = None  # the frame after the last one played; None: silence
        self._faded_in = self.fade  # frames of the current fade-in played
        self._gains_from = self._gains_to = tuple(mixer.gains)
        self._ramped = self.fade  # frames of the gains' ramp played
        # ``render_stems``: each channel of the mixer alone, at a gain of 1, side by side
        count = len(self._gains_to)
        self._units = [tuple(float(s == j) for s in range(count)) for j in range(count)]
        self.width = count * stemset.channels
        self._stems = False  # rendering them
        # ``_mixing``'s matrix and the gains it is at; what a ramp changes of it
        self._matrix = np.zeros((self.width, stemset.channels), np.float32)
        self._matrix_at: Sequence[float] = ()
        self._change = np.zeros_like(self._matrix)
        # the tail, each stem's alone as the stems side by side (``width`` columns: mixed as
        # it plays, a gain changed since is heard in it too), and a second buffer to fold it
        # into at the next cut
        self._tail = np.zeros((self.fade, self.width), dtype=np.float32)
        self._spare = np.zeros_like(self._tail)
        self._tail_at = self.fade  # the tail's next frame to play; fade: none left

    def render(self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None = None) -> int:
        """Fill ``out`` (frames, channels) float32 with what plays next; return frames of song.

        Frames after the song (stopped, paused, ended) are silence, after the fade-out of what
        played. ``on_run(offset, start, count)`` hears of each run of song frames
        ``[start, start + count)`` written at ``out[offset:]`` (a loop's wrap makes two in one
        block).
        """
        self._aim(tuple(self.mixer.gains), at_once=self._next is None)  # one for the block
        filled = self._render(out, on_run, stems=False)
        self._ramped = min(self.fade, self._ramped + out.shape[0])
        soft_limit(out, self._scratch)
        return filled

    def render_stems(
        self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None = None
    ) -> int:
        """``render`` with the stems side by side, for the stretcher to lay out in time before
        ``mix_stems`` mixes them: ``out`` is (frames, ``width``), each channel of the mixer
        (the stems, then the original mix if it has one) alone at a gain of 1 in columns of
        its own. The fades are ``render``'s; the gains and the limiter wait for
        ``mix_stems``."""
        return self._render(out, on_run, stems=True)

    def mix_stems(self, stems: np.ndarray, out: np.ndarray, *, advance: bool = True) -> None:
        """Mix ``stems`` (frames, ``width``), laid out as ``render_stems`` does, into ``out``
        (frames, channels) as ``render`` plays: each at its gain now (ramped from the last
        ones), soft-limited. ``advance``: these frames are heard, so the ramp moves on (not
        for what fades out at a cut, heard over them)."""
        self._aim(tuple(self.mixer.gains), at_once=False)
        frames = stems.shape[0]
        self._side_by_side(stems, out[:frames], self._ramped)
        if advance:
            self._ramped = min(self.fade, self._ramped + frames)
        soft_limit(out[:frames], self._scratch)

    def heard(self, stems: np.ndarray) -> np.ndarray:
        """(frames,) float32: ``stems`` (frames, ``width``), laid out as ``render_stems``
        does, as they are heard now, every channel added (what the stretcher's windows are
        matched on: a stem muted does not steer them)."""
        return stems @ self._mixing(self._gains_to).sum(axis=1)

    def _side_by_side(self, stems: np.ndarray, out: np.ndarray, ramped: int) -> None:
        """``out`` (frames, channels) = ``stems`` (frames, ``width``) mixed ``ramped`` frames
        into the gains' ramp: frame m of the ramp at from + (to - from) * (m + 1) / fade, as
        ``_gains_at`` (the ramp's part goes through the scratch buffer's second row)."""
        np.matmul(stems, self._mixing(self._gains_to), out=out)
        n = min(stems.shape[0], self.fade - ramped) if ramped < self.fade else 0
        if n > 0:
            change = self._change
            self._spread((b - a for a, b in zip(self._gains_from, self._gains_to)), change)
            undone = self._scratch[1, : n * change.shape[1]].reshape(n, change.shape[1])
            np.matmul(stems[:n], change, out=undone)
            left = self._fade_out[ramped : ramped + n]  # of the change, not yet made
            for c in range(undone.shape[1]):  # 1-D rows: no iteration buffer to allocate
                np.multiply(undone[:, c], left, out=undone[:, c])
            np.subtract(out[:n], undone, out=out[:n])

    def _mixing(self, gains: Sequence[float]) -> np.ndarray:
        """(``width``, channels) float32: the stems side by side times it are their mix at
        ``gains`` (made again, in place, when they change)."""
        if gains != self._matrix_at:
            self._spread(gains, self._matrix)
            self._matrix_at = gains
        return self._matrix

    def _spread(self, factors: Iterable[float], matrix: np.ndarray) -> None:
        """Each stem's factor on its channels in ``matrix`` (``width``, channels)."""
        channels = self.stemset.channels
        for j, factor in enumerate(factors):
            for c in range(channels):
                matrix[j * channels + c, c] = factor

    def _render(
        self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None, stems: bool
    ) -> int:
        total = out.shape[0]
        self._stems = stems
        filled = 0
        while filled < total:
            start, count = self.transport.on_block(total - filled)
            if count == 0:
                break
            if on_run is not None:
                on_run(filled, start, count)
            if start != self._next:  # a jump, or a start from silence
                self._cut(filled)
                self._faded_in = 0
            run = out[filled : filled + count]
            if stems:
                self._alone(start, count, run)
            else:
                self._mix(start, count, run, self._ramped + filled)
            self._go_on_fading_in(run)
            self._next = start + count
            self._play_tail(run, filled)
            filled += count
        if filled < total:
            self._cut(filled)
            self._next = None
            rest = out[filled:total]
            rest[...] = 0.0
            self._play_tail(rest, filled)
        return filled

    def follow_on(self, frame: int | None) -> None:
        """The next run, from ``frame``, goes on from what was heard without a cut: what
        played last (through ``stemgui.playback.stretch``) ended just before ``frame``.
        None: what was heard faded out to silence; the next run fades in, and what this
        rendered last (never heard) does not fade out over it, nor its cuts' tails."""
        if frame is None:
            self._next, self._tail_at = None, self.fade
        elif self._next is not None:
            self._next = frame

    # --- the gains' ramp ------------------------------------------------------------------

    def _aim(self, gains: tuple[float, ...], at_once: bool) -> None:
        """Ramp towards ``gains`` from where the gains are now (``at_once``: nothing sounds)."""
        if gains == self._gains_to:
            return
        if at_once or len(gains) != len(self._gains_to):
            self._gains_from = self._gains_to = gains  # a fade-in brings them in
            self._ramped = self.fade
        else:
            self._gains_from, self._gains_to = self._gains_at(self._ramped), gains
            self._ramped = 0

    def _gains_at(self, ramped: int) -> Sequence[float]:
        """The gains once ``ramped`` frames of the ramp have played."""
        if ramped >= self.fade:
            return self._gains_to
        w = ramped / self.fade
        return tuple(a + (b - a) * w for a, b in zip(self._gains_from, self._gains_to))

    def _mix(self, start: int, count: int, run: np.ndarray, ramped: int) -> None:
        """Mix frames [start, start + count) into ``run``, ``ramped`` frames into the gains'
        ramp: the part still inside it ramps."""
        n = min(count, self.fade - ramped) if ramped < self.fade else 0
        if n > 0:
            mix_block(
                self.stemset,
                start,
                n,
                self._gains_at(ramped + n),
                run,
                scratch=self._scratch,
                gains_from=self._gains_at(ramped),
            )
        if count > n:
            mix_block(
                self.stemset, start + n, count - n, self._gains_to, run[n:], scratch=self._scratch
            )

    def _alone(self, start: int, count: int, run: np.ndarray) -> None:
        """Frames [start, start + count) of each channel of the mixer alone, at a gain of 1,
        into its columns of ``run`` (frames, ``width``)."""
        channels = self.stemset.channels
        for j, unit in enumerate(self._units):
            part = run[:, j * channels : (j + 1) * channels]
            mix_block(self.stemset, start, count, unit, part, scratch=self._scratch)

    def _go_on_fading_in(self, run: np.ndarray) -> None:
        """A fade-in goes on over ``run``."""
        if self._faded_in < self.fade:
            m = min(run.shape[0], self.fade - self._faded_in)
            envelope = self._fade_in[self._faded_in : self._faded_in + m]
            for c in range(run.shape[1]):
                np.multiply(run[:m, c], envelope, out=run[:m, c])
            self._faded_in += m

    # --- cuts -----------------------------------------------------------------------------

    def _cut(self, offset: int) -> None:
        """What was playing stops ``offset`` frames into the block: its next ``fade`` frames,
        fading out from the level it had, become the tail (with what was left of the last)."""
        if self._next is None:
            return  # silence: nothing to fade out (an earlier tail plays on)
        level = self._faded_in / self.fade
        tail = self._spare
        self._alone(self._next, self.fade, tail)
        for c in range(tail.shape[1]):
            np.multiply(tail[:, c], self._fade_out, out=tail[:, c])
        if level < 1.0:
            np.multiply(tail, level, out=tail)
        left = self.fade - self._tail_at
        if left > 0:
            np.add(tail[:left], self._tail[self._tail_at :], out=tail[:left])
        self._spare, self._tail = self._tail, tail
        self._tail_at = 0

    def _play_tail(self, part: np.ndarray, offset: int) -> None:
        """Add the tail's next frames onto ``part``, ``offset`` frames into the block: mixed
        with the gains there (frames, channels), or each stem's onto its columns
        (``render_stems``)."""
        n = min(part.shape[0], self.fade - self._tail_at)
        if n <= 0:
            return
        tail = self._tail[self._tail_at : self._tail_at + n]
        if not self._stems:
            channels = self.stemset.channels
            mixed = self._scratch[0, : n * channels].reshape(n, channels)
            self._side_by_side(tail, mixed, self._ramped + offset)
            tail = mixed
        for c in range(part.shape[1]):
            np.add(part[:n, c], tail[:, c], out=part[:n, c])
        self._tail_at += n
