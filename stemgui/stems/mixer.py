"""Mixer maths: per-stem gain, solo and mute, a master gain, and the block mix itself.

The laws, used by the player and by "export what I hear" alike:

- a stem is heard iff it is not muted and (no stem is soloed, or it is soloed);
- a gain of ``g`` dB multiplies by ``10 ** (g / 20)``; ``-inf`` dB, and anything at or below the
  slider's minimum ``MIN_DB``, is silent (a factor of exactly 0);
- the master gain multiplies every stem;
- the original mix (``StemSet.mix``) can be a channel of its own, named ``ORIGINAL``, after the
  stems: it is heard only when soloed (and not muted), so that soloing it compares the song
  with its stems (A/B), and soloing it with stems plays those stems over the original.

``MixerState`` is edited by the GUI thread; the audio thread reads ``MixerState.gains``, an
immutable tuple of linear factors (master included) that every edit replaces in one attribute
assignment, so the callback never waits on a lock. ``mix_block`` writes a block of the mix into
a buffer the caller owns, in sounddevice's (frames, channels) layout, allocating nothing large;
it can ramp each factor from an old value to a new one across the block, which is how the
player changes a gain without a click (``stemgui.playback.renderer``).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

MIN_DB = -60.0
"""The gain slider's minimum: this gain and anything below it (``-inf`` too) is silence."""
MAX_DB = 12.0
"""The largest gain a stem or the master accepts."""
ORIGINAL = "original mix"
"""The mixer channel of the song as it was before separation."""


def db_to_linear(db: float) -> float:
    """Linear factor of a gain in dB: ``10 ** (db / 20)``, and 0.0 at or below ``MIN_DB``."""
    db = float(db)
    if math.isnan(db) or db > MAX_DB:
        raise ValueError(f"a gain must be a number of dB up to {MAX_DB}, got {db}")
    if db <= MIN_DB:
        return 0.0
    return 10.0 ** (db / 20.0)


@dataclass(frozen=True)
class StemControl:
    """The controls of one stem's channel strip."""

    gain_db: float = 0.0
    solo: bool = False
    mute: bool = False


def slider_db(db: float) -> float:
    """``db`` as the gain and volume sliders can show it: in their range, ``MIN_DB`` to
    ``MAX_DB``, and to their step, a whole dB, a half up (2.5 is +3, -3.5 is -3: the same for a
    stem and the master); 0 dB when it is not a finite number."""
    return float(min(max(math.floor(db + 0.5), MIN_DB), MAX_DB)) if math.isfinite(db) else 0.0


def restored_strip(saved: Sequence[Any]) -> StemControl:
    """A strip as a settings file kept it, ``[gain_db, solo, mute]``: a gain outside the
    sliders' range (a damaged file: -1e300 broke the song's rows) is brought into it, and to
    their step (``slider_db``: 2.5 dB, hand-edited or older, played 2.5 while its slider showed
    +2); a gain that is not a number is 0 dB, and solo or mute is on only when it is
    JSON's true (a damaged "false" is off)."""
    gain, solo, mute = (list(saved) + [0.0, False, False][len(saved) :])[:3]
    try:
        gain = float(gain)
    except (TypeError, ValueError):
        gain = 0.0
    return StemControl(slider_db(gain), solo is True, mute is True)


def folded(strips: Mapping[str, StemControl], parts: Sequence[str]) -> StemControl | None:
    """The controls of a stem that sums ``parts`` (no_vocals after drums, bass and other): theirs
    when they all have the same, else None (no single strip sounds as they did)."""
    controls = {strips.get(name, StemControl()) for name in parts}
    return controls.pop() if len(controls) == 1 else None


def audible(controls: Sequence[StemControl], original: bool = False) -> tuple[bool, ...]:
    """Per stem, whether it is heard: not muted and (nothing soloed or itself soloed).

    ``original``: the last control is the ``ORIGINAL`` channel, heard only when soloed.
    """
    any_solo = any(c.solo for c in controls)
    heard = [(not c.mute) and (c.solo or not any_solo) for c in controls]
    if original:
        heard[-1] = controls[-1].solo and not controls[-1].mute
    return tuple(heard)


def linear_gains(
    controls: Sequence[StemControl], master_db: float = 0.0, original: bool = False
) -> tuple[float, ...]:
    """Per stem, the factor its samples are multiplied by: heard x stem gain x master gain."""
    master = db_to_linear(master_db)
    return tuple(
        db_to_linear(c.gain_db) * master if heard else 0.0
        for c, heard in zip(controls, audible(controls, original))
    )


