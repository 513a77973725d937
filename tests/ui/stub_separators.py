"""Separators that stand in for a loaded model in the window tests: one that separates half
a song and waits at a gate, and one that loads but cannot separate."""

from __future__ import annotations

from typing import ClassVar

from tests.ui.conftest import TIMEOUT_MS


class HalfwaySeparator:
    """Writes the first half of the stems, reports it ready, then waits for the gate."""

    sources: ClassVar[list[str]] = ["drums", "bass", "other", "vocals"]
    samplerate = 8000

    class model:
        audio_channels = 2

    def __init__(self, gate):
        self.gate = gate

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import SeparationCancelled
        from stemgui.separation.progress import Progress

        half = buffer.shape[1] // 2
        out[:, :, :half] = buffer[None, :, :half] / 4
        on_progress(Progress(1, 2, 0, 1, 0.5, 1.0, 0.5, half))
        assert self.gate.wait(TIMEOUT_MS / 1000)
        if cancel.is_set():
            raise SeparationCancelled("cancelled")
        out[:, :, half:] = buffer[None, :, half:] / 4
        on_progress(Progress(2, 2, 0, 1, 1.0, 1.0, 1.0, buffer.shape[1]))
        return out


class CannotSeparate(HalfwaySeparator):
    """A model that loads, and whose network fails inside its forward."""

    def __init__(self):
        super().__init__(None)

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import ModelRunError

        raise ModelRunError(
            "the model's HTDemucs network cannot separate any song (x); choose another model"
        )
