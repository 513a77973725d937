"""What played when the stretcher was cut, fading out over what plays next: ``FadeTail``.

Paused, stopped or sought, or its loop changed, ``Stretcher`` (``stemgui.playback.stretch``)
drops the song it holds ahead at the next block, as the renderer does at speed 1: what was
about to play goes on for ``FADE_SECONDS`` fading out (the tail), added onto whatever plays
next and limited as the renderer's cuts are. A cut inside the last one's fade folds what was
left of that tail into its own.
"""

from __future__ import annotations

import numpy as np

from stemgui.playback.renderer import FADE_SECONDS, soft_limit


class FadeTail:
    """The tail of the last cut, played out block by block.

    Args:
        samplerate: of what it plays; the fade is ``FADE_SECONDS`` long (at least one frame),
            as the renderer's cuts.
    """

    def __init__(self, samplerate: int) -> None:
        self.fade = max(1, round(FADE_SECONDS * samplerate))
        self._fade_out = (1.0 - np.arange(1, self.fade + 1) / self.fade).astype(np.float32)
        self._left: np.ndarray | None = None  # what is still to play of it
        self._scratch = np.empty((2, 4096), np.float32)

    def cut(self, heard: np.ndarray) -> None:
        """``heard`` (frames, channels) float32, what would have played next (``fade`` frames
        at most), fades out from its first frame on; what was left of the last tail is added
        to it. Changed in place and kept."""
        heard *= self._fade_out[: heard.shape[0], None]
        if self._left is not None:  # a cut inside the last one's fade
            heard[: self._left.shape[0]] += self._left
        self._left = heard

    def play(self, out: np.ndarray) -> None:
        """Add the tail's next frames onto ``out`` (frames, channels), limited as the
        renderer's cuts are (a cut inside another's fades adds up past the song)."""
        if self._left is None:
            return
        n = min(out.shape[0], self._left.shape[0])
        out[:n] += self._left[:n]
        soft_limit(out[:n], self._scratch)
        self._left = self._left[n:] if n < self._left.shape[0] else None