class MixerState:
    """Solo, mute and gain of each stem plus a master gain, safe to read from the audio thread.

    Args:
        names: the stems, in the order of the ``StemSet`` they mix.
        master_db: initial master gain in dB.
        original: add the ``ORIGINAL`` channel (the song's mix) after the stems.

    ``names`` are the channels (the stems, then ``ORIGINAL`` if there is one); ``stems`` only
    the stems.
    """

    def __init__(
        self, names: Sequence[str], *, master_db: float = 0.0, original: bool = False
    ) -> None:
        self.stems: tuple[str, ...] = tuple(names)
        self.original = original
        self.names: tuple[str, ...] = self.stems + ((ORIGINAL,) if original else ())
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"stem names must be unique, got {self.names}")
        self._lock = threading.Lock()
        self._controls: tuple[StemControl, ...] = tuple(StemControl() for _ in self.names)
        self._master_db = float(master_db)
        self._version = 0
        self._gains: tuple[float, ...] = linear_gains(
            self._controls, self._master_db, self.original
        )

    @property
    def gains(self) -> tuple[float, ...]:
        """Per stem linear factor, master included: one immutable snapshot, read without a lock."""
        return self._gains

    @property
    def mix_gains(self) -> tuple[float, ...]:
        """Per stem linear factor without the master gain, the listening volume: the factors
        of the mix that "Export what I hear" writes."""
        return linear_gains(self._controls, 0.0, self.original)

    @property
    def version(self) -> int:
        """Grows by one on every change; a view can compare it to know whether to redraw."""
        return self._version

    @property
    def master_db(self) -> float:
        return self._master_db

    @property
    def controls(self) -> tuple[StemControl, ...]:
        """Every stem's controls, in ``names`` order."""
        return self._controls

    def control(self, name: str) -> StemControl:
        return self._controls[self._index(name)]

    def is_audible(self, name: str) -> bool:
        """Whether stem ``name`` is heard under the solo/mute law (whatever its gain)."""
        return audible(self._controls, self.original)[self._index(name)]

    def set_gain_db(self, name: str, db: float) -> None:
        db_to_linear(db)  # validates
        self._update(name, gain_db=float(db))

    def set_solo(self, name: str, on: bool = True) -> None:
        self._update(name, solo=bool(on))

    def set_mute(self, name: str, on: bool = True) -> None:
        self._update(name, mute=bool(on))

    def set_master_db(self, db: float) -> None:
        db_to_linear(db)  # validates
        with self._lock:
            self._master_db = float(db)
            self._publish()

    def strips(self) -> dict[str, StemControl]:
        """Every channel's controls by name (the original mix's too)."""
        return dict(zip(self.names, self._controls))

    def take_controls(self, strips: Mapping[str, StemControl]) -> None:
        """The controls of every channel of ``strips`` this mixer has too: the same song shown
        again with other stems (vocals / no_vocals after four), or in a new session.

        ``ORIGINAL`` comes unmuted: the app has no mute for it (it is heard only when soloed),
        and a session saved when it had one would bring it back silent for good."""
        for name in self.names:
            if name in strips:
                control = strips[name]
                db_to_linear(control.gain_db)  # validates
                if name == ORIGINAL:
                    control = replace(control, mute=False)
                # one change per channel: the audio thread never hears it half set
                self._update(name, gain_db=float(control.gain_db), solo=control.solo,
                             mute=control.mute)  # fmt: skip

    def reset(self) -> None:
        """Every stem back to 0 dB, no solo, no mute; master to 0 dB."""
        with self._lock:
            self._controls = tuple(StemControl() for _ in self.names)
            self._master_db = 0.0
            self._publish()

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(
                f"there is no stem {name!r}; the stems are {', '.join(self.names)}"
            ) from None

    def _update(self, name: str, **changes: object) -> None:
        index = self._index(name)
        with self._lock:
            controls = list(self._controls)
            controls[index] = replace(controls[index], **changes)
            self._controls = tuple(controls)
            self._publish()

    def _publish(self) -> None:
        # Called with the lock held; the single assignment below is what the audio thread sees.
        self._gains = linear_gains(self._controls, self._master_db, self.original)
        self._version += 1


def _gain_tuple(gains: Sequence[float] | MixerState) -> Sequence[float]:
    return gains.gains if isinstance(gains, MixerState) else gains


_counting_cache = np.arange(1, 4097, dtype=np.float32)


def _counting(n: int) -> np.ndarray:
    """1, 2, ..., n as float32, a view of a cache made once (grown for a longer ramp)."""
    global _counting_cache
    if _counting_cache.shape[0] < n:
        _counting_cache = np.arange(1, max(n, 2 * _counting_cache.shape[0]) + 1, dtype=np.float32)
    return _counting_cache[:n]


