"""Playing slower or faster without changing the pitch, for practising a part: WSOLA.

``Stretcher`` sits between the audio callback and the ``BlockRenderer``: at speed 1 it hands
the callback's buffer straight to the renderer (the samples are the renderer's, bit for bit);
at another speed it asks the renderer for song audio as it needs it and lays it out in time
with WSOLA (waveform-similarity overlap-add, Verhelst & Roelands 1993):

- The output is made of Hann windows ``WINDOW_SECONDS`` long, half a window apart, which add up
  to one. Window k is cut from the song near where its middle, played at output frame
  ``(k + 1) * hop``, is song frame ``(k + 1) * hop * speed`` on: song frame ``t * speed`` plays
  at ``t`` (a beat at its time over the speed, in a file exported slower too). Slower than 1
  takes windows closer together than they are laid down (a part is heard again), faster
  further apart.
- Within ``SEARCH_SECONDS`` of that point, the window is cut where it best continues the one
  before (the cross-correlation with what followed the previous window in the song is
  highest), so the overlaps add in phase: notes keep their pitch and do not beat.
- Where the song stops or starts (its end, or silence: 30 dB or more under the loudest of the
  last 2 s, as the floor of bleed under a separated stem's notes is), the windows stop and
  start with it, the notes there played once (``stemgui.playback.cuts``, which chooses where
  each window is cut): cut near that point, slower than about half speed each one played the
  last notes again after the one before fell silent (a stutter), or fell silent after the one
  before brought the first in (a flam). In silence a window may be cut past the search, so
  that the song to come comes in where the speed puts it (at 25 % too); where it still
  sounds (a pad after a loud fill), where it best continues the one before, at its level,
  up to the song to come, whose window is cut for its timing (``stemgui.playback.joins``).
  Play (or a seek) in the quiet starts as in silence, the windows aimed where the speed puts
  them from the first: the first beat heard is on time too (``cuts.cut_before``).

The windows are cut from the stems side by side (``BlockRenderer.render_stems``: each channel
of the mixer at a gain of 1), where the mix heard continues best (a stem muted does not steer
them), the same for each, and mixed only as they play (``BlockRenderer.mix_stems``): a change
of solo, mute or gain ramps at the next block, as at speed 1, not once the song buffered ahead
has played (110 ms at 50 %, 190 ms at 25 %). What the renderer does in the song's time still
holds: jumps cross-fade, loops wrap; the limiter limits the mix as it plays. The transport runs
ahead of the output by what is buffered (a window and the search, about 70 ms; in the quiet and
the first 2 s after Play, the next window's song too; at Play faster than 1, what the windows
would take back the first's over: 115 ms at 150 %). Each half window plays the song frames
from where the last one's ended to about ``hop * speed`` further on (the middle of the window
before to the middle of its own, where they were cut), laid evenly over it; ``on_run`` hears of
them block by block, each run on from the last exactly, so the position the device plays, and
each beat the click finds, is known as at speed 1, to a window (``stemgui.playback.runs``).

Changing the speed takes effect at the next half window. Back at speed 1 the last window's
second half plays whole, the transport goes back to the song frame after it (the one heard, not
the one the transport had run ahead to; the song's end where it ends inside it, its last frames
told as they play) and the renderer goes on from there without a cut;
unless the transport was sought meanwhile (a seek, stop and play): then the window fades out and
the renderer fades in where the transport was sent.

Pause, stop and seek, and a loop set, turned on or off, are heard at the next block, as at
speed 1, not once what is buffered has played (111 ms at 50 %): what plays fades out over
``FADE_SECONDS`` (``stemgui.playback.fade_tail``) and the song buffered ahead is dropped;
paused, or the loop changed, the transport goes back to the song frame heard, so that play goes
on from there (a loop turned off just before its end does not go round once more; a loop set
that ends before that frame goes round, from its start), and a seek fades in where it was sent
(``stemgui.playback.read_ahead``). While paused nothing runs: play starts afresh.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from stemgui.playback.cuts import HOLD_SECONDS, QUIET, Loudest, cut_at, cut_before
from stemgui.playback.fade_tail import FadeTail
from stemgui.playback.joins import join_in_quiet, quiet_over
from stemgui.playback.read_ahead import ReadAhead
from stemgui.playback.runs import (
    Laid,
    RunCallback,
    heard_at,
    laid_over,
    last_song,
    play_runs,
    render_rest,
)

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 0.046
SEARCH_SECONDS = 0.012
SPEEDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5)
"""The speeds the app offers (Playback ▸ Speed); the player and the command line take any in
[``MIN_SPEED``, ``MAX_SPEED``]."""
MIN_SPEED, MAX_SPEED = 0.25, 2.0
MIN_STRETCH, MAX_STRETCH = MIN_SPEED / 2**0.5, MAX_SPEED * 2**0.5
"""What ``Stretcher`` takes: any speed over a transposition of up to a tritone either way
(``stemgui.playback.pitch`` stretches by the speed over its ratio)."""


def speed_percent(speed: float) -> str:
    """A speed as a percent, with as many decimals as the speed has: 0.9 is "90", 0.333 "33.3"
    and 0.334 "33.4" (both "33" when rounded), so that two speeds are never said alike."""
    return f"{Decimal(repr(float(speed))).scaleb(2).normalize():f}"


class Renderer(Protocol):
    """``BlockRenderer``: ``render`` plays at speed 1; the windows are cut from
    ``render_stems``'s ``width`` columns where ``heard`` of them continues best, and
    ``mix_stems`` makes what plays of them."""

    transport: Any
    width: int

    def render(self, out: np.ndarray, on_run: RunCallback | None = None) -> int: ...

    def render_stems(self, out: np.ndarray, on_run: RunCallback | None = None) -> int: ...

    def mix_stems(self, stems: np.ndarray, out: np.ndarray, *, advance: bool = True) -> None: ...

    def heard(self, stems: np.ndarray) -> np.ndarray: ...

    def follow_on(self, frame: int | None) -> None: ...


class Stretcher:
    """``render`` as ``BlockRenderer.render`` does, at ``speed`` times the song's pace.

    Args:
        renderer: the song's ``BlockRenderer`` (its ``transport`` is sought on the way back
            to speed 1).
        channels, samplerate: of what it plays.
    """

    def __init__(self, renderer: Renderer, channels: int, samplerate: int) -> None:
        self.renderer = renderer
        self.speed = 1.0  # set from any thread; read once per half window
        self.channels = int(channels)
        self.width = int(renderer.width)  # of the stems side by side, the windows' input
        self.hop = max(8, round(WINDOW_SECONDS * samplerate / 2))
        self.size = 2 * self.hop
        self.search = max(1, round(SEARCH_SECONDS * samplerate))
        self._hold = round(HOLD_SECONDS * samplerate)
        # periodic Hann: windows half a window apart add up to exactly one
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.size) / self.size)).astype(
            np.float32
        )
        self._tail = FadeTail(samplerate)  # what played at a cut, fading out
        self.active = False
        self._reset()

    def _reset(self) -> None:
        self._input = np.zeros((0, self.width), np.float32)
        self._base = 0  # the input index of _input[0]
        self._runs: list[tuple[int, int, int]] = []  # (input index, song frame, count)
        self._position = 0.0  # the input index the last window was aimed at
        self._owed = 0.0  # how far short of where the speed puts them the windows are aimed
        self._previous = 0  # where the last window was cut
        self._reached = self.size  # the input index where the windows cut so far end, at most
        self._sum = np.zeros((self.size, self.width), np.float32)  # windows being added
        self._ready = np.zeros((0, self.width), np.float32)  # the half window handed out
        self._played = 0  # how much of it
        self._ready_runs: list[Laid] = []  # the song frames it plays (offsets in it)
        self._laid_to = 0  # the input index where the song frames of the last half window end
        self._silent = 0  # input frames in a row the renderer had no song for
        self._handing_over = False
        self._read = ReadAhead()  # the transport as the last input read left it
        self._loudest = Loudest(self._hold)  # what the quiet under the notes is told from
        self._quiet = False  # the last window's second half is heard in the quiet

    def render(self, out: np.ndarray, on_run: RunCallback | None = None) -> int:
        """Fill ``out`` (frames, channels) float32; return how many of its frames carry song."""
        if self.active and self._interrupted():
            self._cut(out.shape[1])
        if not self.active:
            transport = self.renderer.transport
            if self.speed == 1.0 or (transport is not None and not transport.playing):
                filled = self.renderer.render(out, on_run)  # paused: silence, started on play
                self._tail.play(out)
                return filled
            self._start(self._speed())
        total, done, filled = out.shape[0], 0, 0
        while done < total:
            if self._played == self._ready.shape[0]:
                if self._handing_over:  # the renderer goes on from where the windows stop
                    self.active = False
                    self._reset()
                    filled += render_rest(self.renderer.render, out, done, on_run)
                    break
                speed = self._speed()
                if speed == 1.0:
                    self._hand_over()
                else:
                    self._next_window(speed)
            played, n = self._played, min(total - done, self._ready.shape[0] - self._played)
            self.renderer.mix_stems(self._ready[played : played + n], out[done : done + n])
            filled += round(play_runs(self._ready_runs, played, played + n, on_run, done))
            self._played += n
            done += n
        if self._silent >= self.size + 2 * self.search + self.hop:
            self.active = False  # the song ended and played out: start afresh next time
            self._reset()
        self._tail.play(out)
        return min(filled, total)

    @property
    def holds_song(self) -> bool:
        """Whether song read from the renderer is still to play: not laid over a half window
        yet, or laid over what is left of the one playing."""
        return any(where + count > self._laid_to for where, _, count in self._runs) or any(
            offset + length > self._played for offset, _, _, length in self._ready_runs
        )

    # --- the windows ------------------------------------------------------------------------

    def _speed(self) -> float:
        """``speed``, within what the stretcher takes."""
        return min(max(float(self.speed), MIN_STRETCH), MAX_STRETCH)

    def _start(self, speed: float) -> None:
        """From speed 1: the first half window plays as it comes, so nothing fades in. It
        plays ``hop`` frames of song where the speed puts ``hop * speed``: the windows after it
        take that back, ``hop / 4`` at most each (none jumps, skipping or playing again a beat
        of a short loop), so that from then on song frame ``t * speed`` plays at output frame
        ``t``. Started in the quiet, that would play the song to come off the beat: there the
        windows are aimed where the speed puts them from the first on (``_start_in_quiet``)."""
        self._reset()
        self.active = True
        owing = max(0, int(np.ceil(4 * (speed - 1.0))))  # windows taking back the first's
        self._need(self.size + owing * int(np.ceil(self.hop * speed)))
        heard = self.renderer.heard(self._input)
        before = cut_before(heard, self.hop, self.search, speed, self._loudest.add(heard, 0))
        if before is not None:
            self._start_in_quiet(speed, *before)
            return
        self._owed = self.hop * (speed - 1.0)
        self._ready = self._input[: self.hop].copy()
        self._lay(0, self.hop)
        self._sum[: self.hop] = self._input[self.hop : self.size] * self.window[self.hop :, None]
        self._sum[self.hop :] = 0.0

    def _start_in_quiet(self, speed: float, cut: int, coming: int) -> None:
        """Play starts in the quiet (``cuts.cut_before``): the quiet before ``coming``, mirrored
        back and forth, stands for the song before index 0 and the renderer's fade-in at Play;
        the first half window fades in, as the renderer's start does."""
        before, fade = max(0, -cut), self._tail.fade
        edge, quiet = min(fade, coming // 2), coming - min(fade, coming // 2)
        back = (np.arange(before + edge, 0, -1) - 1) % (2 * quiet)
        back = edge + np.where(back < quiet, back, 2 * quiet - 1 - back)
        self._input = np.concatenate([self._input[back], self._input[edge:]])
        self._base = -before
        self._position, self._previous, self._reached = -self.hop, cut, cut + self.size
        self._laid_to = cut + self.hop  # the song frames the first half window plays, from
        self._need(self._reached - self._base)
        at = cut + self.hop - self._base
        self._sum[: self.hop] = self._input[at : at + self.hop] * self.window[self.hop :, None]
        self._quiet = coming >= self._reached
        self._next_window(speed)
        fade = min(fade, self.hop, coming - cut - self.hop)  # (up to the song to come)
        self._ready[:fade] *= (np.arange(1, fade + 1, dtype=np.float32) / fade)[:, None]

    def _next_window(self, speed: float) -> None:
        """Cut the next window, add it, and make the next half window ready."""
        owed = self._paying()
        self._owed -= owed
        self._position += self.hop * speed + owed
        aim = round(self._position)
        following = round(self._position + self.hop * speed + self._paying())  # the next's aim
        low = max(aim - self.search, self._base)
        # the search, the template (the windows may have run ahead of ``aim``), the song due in
        # it (faster than 1.5 past the search); in the quiet and the first 2 s, in the next too
        reach = max(low + 2 * self.search, self._previous + self.hop) + self.size
        due = following if self._quiet or self._previous < self._hold else aim
        reach = max(reach, due + self.hop + int(np.ceil(self.hop * speed)) + 1) - self._base
        self._need(reach)
        back = self.search + int(np.ceil(self.hop * max(0.0, 1.0 - speed))) if self._quiet else 0
        first = max(min(low - back, self._previous), self._base)  # (``cut_at``: before a beat)
        heard = self.renderer.heard(self._input[first - self._base : reach])
        high = min(aim + self.search, low + 2 * self.search)
        loudest = self._loudest.add(heard, first)
        start = cut_at(
            heard,
            first,
            self._previous,
            self._reached,
            aim,
            low,
            high,
            self.hop,
            self.search,
            speed,
            loudest,
            following,
        )
        at = start - self._base
        self._need(at + self.size)  # the template, cut past the search
        self._sum += self._input[at : at + self.size] * self.window[:, None]
        floor, gone = QUIET * loudest, self._previous + self.hop
        join_in_quiet(  # in the quiet, at the power each has, however alike they are
            self._sum[: self.hop],
            self._input[gone - self._base :][: self.hop],
            self._input[at : at + self.hop],
            heard,
            (gone - first, start - first),
            self.window[: self.hop],
            floor,
        )
        self._quiet = quiet_over(heard, start + self.hop - first, self.hop, floor)
        self._ready = self._sum[: self.hop].copy()
        self._sum[: self.hop] = self._sum[self.hop :]
        self._sum[self.hop :] = 0.0
        self._lay(self._laid_to, max(self._laid_to + 1, start + self.hop))  # to its middle
        self._previous = start
        self._reached = max(self._reached, start + self.size)
        self._forget(min(start, aim) - self.search - (self.search + self.hop) * self._quiet)

    def _paying(self) -> float:
        """What the next window takes back of what the windows owe (``_start``)."""
        return min(max(self._owed, -self.hop / 4), self.hop / 4)

    # --- the song audio, from the renderer --------------------------------------------------

    def _need(self, frames: int) -> None:
        """Render song audio until ``_input`` holds ``frames`` frames."""
        while self._input.shape[0] < frames:
            block = np.zeros((max(self.hop, frames - self._input.shape[0]), self.width), np.float32)
            index = self._base + self._input.shape[0]

            def note(offset: int, song: int, count: int, index: int = index) -> None:
                if self._runs:  # one run for song that goes on (a block's edge cuts none)
                    where, first, had = self._runs[-1]
                    if where + had == index + offset and first + had == song:
                        self._runs[-1] = (where, first, had + count)
                        return
                self._runs.append((index + offset, song, count))

            transport = self.renderer.transport
            got = self._read.read(transport, self.renderer.render_stems, block, note)
            self._silent = self._silent + block.shape[0] if got == 0 else 0
            self._input = np.concatenate([self._input, block])

    def _forget(self, before: int) -> None:
        """Let go of the input before input index ``before``."""
        drop = min(max(0, before - self._base), self._input.shape[0])
        if drop:
            self._input = self._input[drop:]
            self._base += drop
            self._runs = [run for run in self._runs if run[0] + run[2] > self._base]

    def _lay(self, start: int, stop: int) -> None:
        """The half window in ``_ready`` plays input [start, stop): the song frames the renderer
        reported there, laid evenly over it (a loop's wrap or a seek inside it splits them)."""
        self._played, self._laid_to = 0, stop
        self._ready_runs = laid_over(self._runs, start, stop, self._ready.shape[0])

    # --- pause, stop and seek ---------------------------------------------------------------

    def _interrupted(self) -> bool:
        """Whether the transport was paused, stopped or sought, or its loop changed, since the
        input was read or as it was (``ReadAhead``; the song's end and a loop's wrap happen as
        it is read: they are in the input)."""
        return self._read.changed(self.renderer.transport)

    def _cut(self, channels: int) -> None:
        """The transport was paused, stopped or sought, or its loop changed: the song the
        windows hold ahead is never heard. What plays goes on for a fade fading out (the tail,
        added to what plays next: ``FadeTail``), as the renderer's cuts do; unless it was sought,
        the transport goes back to the song frame heard, so that play goes on from there (a
        loop turned off just before its end plays on past it, where the song read ahead had
        wrapped; turned on, it wraps there; a loop set that ends before it goes round:
        ``ReadAhead.send_back``). The renderer fades in wherever the transport is next, not
        out from where it had run ahead to."""
        ahead = np.concatenate([self._ready[self._played :], self._sum[: self.hop]])
        ahead = ahead[: self._tail.fade]
        tail = np.empty((ahead.shape[0], channels), np.float32)
        self.renderer.mix_stems(ahead, tail, advance=False)  # heard over what plays next
        self._tail.cut(tail)
        self._read.send_back(self.renderer.transport, heard_at(self._ready_runs, self._played))
        self.renderer.follow_on(None)
        self.active = False
        self._reset()

    def _hand_over(self) -> None:
        """Back to speed 1: the last window's second half is played whole (the song as it
        goes on from the frame being heard) and the renderer goes on after it without a cut.
        Paused, sought or its loop changed since the input was read, the window fades out
        instead and the renderer starts where a cut sends the transport (the frame heard, a
        loop's start, where a seek sent it: ``ReadAhead.send_back``)."""
        self._handing_over = True
        # the song may end inside it (read to its end): its last frame, not the window's
        last = last_song(self._runs, self._previous + self.hop, self._previous + self.size)
        at = self._previous + self.hop - self._base
        transport = self.renderer.transport
        interrupted = self._interrupted()
        if last is None or interrupted or not getattr(transport, "playing", False):
            if interrupted:
                self._read.send_back(transport, heard_at(self._ready_runs, self._played))
            self._ready = self._sum[: self.hop].copy()  # the window fades out
            self._played, self._ready_runs = 0, []
            self.renderer.follow_on(None)  # and the renderer fades in after it
            return
        self._ready = self._input[at : at + self.hop].copy()
        self._lay(self._laid_to, self._previous + self.size)  # up to the renderer's next frame
        transport.seek(last + 1)
        self._read.went_to(transport)  # not a seek to cut at
        self.renderer.follow_on(last + 1)
