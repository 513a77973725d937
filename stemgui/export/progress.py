"""How far an export has got, and stopping it between two blocks.

``export`` reads every file's samples a block at a time (``stemgui.audio.stream``): a pass for the
one divisor of the ``rescale`` clip mode, perhaps a pass for a file's own peak, and the pass that
writes it. ``ExportProgress`` counts the frames of every pass before the first is read, then wraps
each block reader so that, before a block, the cancel token is looked at (``ExportCancelled``
once it is set), and after it ``on_progress`` gets the fraction of all the frames read so far.

Payload of ``on_progress``: one float from 0 to 1, rising, over every file of that one export
(one song); 1.0 once its files are in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stemgui.errors import CancelToken, ExportCancelled

if TYPE_CHECKING:
    import numpy as np

    from stemgui.audio.stream import BlockReader

ProgressCallback = Callable[[float], None]
"""Called with the fraction done, 0 to 1, after each block (on the exporting thread)."""


class ExportProgress:
    """Frames read out of ``total``, reported to ``on_progress``; ``cancel`` checked per block.

    Args:
        total: frames every pass of the export reads, all files together (at least 1 counted).
        on_progress: told the fraction done after every block; None: told nothing.
        cancel: looked at before every block; once set, ``ExportCancelled``.
        what: what is exported (the song), named in the ``ExportCancelled`` message.
    """

    def __init__(
        self,
        total: int,
        on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        what: str = "",
    ) -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self.on_progress = on_progress
        self.cancel = cancel
        self.what = what

    def check(self) -> None:
        """Raise ``ExportCancelled`` if the export was cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            of = f" of {self.what}" if self.what else ""
            raise ExportCancelled(f"export{of} cancelled; none of its files were kept")

    def reading(self, read: BlockReader) -> BlockReader:
        """``read``, checking the cancel token before each block and counting it after."""

        def counted(start: int, stop: int) -> np.ndarray:
            self.check()
            block = read(start, stop)
            self.advance(stop - start)
            return block

        return counted

    def advance(self, frames: int) -> None:
        self.done += frames
        if self.on_progress is not None:
            self.on_progress(min(self.done / self.total, 1.0))

    def finish(self) -> None:
        """Every file is in place: report 1.0 (a pass counted but not read, say, an empty one)."""
        if self.on_progress is not None:
            self.on_progress(1.0)