def mix_block(
    stemset: StemSet,
    start: int,
    frames: int,
    gains: Sequence[float] | MixerState,
    out: np.ndarray,
    *,
    scratch: np.ndarray | None = None,
    gains_from: Sequence[float] | None = None,
) -> None:
    """Write frames [start, start + frames) of the mix into ``out[:frames]``.

    ``out[i, c] = sum over stems s of gains[s] * data[s, c, start + i]`` (plus
    ``gains[-1] * mix[c, start + i]`` when there is a gain for the original mix); frames at or
    past ``stemset.frames_ready`` (or past the end) are written as silence, and stems with a
    gain of 0 are not read at all.

    Args:
        stemset: the stems, (sources, channels, frames).
        start: first frame of the block (>= 0).
        frames: number of frames to write.
        gains: per stem linear factor (``MixerState.gains``), or a ``MixerState``; one more
            factor applies to the original mix (``stemset.mix``; silence if it has none).
        out: float32 buffer of shape (>= frames, channels), e.g. a sounddevice callback's
            ``outdata``; any strides (a transposed (channels, frames) view works too).
        scratch: float32 buffer of shape (rows >= 1, n >= 1), reused across calls so that
            nothing is allocated; the mix goes through its first row in pieces of n frames.
            When None, one of (1, frames) is allocated if two stems or more are heard.
        gains_from: per stem factors to ramp from, one for each of ``gains``: frame ``i``
            of stem ``s`` is multiplied by ``gains_from[s] + (gains[s] - gains_from[s]) *
            (i + 1) / frames``, a straight line that reaches ``gains[s]`` on the last frame
            (a change of gain without a click). None: ``gains`` on every frame.
    """
    start, frames = int(start), int(frames)
    if start < 0 or frames < 0:
        raise ValueError(f"bad block: start={start}, frames={frames}")
    if out.ndim != 2 or out.shape[0] < frames or out.shape[1] != stemset.channels:
        raise ValueError(f"out must have shape (>= {frames}, {stemset.channels}), got {out.shape}")
    gains = _gain_tuple(gains)
    if len(gains) not in (stemset.sources, stemset.sources + 1):
        raise ValueError(f"{len(gains)} gains for {stemset.sources} stems")
    if gains_from is not None and len(gains_from) != len(gains):
        raise ValueError(f"{len(gains_from)} gains to ramp from for {len(gains)} gains")
    ready = min(stemset.frames_ready, stemset.frames)
    valid = min(frames, max(0, ready - start))
    out[valid:frames] = 0.0
    if valid == 0:
        return
    target = out[:valid].T  # (channels, valid), a view
    channels = stemset.channels
    first = True
    # Channel by channel on 1-D rows: a 2-D ufunc over strided rows makes numpy allocate an
    # iteration buffer (32 KiB) on every call; 1-D rows need none.
    for s, g in enumerate(gains):
        g = float(g)
        g0 = g if gains_from is None else float(gains_from[s])
        if g == 0.0 and g0 == 0.0:
            continue
        if s < stemset.sources:
            source = stemset.data[s, :, start : start + valid]  # (channels, valid)
        elif stemset.mix is not None:
            source = stemset.mix[:, start : start + valid]
        else:
            continue
        # A ramp: the factor of frame i is g0 + slope * (i + 1), made in the row it multiplies.
        slope = (g - g0) / frames if g0 != g else None
        steps = _counting(valid) if slope is not None else None
        if first:
            for c in range(channels):
                if slope is None:
                    np.multiply(source[c], g, out=target[c])
                else:
                    np.multiply(steps, slope, out=target[c])
                    np.add(target[c], g0, out=target[c])
                    np.multiply(target[c], source[c], out=target[c])
            first = False
            continue
        if scratch is None:
            scratch = np.empty((1, valid), dtype=np.float32)
        step = scratch.shape[1]
        piece = scratch[0]
        for a in range(0, valid, step):
            b = min(a + step, valid)
            p = piece[: b - a]
            for c in range(channels):
                if slope is None:
                    np.multiply(source[c, a:b], g, out=p)
                else:
                    np.multiply(steps[a:b], slope, out=p)
                    np.add(p, g0, out=p)
                    np.multiply(p, source[c, a:b], out=p)
                np.add(target[c, a:b], p, out=target[c, a:b])
    if first:
        target[...] = 0.0


def render_mix(
    stemset: StemSet,
    gains: Sequence[float] | MixerState,
    *,
    start: int = 0,
    stop: int | None = None,
    block_frames: int = 1 << 16,
) -> np.ndarray:
    """The mix of frames [start, stop) as heard, shape (channels, stop - start) float32.

    Same maths as playback (``mix_block``), block by block, so an export sounds exactly like
    the player. ``gains`` is ``MixerState.gains`` (or the ``MixerState`` itself).
    """
    stop = stemset.frames if stop is None else min(int(stop), stemset.frames)
    start = int(start)
    if not 0 <= start <= stop:
        raise ValueError(f"bad range [{start}, {stop}) for {stemset.frames} frames")
    gains = tuple(_gain_tuple(gains))
    result = np.empty((stemset.channels, stop - start), dtype=np.float32)
    scratch = np.empty((1, min(block_frames, max(1, stop - start))), np.float32)
    for a in range(start, stop, block_frames):
        n = min(block_frames, stop - a)
        mix_block(stemset, a, n, gains, result[:, a - start : a - start + n].T, scratch=scratch)
    return result
