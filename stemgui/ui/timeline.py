"""The state every waveform row shares: song length, playhead, loop region, the visible range
(zoom), the song's beat grid and its cues, all in frames.

``Timeline`` holds no pixels: ``WaveformView`` and ``TimeRuler`` draw it and turn clicks and
drags into ``seek_requested`` and ``loop_requested``; the player turns those into transport
commands and moves the playhead here. Loops dragged (and cues set: ``snapped``) snap to the beat
grid when ``snap_to_beats`` is on; the view never gets narrower than ``_MIN_VIEW_FRAMES``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

_MIN_VIEW_FRAMES = 256


class Timeline(QObject):
    """Playhead, loop region and visible range of the song on screen, in frames.

    Views draw it; user gestures come out as ``seek_requested`` and ``loop_requested``, which
    the player turns into transport commands (and then moves the playhead here).
    """

    changed = Signal()
    view_changed = Signal()
    seek_requested = Signal(int)
    loop_requested = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.frames = 0
        self.samplerate = 44100
        self.position = 0
        self.loop: tuple[int, int] | None = None
        self.loop_enabled = False
        self.view = (0, 0)
        self.beats: tuple[float, float] | None = None  # (first beat, beat length) in frames
        self.cues: dict[int, int] = {}  # the frame of each cue set, by number (1 to 8)
        self.snap_to_beats = True

    def reset(self, frames: int, samplerate: int) -> None:
        self.frames, self.samplerate = int(frames), int(samplerate)
        self.position, self.loop, self.loop_enabled = 0, None, False
        self.beats, self.cues = None, {}
        self.view = (0, self.frames)
        self.view_changed.emit()
        self.changed.emit()

    def set_position(self, frame: int) -> None:
        if frame != self.position:
            self.position = int(frame)
            self.changed.emit()

    def follow(self, frame: int) -> None:
        """Move the playhead while playing. When it leaves the visible range from inside it, the
        view pages along (same width, the playhead at its left edge); a view scrolled away from
        the playhead stays where the user put it."""
        start, stop = self.view
        seen = start <= self.position < stop
        self.set_position(frame)
        if seen:
            self.reveal(frame)

    def reveal(self, frame: int) -> None:
        """Page the view to ``frame`` (at its left edge, as ``follow`` does) if it is not shown."""
        start, stop = self.view
        if not start <= frame < stop:
            self.set_view(frame, frame + stop - start)

    def set_loop(self, loop: tuple[int, int] | None, enabled: bool) -> None:
        if loop != self.loop or enabled != self.loop_enabled:
            self.loop, self.loop_enabled = loop, bool(enabled)
            self.changed.emit()

    def set_beats(self, beats: tuple[float, float] | None) -> None:
        """The song's beat grid: (first beat, beat length) in frames; None: none."""
        if beats != self.beats:
            self.beats = beats
            self.changed.emit()

    def set_cues(self, cues: dict[int, int]) -> None:
        """The song's cues: the frame of each cue set, by number; {}: none."""
        if cues != self.cues:
            self.cues = dict(cues)
            self.changed.emit()

    def beat_frames(self, start: int, stop: int) -> np.ndarray:
        """The frames of the grid's beats in [start, stop) (none without a grid)."""
        if self.beats is None:
            return np.zeros(0)
        first, length = self.beats
        numbers = np.arange(np.ceil((start - first) / length), np.ceil((stop - first) / length))
        return first + numbers * length

    def snapped_region(self, start: int, stop: int) -> tuple[int, int]:
        """[start, stop) moved to the nearest beats when loops snap to a grid; as it is when
        both ends would meet on one beat (a region shorter than a beat stays as drawn)."""
        snapped = self.snapped(start), self.snapped(stop)
        return snapped if snapped[1] > snapped[0] else (start, stop)

    def snapped(self, frame: int) -> int:
        """``frame`` moved to the nearest beat (within the song) when loops snap to a grid."""
        if self.beats is None or not self.snap_to_beats:
            return frame
        first, length = self.beats
        beat = first + round((frame - first) / length) * length
        return int(min(max(round(beat), 0), self.frames))

    def set_view(self, start: int, stop: int) -> None:
        """Show frames [start, stop), kept inside the song and at least a few hundred wide."""
        width = min(max(int(stop - start), _MIN_VIEW_FRAMES), max(self.frames, 1))
        start = min(max(int(start), 0), max(self.frames - width, 0))
        if (start, start + width) != self.view:
            self.view = (start, start + width)
            self.view_changed.emit()
            self.changed.emit()

    def zoom(self, factor: float, around: int) -> None:
        """Scale the visible range by ``factor`` (< 1 zooms in), keeping frame ``around`` put."""
        start, stop = self.view
        width = stop - start
        # as wide as set_view will make it: the start placed for a narrower view than the
        # closest moved the view off the pointer at each notch of the wheel
        new_width = min(max(width * factor, _MIN_VIEW_FRAMES), max(self.frames, 1))
        share = (around - start) / width if width else 0.0
        new_start = around - share * new_width
        self.set_view(round(new_start), round(new_start + new_width))

    def zoom_anchor(self) -> int:
        """The frame a zoom by key keeps in place: the playhead where it is shown (at the
        song's end too, on the view's last column), else the middle of the view (scrolled away
        from the playhead, the view zoomed towards it and showed neither what was looked at
        nor the playhead)."""
        start, stop = self.view
        return self.position if start <= self.position <= stop else (start + stop) // 2

    def scroll(self, frames: int) -> None:
        start, stop = self.view
        self.set_view(start + frames, stop + frames)
