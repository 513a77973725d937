"""The audio chain every output plays through, and what outputs share: the error the UI polls.

``Output`` builds renderer -> stretcher -> transposer -> clicker for a stem set. The callback body
is ``BlockRenderer.render`` (``stemgui.playback.renderer``): ask the transport for the next run
of frames, mix it straight into the output buffer with ramped gains and fades at every cut, fill
the rest with silence, soft-limit it. It touches no Qt, takes the transport's lock for a few
integer operations only, and allocates nothing large. At another pace or key
(``transposer.speed``, ``transposer.semitones``) the renderer's audio goes through ``Stretcher``
and ``Transposer`` first; ``Clicker`` adds a metronome click on the beats. Outputs render by
calling ``Output.render``, which counts the times round the loop as they play (``laps``):
``SoundDeviceOutput`` (``sounddevice_output.py``) from PortAudio's
callback, ``NullOutput`` (``null_output.py``) without a sound card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from stemgui.playback.click import Clicker
from stemgui.playback.pitch import Transposer
from stemgui.playback.renderer import BlockRenderer, HasGains
from stemgui.playback.stretch import Stretcher
from stemgui.playback.transport import Transport
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)


class Output:
    """What both outputs share: the chain above, the error the UI polls, closing."""

    def __init__(self, stemset: StemSet, mixer: HasGains, transport: Transport) -> None:
        self.stemset = stemset
        self.mixer = mixer
        self.transport = transport
        self.renderer = BlockRenderer(stemset, mixer, transport)
        # the callbacks render through these (``transposer.speed`` and ``.semitones``): at the
        # song's pace and key they hand the buffer on to the renderer
        self.stretcher = Stretcher(self.renderer, stemset.channels, stemset.samplerate)
        self.transposer = Transposer(self.stretcher)
        self.clicker = Clicker(self.transposer, stemset.samplerate)  # the metronome, last
        self._error: str | None = None
        self.laps = 0  # times round the loop played (the transport's ``wraps``: read ahead)
        self._song_end: int | None = None  # the song frame after the last one played
        self._sounding = False  # the last block played song
        self._lap = self._count_lap  # bound once: the callback allocates little

    def render(self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None = None) -> int:
        """Render the chain into ``out`` (frames, channels) as ``clicker.render`` does, count
        ``laps``, and let the transport stop at the song's end once its last frame has played.
        At another speed or key the transport wraps, and reaches the end, as the stretcher reads
        the song ahead: up to 73 ms (at 50 %) before the wrap plays, 115 ms before the end."""
        if on_run is None:
            filled = self.clicker.render(out, self._lap)
        else:

            def note(offset: int, song: int, count: int) -> None:
                self._count_lap(offset, song, count)
                on_run(offset, song, count)

            filled = self.clicker.render(out, note)
        self._sounding = filled > 0
        # its last frame played; or none played and none is left to (sent to the end, say): the
        # stretcher's windows can lay no song over a block with song still to come
        if self._song_end == self.transport.frames or not (filled or self.stretcher.holds_song):
            self._played_out()
        return filled

    def _played_out(self) -> None:
        """The song handed out has all been rendered: at its end, the transport stops."""
        self.transport.finish()

    def played_position(self) -> int | None:
        """The song frame after the last one rendered, or None when the last block had none: at
        another speed the transport is ahead of it by what the stretcher holds."""
        return self._song_end if self._sounding else None

    def _count_lap(self, offset: int, song: int, count: int) -> None:
        """A lap: the song played goes from the loop's end (or the song's) to its start."""
        transport, loop = self.transport, self.transport.loop
        back = (
            loop is not None and song == loop[0] and self._song_end in (loop[1], transport.frames)
        )
        if back and transport.loop_enabled:
            self.laps += 1
        self._song_end = song + count

    @property
    def error(self) -> str | None:
        """Why the output stopped working, in plain words, or None while it works."""
        return self._error

    def _fail(self, message: str) -> None:
        """Stop playback, then record the first failure; safe from any thread. In that order:
        the UI, polling on its own thread, never reads the message while the transport plays
        (PortAudio calls this from its thread when a device goes)."""
        self.transport.pause()
        if self._error is None:
            self._error = message
            logger.error("audio output failed: %s", message)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
