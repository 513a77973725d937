"""Exporting at the speed and in the key the song is heard at (a backing track at 80 % for
practice, the instrumental two semitones down for a singer): ``Pace`` and ``PacedFiles``.

The files go through the player's own ``Stretcher`` and ``Transposer``, offline, with every
file of the export as channels of one signal: the windows are cut where the sum of them all
(the song) continues best, the same for each, so the stems at a pace still add up to the mix at
that pace, sample for sample. The chain only goes forward, so it runs once into a spool on disk
(a 4-minute song's five files at 80 %: 530 MB) that every pass over the files reads.
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

    def __post_init__(self) -> None:
        from stemgui.playback.pitch import SEMITONES
        from stemgui.playback.stretch import MAX_SPEED, MIN_SPEED

        # outside them the chain plays at its limit while ``frames`` counts the asked-for length
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise ValueError(
                f"a speed of {self.speed} times the song's: it must be from {MIN_SPEED} to "
                f"{MAX_SPEED}"
            )
        if self.semitones not in SEMITONES:
            raise ValueError(
                f"{self.semitones} semitones: it must be from {min(SEMITONES)} to {max(SEMITONES)}"
            )

    @property
    def normal(self) -> bool:
        return self.speed == 1.0 and self.semitones == 0

    @property
    def label(self) -> str:
        """In file names and titles: "90%", "100% +2st", "75% -3st", "33.3%": the percent with
        as many decimals as the speed has, so that two speeds never share a name."""
        from stemgui.playback.stretch import speed_percent

        steps = f" {self.semitones:+d}st" if self.semitones else ""
        return f"{speed_percent(self.speed)}%{steps}"

    def frames(self, frames: int) -> int:
        """How long ``frames`` frames of the song last at this pace."""
        return max(1, round(frames / self.speed))


class _Joined:
    """The files' readers side by side as the channels of one signal, for ``Stretcher``: its
    stems, each file's own, are what it writes (nothing mixes them)."""

    transport = None  # the pace never changes during an export: never handed back

    def __init__(self, readers: list[Reader], channels: int, frames: int) -> None:
        self.readers, self.channels, self.frames = readers, channels, frames
        self.width = channels * len(readers)
        self.at = 0

    def render(self, out: np.ndarray, on_run: Callable[[int, int, int], None] | None = None) -> int:
        n = max(0, min(out.shape[0], self.frames - self.at))
        out[n:] = 0.0
        if n == 0:
            return 0
        for i, read in enumerate(self.readers):
            out[:n, i * self.channels : (i + 1) * self.channels] = read(self.at, self.at + n).T
        if on_run is not None:
            on_run(0, self.at, n)
        self.at += n
        return n

    render_stems = render

    def mix_stems(self, stems: np.ndarray, out: np.ndarray, *, advance: bool = True) -> None:
        out[: stems.shape[0]] = stems

    def heard(self, stems: np.ndarray) -> np.ndarray:
        return stems.sum(axis=1)

    def follow_on(self, frame: int | None) -> None:
        pass


class PacedFiles:
    """Every file of an export at ``pace``, spooled: the chain runs once, forward, into a
    temporary ``StemSpool`` (files, channels, frames) as far as the reads have asked, and each
    file is read from there (a peak pass, then the writing pass, read it twice). ``close``
    deletes the spool.

    Args:
        readers: name -> ``read(start, stop)`` of (channels, n) frames of each file.
        channels, frames, samplerate: of the files as they are.
        pace: the speed and semitones to write them at.

    Raises:
        FileError: no room for the spool in the temporary folder (``reserved_memmap``).
    """

    def __init__(
        self,
        readers: dict[str, Reader],
        channels: int,
        frames: int,
        samplerate: int,
        pace: Pace,
    ) -> None:
        from stemgui.audio.stream import stem_reader
        from stemgui.playback.pitch import Transposer
        from stemgui.playback.stretch import Stretcher
        from stemgui.spool import StemSpool

        names = list(readers)
        self.frames = pace.frames(frames)
        self.spool = StemSpool((len(names), channels, self.frames))
        joined = _Joined([readers[name] for name in names], channels, frames)
        stretcher = Stretcher(joined, channels * len(names), samplerate)
        self._chain = Transposer(stretcher, limit=False)  # the export rescales its files
        self._chain.speed, self._chain.semitones = pace.speed, pace.semitones
        self._shape = (len(names), channels)
        self._done = 0
        self.readers: dict[str, Reader] = {}
        for index, name in enumerate(names):
            read = stem_reader(self.spool.array, index)
            self.readers[name] = lambda a, b, read=read: (self._fill(b), read(a, b))[1]

    def _fill(self, stop: int) -> None:
        """Run the chain on until the spool holds frames [0, stop)."""
        array = self.spool.array
        while self._done < stop:
            n = min(_BLOCK, self.frames - self._done)
            block = np.zeros((n, self._shape[0] * self._shape[1]), np.float32)
            self._chain.render(block)
            array[:, :, self._done : self._done + n] = block.T.reshape(*self._shape, n)
            self._done += n
            self.spool.release(self._done)  # in the file, not in this process's memory

    def close(self) -> None:
        self.spool.close()


_BLOCK = 1 << 15
