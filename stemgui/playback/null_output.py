"""An output without a sound card, for tests, benchmarks, screenshots and headless runs.

``NullOutput`` renders through the same chain as the sound device (``chain.Output``), either
block by block when asked (``pump``) or on a thread of its own at (a multiple of) real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from stemgui.playback.chain import Output
from stemgui.playback.renderer import HasGains
from stemgui.playback.transport import Transport
from stemgui.stems.stemset import StemSet


class NullOutput(Output):
    """Runs the output callback without a sound card: by ``pump`` calls or on its own thread.

    Args:
        stemset, mixer, transport: what to play, how loud, and where in the song.
        blocksize: frames per block of the thread.
        speed: how many times faster than real time the thread runs (``inf``: no waiting).
        sink: called with every block the thread renders, (blocksize, channels) float32,
            a buffer reused for the next block.
    """

    def __init__(
        self,
        stemset: StemSet,
        mixer: HasGains,
        transport: Transport,
        *,
        blocksize: int = 512,
        speed: float = 1.0,
        sink: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        super().__init__(stemset, mixer, transport)
        if blocksize < 1 or not speed > 0:
            raise ValueError(f"bad null output: blocksize={blocksize}, speed={speed}")
        self.blocksize = int(blocksize)
        self.speed = float(speed)
        self.sink = sink
        self._buffer = np.zeros((self.blocksize, stemset.channels), dtype=np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pump(self, frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Render the next ``frames`` frames as a callback would; return them.

        Into ``out`` (frames, channels) float32 when given, else into a new array.
        """
        if out is None:
            out = np.empty((int(frames), self.stemset.channels), dtype=np.float32)
        self.render(out[: int(frames)])
        return out[: int(frames)]

    def start(self) -> None:
        """Run the callback on a thread, one block each ``blocksize / samplerate / speed`` s."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stemgui-null-output", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (if any) and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        period = self.blocksize / self.stemset.samplerate / self.speed
        due = time.monotonic()  # when the next block is due: the render's own time counts
        while not self._stop.is_set():
            try:
                self.render(self._buffer)
                if self.sink is not None:
                    self.sink(self._buffer)
            except Exception as error:
                self._fail(f"Playback failed: {error}")
                return
            # behind (a render slower than a block): on at once, without making up the lag
            due = max(due + period, time.monotonic())
            self._stop.wait(due - time.monotonic())
