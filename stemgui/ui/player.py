"""Plays the selected song: a ``Transport``, the song's ``MixerState`` and an audio output.

The output's callback (``stemgui.playback``) mixes the stems; this object only gives commands
and polls. A ``QTimer`` reads the transport's position (and the output's error) every
``POLL_MS`` and moves the ``Timeline``'s playhead. Without an audio device ``open_output``
raises ``AudioDeviceError``: playback is then off, ``unavailable`` says why, and seeking, looping,
the mixer and export keep working. A device that goes away during playback (the output reports
an error on the next poll) is closed the same way: playback pauses and is off, with the message.
Play tries to open an output again, so that a device plugged back in works.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from stemgui.ui.kept_pages import let_go_of_pages
from stemgui.ui.player_pace import PaceCommands
from stemgui.ui.timeline import Timeline

logger = logging.getLogger(__name__)

POLL_MS = 30
TRIM_POLLS = 33
"""Every this many polls (about a second) the pages of a memory-mapped song away from the
playhead are let go (``kept_pages``)."""

OutputFactory = Callable[[Any, Any, Any], Any]
"""(stemset, mixer, transport) -> an output with ``close()`` (and optionally ``poll()``): the
window's plays on the device chosen (``output_menu.chosen_output``), tests' play nowhere."""


def _heard(output: Any, otherwise: int) -> int:
    """The song frame ``output`` plays now, a latency behind what it was handed (its
    ``heard_position``); ``otherwise`` when it does not say (silence, or a test's output)."""
    heard = getattr(output, "heard_position", lambda: None)()
    return otherwise if heard is None else heard


class Player(PaceCommands, QObject):
    """Transport commands and the position poll for the song on screen; the speed, key and
    click commands are ``PaceCommands``'s (``stemgui.ui.player_pace``).

    Signals:
        state_changed(): play state, loop or song changed (for the transport bar).
        position_changed(frame): the playhead moved.
        unavailable(message): playback is off for this reason ("" when it works again).
        pace_changed(): the speed or the transposition changed.
    """

    state_changed = Signal()
    position_changed = Signal(int)
    unavailable = Signal(str)
    pace_changed = Signal()

    def __init__(
        self,
        timeline: Timeline,
        output_factory: OutputFactory,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.output_factory = output_factory
        self.transport: Any = None
        self.output: Any = None
        self.mixer: Any = None
        self.stemset: Any = None
        self.error = ""
        self.master_db = 0.0
        # the song's speed (pitch kept) and transposition (pace kept); each song keeps its own
        # with its place (``stemgui.ui.place``), and the next output loaded takes them
        self.speed = 1.0
        self.semitones = 0
        # each time round the loop a step faster (``SPEEDS``), up to the song's own pace
        self.speed_trainer = False
        self.click = False  # a metronome click on the song's beats (``set_click``)
        self._laps = 0  # the output's, the last poll
        # playing waits for the separation, as heard (``poll``)
        self.waiting = False
        self._last_position = -1
        self._last_state: Any = None
        self._polls = 0
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        timeline.seek_requested.connect(self.seek)
        timeline.loop_requested.connect(self.set_loop)

    @property
    def loaded(self) -> bool:
        return self.transport is not None

    @property
    def can_play(self) -> bool:
        return self.output is not None

    def load(self, stemset: Any, mixer: Any, *, separating: bool = False) -> None:
        """Play ``stemset`` from now on (stopped at the start), through a new output;
        ``separating``: it is still being separated, and playing waits at the edge of what is
        done (until ``separation_ended``)."""
        from stemgui.playback.transport import Transport

        self.unload()
        self.stemset, self.mixer = stemset, mixer
        mixer.set_master_db(self.master_db)
        ready = (lambda: stemset.frames_ready) if separating else None
        self.transport = Transport(stemset.frames, stemset.samplerate, ready)
        self.timeline.reset(stemset.frames, stemset.samplerate)
        self._open_output()
        self.timer.start()
        self.state_changed.emit()

    def _open_output(self) -> bool:
        """Open an output for the loaded song; False (and ``unavailable``) when none opens."""
        from stemgui.errors import StemguiError

        try:
            self.output = self.output_factory(self.stemset, self.mixer, self.transport)
            self._laps = 0
        except StemguiError as error:  # AudioDeviceError: no device, no PortAudio
            logger.warning("playback unavailable: %s", error)
            self.output = None
            self.error = str(error)
            self.unavailable.emit(self.error)
            return False
        self._apply_to_output()
        if self.error:
            self.error = ""
            self.unavailable.emit("")
        return True

    def reopen(self) -> bool:
        """Look for an audio output again (playback is off); True when one opened."""
        if self.transport is None or self.can_play:
            return self.can_play
        if self._open_output():
            self.state_changed.emit()
        return self.can_play

    def switch_output(self, meanwhile: Callable[[], object] | None = None) -> bool:
        """Close the output and open another (on the device chosen since) at the frame heard,
        playing if it played (a song held at its end ends there, never starts again);
        ``meanwhile`` runs while none is open (PortAudio may list its devices afresh then).
        False (and ``unavailable``) when none opens; nothing without a song (the next one opens
        on the device chosen)."""
        transport = self.transport
        if transport is None:
            return False
        playing = transport.playing
        heard = self.timeline.position  # at the last poll, unless the output says it now
        if self.output is not None:
            output, self.output = self.output, None
            heard = _heard(output, heard) if playing else heard
            output.close()
        transport.pause()
        if playing:  # from the frame heard, not after those the old device had yet to play
            transport.seek(heard)
        if meanwhile is not None:
            meanwhile()
        opened = self._open_output()
        if opened and playing:  # held at the song's end, it ends there (play would restart it)
            transport.resume()
        self.poll()
        self.state_changed.emit()
        return opened

    def separation_ended(self) -> None:
        """No more of the song will come (done, or cancelled): play on through what is not
        separated (silence) instead of waiting for it."""
        if self.transport is not None:
            self.transport.ready = None

    def unload(self) -> None:
        self.timer.stop()
        if self.output is not None:
            self.output.close()
        self.output = self.transport = self.stemset = self.mixer = None
        self._last_position, self._last_state, self._laps = -1, None, 0
        self.waiting = False
        self.speed, self.semitones = 1.0, 0  # the next song is shown at its own (Screen)
        self.state_changed.emit()

    # -- commands ---------------------------------------------------------------------------

    def toggle(self) -> None:
        if self.transport is None:
            return
        if not self.can_play and not self.transport.playing and not self.reopen():
            return  # the device is not back
        self.transport.toggle()
        self.poll()

    def stop(self) -> None:
        """Stop and go back to the start, which a zoomed view pages to (as at the song's end)."""
        if self.transport is not None:
            self.transport.stop()
            self.poll()
            self.timeline.reveal(self.transport.position)

    def seek(self, frame: int) -> None:
        """Move the playhead to ``frame``; a zoomed view that does not show it pages to it (a
        jump by key, Home or Ctrl+←/→: the playhead went where the user sent it)."""
        if self.transport is not None:
            self.transport.seek(frame)
            self.poll()
            self.timeline.reveal(self.transport.position)

    def seek_end(self) -> None:
        """Move the playhead to the song's end (End): playing ends there, back at the start."""
        if self.transport is not None:
            self.seek(self.transport.frames)

    def nudge(self, seconds: float) -> None:
        """Seek ``seconds`` forward (negative: back) from the position shown (heard)."""
        if self.transport is not None:
            self.seek(self.timeline.position + round(seconds * self.transport.samplerate))

    def set_loop(self, start: int, end: int) -> None:
        """Loop frames [start, end) and turn the loop on (a region shorter than the transport's
        ``MIN_LOOP_SECONDS`` is lengthened to it, and drawn so); the playhead jumps to its start
        unless what is sent to the device goes on into it (slower or faster the transport reads
        ahead, ~55 ms of song, and the stretcher sends it back to what it sent)."""
        transport = self.transport
        if transport is not None and end > start:
            transport.set_loop(start, end, enabled=True)
            (start, end), position = transport.loop, transport.position
            stretched = transport.playing and (self.speed != 1.0 or self.semitones != 0)
            sent = getattr(self.output, "played_position", lambda: None)() if stretched else None
            if not (start <= position < end or (sent is not None and start <= sent < end)):
                transport.seek(start)
            self.poll()

    def set_loop_enabled(self, enabled: bool) -> None:
        if self.transport is None:
            return
        if enabled and self.transport.loop is None:
            # No region yet: loop what is on screen (from beat to beat), as a drag would, the
            # playhead taken into it too (left off screen, Play went on to the song's end first)
            self.set_loop(*self.timeline.snapped_region(*self.timeline.view))
        else:
            self.transport.set_loop_enabled(enabled)
        self.poll()

    def loop_beats(self, count: int) -> bool:
        """Loop ``count`` beats of the song's grid from the beat at (or just before) the
        playhead heard, and turn the loop on: a DJ's auto-loop. False, and nothing changed,
        for a song without a beat grid."""
        if self.transport is None or self.timeline.beats is None:
            return False
        first, length = self.timeline.beats
        # the beat on the playhead's frame or before it: a beat is on the frame nearest it (a
        # loop from the beat at 9000.3 starts at 9000; from there, the beat before was taken)
        beat = first + math.floor((self.timeline.position + 0.5 - first) / length) * length
        start = max(round(beat), 0)
        end = min(round(beat + count * length), self.transport.frames)
        if end <= start:
            return False
        self.set_loop(start, end)
        return True

    def position_heard(self) -> int:
        """The song frame heard now, polled afresh (not at the last poll, up to ``POLL_MS``
        before): where a beat tapped or put on the playhead is."""
        self.poll()
        return self.timeline.position

    def clear_loop(self) -> None:
        """Forget the loop region: L then loops what is on screen again."""
        if self.transport is not None:
            self.transport.clear_loop()
            self.poll()

    def toggle_loop(self) -> None:
        if self.transport is not None:
            self.set_loop_enabled(not self.transport.loop_enabled)

    def set_master_db(self, db: float) -> None:
        """The master gain of every song from now on."""
        self.master_db = float(db)
        if self.mixer is not None:
            self.mixer.set_master_db(db)

    # -- polling ----------------------------------------------------------------------------

    def _output_lost(self, message: str) -> None:
        """The output failed (device unplugged): close it; playback pauses and is off."""
        output, self.output = self.output, None
        transport = self.transport
        if transport is not None:
            transport.pause()
        try:
            output.close()
        except Exception:  # a dying device may fail to close too; the app goes on
            logger.exception("closing the failed audio output")
        self.error = message
        self.unavailable.emit(message)
        self.state_changed.emit()

    def poll(self) -> None:
        """Move the playhead to the transport's position; notice state changes and failures."""
        transport = self.transport
        if transport is None:
            return
        if self.output is not None:
            poll = getattr(self.output, "poll", None)
            message = poll() if poll is not None else getattr(self.output, "error", None)
            if message:
                self._output_lost(message)
        position = transport.position
        if transport.playing and self.output is not None:
            position = _heard(self.output, position)
        # The transport holds at the first frame not separated as soon as it reads up to it,
        # the latency (and at another speed what the stretcher holds) before it is heard: the
        # clock said "waiting…" 115 ms early at 50 %, over the song still playing.
        self.waiting = transport.waiting and position == transport.position
        ended = self._last_state is not None and transport.ends != self._last_state[-1]
        if position != self._last_position:
            self._last_position = position
            if transport.playing:
                self.timeline.follow(position)
            else:
                self.timeline.set_position(position)
                if ended:  # back at its start: a zoomed view too, or it never followed again
                    self.timeline.reveal(position)  # (not at a pause: the view stays put)
            self.position_changed.emit(position)
        self.timeline.set_loop(transport.loop, transport.loop_enabled)
        laps = getattr(self.output, "laps", self._laps)
        if laps != self._laps:  # round the loop once more, as heard
            self._laps = laps
            if self.speed_trainer and self.speed < 1.0:  # 1.0 is among them: no further
                self.faster()
        state = (
            transport.state,
            transport.loop,
            transport.loop_enabled,
            self.waiting,
            transport.ends,
        )
        if state != self._last_state:
            self._last_state = state
            self.state_changed.emit()
        self._polls += 1
        if self._polls % TRIM_POLLS == 0:
            self.let_go_of_pages()

    def let_go_of_pages(self) -> None:
        """Drop from memory the song's pages read so far but those around the playhead
        (``kept_pages``); the file keeps them."""
        if self.stemset is not None and self.transport is not None:
            let_go_of_pages(self.stemset, self.transport)
