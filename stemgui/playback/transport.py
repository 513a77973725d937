"""Where playback is in the song: play, pause, stop, seek, and an optional loop region.

The GUI thread calls ``play``/``pause``/``stop``/``seek``/``set_loop`` and polls ``position``
with a timer; the audio callback calls ``on_block`` to learn which frames to play next. Both
sides take the same short lock around a few integer operations, never around any mixing. The
position is one int attribute, so reading it needs no lock.

``on_block(frames)`` returns one contiguous run ``(start, count)`` with ``count <= frames``.
A callback fills its buffer by asking again until the buffer is full or ``count`` is 0
(stopped, paused, or at the song's end): a loop that wraps inside a block comes back as two
runs, the end of the loop region then its start.

Rules:
- ``stop()`` pauses and rewinds to frame 0; ``pause()`` keeps the position.
- With the loop on, reaching the loop end (or the end of the song) jumps to the loop start; a
  position after the loop end (after a seek) plays on to the end of the song and then loops.
- A loop region is at least ``MIN_LOOP_SECONDS`` long (10 ms: a 1/32 beat loop up to 187 BPM);
  a shorter one is lengthened to it. Every wrap costs the audio callback a mix and a fade, and a
  loop of a frame or two wrapped hundreds of times a block: the callback fell behind the device.
- With the loop off, reaching the end of the song holds there, still playing, until the output
  has played the song's last frame and calls ``finish``: then it stops (position back to 0) and
  counts one more ``ends``, which the UI can poll. At another speed the stretcher reads the song
  ahead of what plays (115 ms at 50 %): the song ends as its end is heard, not as it is read.
- While the song is still being separated (``ready``), playing holds at the first frame not
  separated yet, still "playing", and goes on as soon as more is: nothing is skipped unheard.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

MIN_LOOP_SECONDS = 0.01
"""The shortest loop region: a shorter one is lengthened to this."""


class PlayState(enum.Enum):
    """What the transport is doing."""

    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


class Transport:
    """Play state, position and loop region of one song of ``frames`` frames.

    Args:
        frames: length of the song in frames.
        samplerate: frames per second (for the conversions to and from seconds).
        ready: how many frames from the start can be played now (``StemSet.frames_ready``
            while the song is separated); default all of them. Called by the audio callback;
            set the attribute to None when no more will come (the separation was cancelled).
    """

    def __init__(
        self, frames: int, samplerate: int, ready: Callable[[], int] | None = None
    ) -> None:
        if int(frames) < 0 or int(samplerate) <= 0:
            raise ValueError(f"bad transport: frames={frames}, samplerate={samplerate}")
        self.frames = int(frames)
        self.samplerate = int(samplerate)
        self._lock = threading.Lock()
        self._state = PlayState.STOPPED
        self._position = 0
        self._loop: tuple[int, int] | None = None
        self._loop_enabled = False
        self._ends = 0
        self._wraps = 0
        self._held = False  # the last block found nothing separated to play
        self.ready = ready

    # --- read by the GUI ------------------------------------------------------------------

    @property
    def state(self) -> PlayState:
        return self._state

    @property
    def playing(self) -> bool:
        return self._state is PlayState.PLAYING

    @property
    def waiting(self) -> bool:
        """Playing, and holding at the first frame not separated yet."""
        return self._held and self._state is PlayState.PLAYING

    @property
    def position(self) -> int:
        """The next frame to be played (the audio thread moves it on)."""
        return self._position

    @property
    def loop(self) -> tuple[int, int] | None:
        """The loop region ``(start, end)`` in frames, end excluded, or None."""
        return self._loop

    @property
    def loop_enabled(self) -> bool:
        return self._loop_enabled

    @property
    def ends(self) -> int:
        """How many times playback reached the end of the song and stopped (``finish``)."""
        return self._ends

    @property
    def wraps(self) -> int:
        """How many times reading went round the loop (from its end back to its start): at other
        speeds ahead of what is heard (``Output.laps`` counts the laps played)."""
        return self._wraps

    # --- commands from the GUI ------------------------------------------------------------

    def play(self) -> None:
        """Start or resume playing from ``position`` (nothing happens for an empty song); at the
        end of the song, from its start, as players do (it would stop at once: Play seemed dead)."""
        self._play(rewind_at_end=True)

    def resume(self) -> None:
        """Play on from ``position`` as it is, even at the song's end, which then ends as
        reaching it playing does (``finish``): for a new output taking over a song that played
        (``Player.switch_output``), where ``play`` would start a song held at its end again."""
        self._play(rewind_at_end=False)

    def _play(self, rewind_at_end: bool) -> None:
        with self._lock:
            if self.frames > 0:
                looping = self._loop_enabled and self._loop is not None
                if rewind_at_end and self._position >= self.frames and not looping:
                    self._position = 0
                self._state = PlayState.PLAYING

    def pause(self) -> None:
        """Stop playing and keep the position."""
        with self._lock:
            if self._state is PlayState.PLAYING:
                self._state = PlayState.PAUSED

    def toggle(self) -> None:
        """Pause when playing, play otherwise."""
        if self._state is PlayState.PLAYING:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        """Stop playing and rewind to the start of the song."""
        with self._lock:
            self._state = PlayState.STOPPED
            self._position = 0

    def seek(self, frame: int) -> None:
        """Move to ``frame`` (clipped to [0, frames]); a playing transport plays on from there."""
        with self._lock:
            self._position = min(max(int(frame), 0), self.frames)

    def seek_seconds(self, seconds: float) -> None:
        self.seek(round(seconds * self.samplerate))

    def set_loop(self, start: int, end: int, *, enabled: bool = True) -> None:
        """Loop frames [start, end) (``end`` clipped to the song); ``enabled`` turns it on.

        A region shorter than ``MIN_LOOP_SECONDS`` is lengthened to it: its end moves on, or at
        the end of the song its start moves back (a song shorter than that loops whole).
        """
        start, end = max(int(start), 0), min(int(end), self.frames)
        if start >= end:
            raise ValueError(f"a loop region needs start < end, got [{start}, {end})")
        shortest = max(1, round(MIN_LOOP_SECONDS * self.samplerate))
        if end - start < shortest:
            end = min(start + shortest, self.frames)
            start = max(end - shortest, 0)
        with self._lock:
            self._loop = (start, end)
            self._loop_enabled = bool(enabled)

    def set_loop_enabled(self, enabled: bool) -> None:
        """Turn the loop on or off; on without a region does nothing."""
        with self._lock:
            self._loop_enabled = bool(enabled) and self._loop is not None

    def clear_loop(self) -> None:
        """Forget the loop region (and turn the loop off)."""
        with self._lock:
            self._loop = None
            self._loop_enabled = False

    # --- called by the audio callback -----------------------------------------------------

    def finish(self) -> None:
        """The output has played all it was given of the song: held at its end, stop, rewind to
        the start and count one more ``ends``; anywhere else (sought away since, looping,
        paused) nothing happens."""
        with self._lock:
            looping = self._loop_enabled and self._loop is not None
            if self._state is PlayState.PLAYING and self._position >= self.frames and not looping:
                self._state = PlayState.STOPPED
                self._position = 0
                self._ends += 1

    def on_block(self, frames: int) -> tuple[int, int]:
        """Claim the next run of at most ``frames`` frames to play: ``(start, count)``.

        ``count`` is 0 when not playing, at the song's end (the transport holds there,
        playing, until ``finish``), or at the first frame not separated yet. Cheap and
        allocation-free apart from the returned tuple.
        """
        with self._lock:
            if self._state is not PlayState.PLAYING or frames <= 0:
                return self._position, 0
            position = self._position
            end = self.frames
            if self._loop_enabled and self._loop is not None:
                loop_start, loop_end = self._loop
                if position == loop_end or position >= self.frames:
                    position = loop_start
                    self._wraps += 1
                if position < loop_end:
                    end = loop_end
            if position >= end:  # the song's end: held until its last frame has played
                return position, 0
            ready = self.ready
            if ready is not None:
                end = min(end, ready())
                if position >= end:  # not separated yet: hold here, still playing
                    self._position, self._held = position, True
                    return position, 0
            self._held = False
            count = min(int(frames), end - position)
            self._position = position + count
            return position, count
