"""Exporting at the speed and in the key the song is heard at (a backing track at 80 % for
practice, the instrumental two semitones down for a singer): ``Pace`` and ``paced_readers``.

The files go through the player's own ``Stretcher`` and ``Transposer``, offline, with every
file of the export as channels of one signal: the windows are cut where the sum of them all
(the song) continues best, the same for each, so the stems at a pace still add up to the mix at
that pace, sample for sample. The chain only goes forward: a file read again from its start (a
peak pass, then the writing pass) runs it again from the song's start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Reader = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class Pace:
    """``speed`` times the song's pace (the pitch kept), ``semitones`` higher (or lower)."""

    speed: float = 1.0
    semitones: int = 0

    @property
    def normal(self) -> bool:
        return self.speed == 1.0 and self.semitones == 0

    @property
    def label(self) -> str:
        """In file names and titles: "90%", "100% +2st", "75% -3st"."""
        steps = f" {self.semitones:+d}st" if self.semitones else ""
        return f"{round(self.speed * 100)}%{steps}"

    def frames(self, frames: int) -> int:
        """How long ``frames`` frames of the song last at this pace."""
        return max(1, round(frames / self.speed))


class _Joined:
    """The files' readers side by side as the channels of one signal, for ``Stretcher``."""

    transport = None  # the pace never changes during an export: never handed back

    def __init__(self, readers: list[Reader], channels: int, frames: int) -> None:
        self.readers, self.channels, self.frames = readers, channels, frames
        self.at = 0

    def render(self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None = None) -> int:
        n = max(0, min(out.shape[0], self.frames - self.at))
        for i, read in enumerate(self.readers):
            if n:
                out[:n, i * self.channels : (i + 1) * self.channels] = read(self.at, self.at + n).T
        out[n:] = 0.0
        if n and on_run is not None:
            on_run(0, self.at, n)
        self.at += n
        return n

    def follow_on(self, frame: int) -> None:
        pass


class _PacedSong:
    """All the files at ``pace``, read forward; a read before the last one starts over."""

    def __init__(
        self, readers: list[Reader], channels: int, frames: int, samplerate: int, pace: Pace
    ) -> None:
        self.args = (readers, channels, frames, samplerate)
        self.pace = pace
        self._start()

    def _start(self) -> None:
        from stemgui.playback.pitch import Transposer
        from stemgui.playback.stretch import Stretcher

        readers, channels, frames, samplerate = self.args
        joined = _Joined(readers, channels, frames)
        self.chain = Transposer(Stretcher(joined, channels * len(readers), samplerate))
        self.chain.speed, self.chain.semitones = self.pace.speed, self.pace.semitones
        self.at = 0
        self.last: tuple[int, int, np.ndarray] | None = None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) of every file: (stop - start, files x channels)."""
        if self.last is not None and self.last[:2] == (start, stop):
            return self.last[2]  # the next file asks for the same block
        if start < self.at:
            self._start()
        skip = np.zeros((min(start - self.at, 1 << 16), self.chain.stretcher.channels), np.float32)
        while self.at < start:
            n = min(start - self.at, skip.shape[0])
            self.chain.render(skip[:n])
            self.at += n
        block = np.zeros((stop - start, self.chain.stretcher.channels), np.float32)
        self.chain.render(block)
        self.at = stop
        self.last = (start, stop, block)
        return block


def paced_readers(
    readers: dict[str, Reader], channels: int, frames: int, samplerate: int, pace: Pace
) -> tuple[dict[str, Reader], int]:
    """``readers`` (name -> ``read(start, stop)`` of (channels, n) frames, ``frames`` long) at
    ``pace``, and how many frames they now give."""
    names = list(readers)
    song = _PacedSong([readers[n] for n in names], channels, frames, samplerate, pace)

    def reader(index: int) -> Reader:
        def read(start: int, stop: int) -> np.ndarray:
            block = song.read(start, stop)
            return np.ascontiguousarray(block[:, index * channels : (index + 1) * channels].T)

        return read

    return {name: reader(i) for i, name in enumerate(names)}, pace.frames(frames)
