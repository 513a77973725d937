"""The waveform of one stem, drawn from its min/max envelope, with playhead, loop region and
beat grid.

``Timeline`` is the state every row shares: song length, playhead, loop region, the visible
range (zoom) and the song's beat grid, which loops dragged snap to. ``WaveformView`` draws
one ``stemgui.stems.waveform.Waveform`` over the visible range: one envelope query of
``width`` columns, cached as a pixmap until the size, the range or the frames ready change, so
a 10-minute song draws as fast as a short one and moving the playhead only repaints a line. A
click seeks; a drag selects a loop region (from beat to beat where the song has a grid and
``snap_to_beats`` is on); the wheel zooms around the pointer (Shift+wheel scrolls). Beats are
drawn once they are ``MIN_BEAT_PIXELS`` apart.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

logger = logging.getLogger(__name__)

_DRAG_PIXELS = 4  # a press that moves less than this is a click
MIN_BEAT_PIXELS = 10
_MIN_VIEW_FRAMES = 256


def envelope_columns(mins: np.ndarray, maxs: np.ndarray, height: int, colour: QColor) -> QImage:
    """One pixel column per envelope bin, filled from max (top) to min (bottom), full scale at
    the image's edges; rows the span only partly covers get that fraction of the colour's alpha
    (antialiased ends). A span is at least one pixel tall, so silence shows as a line.

    Built with numpy (a few operations on height x width values): drawing the same shape as a
    polygon through QPainter took 25 ms per row at 1100 x 90, most of a repaint.
    """
    middle, scale = height / 2, height / 2 - 1
    top = (middle - np.clip(maxs, -1, 1) * scale).astype(np.float32)
    bottom = np.maximum(middle - np.clip(mins, -1, 1) * scale, top + 1).astype(np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    cover = np.minimum(rows + 1, bottom) - np.maximum(rows, top)  # (height, width)
    alpha = (np.clip(cover, 0, 1) * colour.alpha() + 0.5).astype(np.uint32)
    rgb = (colour.red() << 16) | (colour.green() << 8) | colour.blue()
    pixels = np.ascontiguousarray((alpha << 24) | rgb, dtype=np.uint32)
    width = pixels.shape[1]
    image = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_ARGB32)
    return image.copy()  # owns its pixels: ``pixels`` goes when this returns


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
        self.snap_to_beats = True

    def reset(self, frames: int, samplerate: int) -> None:
        self.frames, self.samplerate = int(frames), int(samplerate)
        self.position, self.loop, self.loop_enabled = 0, None, False
        self.beats = None
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
        if self.beats is None or not self.snap_to_beats:
            return start, stop
        first, length = self.beats

        def snap(frame: int) -> int:
            beat = first + round((frame - first) / length) * length
            return int(min(max(round(beat), 0), self.frames))

        snapped = snap(start), snap(stop)
        return snapped if snapped[1] > snapped[0] else (start, stop)

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
        new_width = width * factor
        share = (around - start) / width if width else 0.0
        new_start = around - share * new_width
        self.set_view(round(new_start), round(new_start + new_width))

    def scroll(self, frames: int) -> None:
        start, stop = self.view
        self.set_view(start + frames, stop + frames)


LOOP_FILL = QColor(255, 200, 0, 70)  # the loop region, when looping (or being dragged)
LOOP_OFF = QColor(255, 200, 0, 30)  # a loop region set aside (Loop off)
LOOP_EDGE = QColor(214, 150, 0)


class WaveformView(QWidget):
    """One waveform row. ``set_waveform(None)`` draws an empty row."""

    def __init__(self, timeline: Timeline, colour: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.colour = QColor(colour)
        self.dimmed = False
        self._waveform: Any = None
        self._cache_key: tuple | None = None
        self._pixmap: QPixmap | None = None
        self._press_x: float | None = None
        # the frame under the press, taken then: the view may page along with the playhead
        # before the release, and the press's x then names another frame
        self._press_frame = 0
        self._drag: tuple[int, int] | None = None
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(False)
        timeline.changed.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(600, 64)

    def set_waveform(self, waveform: Any) -> None:
        self._waveform = waveform
        self._cache_key = None
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        if dimmed != self.dimmed:
            self.dimmed = dimmed
            self._cache_key = None
            self.update()

    def refresh(self) -> None:
        """Redraw after the waveform took in more frames."""
        self.update()

    # -- coordinates ------------------------------------------------------------------------

    def frame_at(self, x: float) -> int:
        start, stop = self.timeline.view
        width = max(self.width(), 1)
        frame = start + (x / width) * (stop - start)
        return int(min(max(round(frame), 0), self.timeline.frames))

    def x_of(self, frame: int) -> float:
        start, stop = self.timeline.view
        if stop <= start:
            return 0.0
        return (frame - start) / (stop - start) * self.width()

    # -- drawing ----------------------------------------------------------------------------

    def envelope_image(self) -> QPixmap:
        """The waveform over the visible range at the current size (cached)."""
        ready = self._waveform.frames_ready if self._waveform is not None else 0
        key = (self.width(), self.height(), self.timeline.view, ready, self.dimmed)
        if key != self._cache_key or self._pixmap is None:
            self._pixmap = self._render(max(self.width(), 1), max(self.height(), 1))
            self._cache_key = key
        return self._pixmap

    def _render(self, width: int, height: int) -> QPixmap:
        pixmap = QPixmap(width, height)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        middle = height / 2
        colour = QColor(self.colour)
        if self.dimmed:
            colour.setAlpha(70)
        painter.setPen(QColor(colour.red(), colour.green(), colour.blue(), 60))
        painter.drawLine(0, int(middle), width, int(middle))
        start, stop = self.timeline.view
        if self._waveform is not None and stop > start:
            mins, maxs = self._waveform.envelope(start, stop, width)
            painter.drawImage(0, 0, envelope_columns(mins, maxs, height, colour))
            ready_x = self.x_of(self._waveform.frames_ready)
            if ready_x < width:  # still separating: hatch what is not there yet
                painter.fillRect(
                    QRectF(ready_x, 0, width - ready_x, height),
                    QColor(128, 128, 128, 40),
                )
        painter.end()
        return pixmap

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        height = self.height()
        timeline = self.timeline
        region = self._drag or timeline.loop
        active = bool(self._drag or timeline.loop_enabled)
        if region is not None:  # behind the waveform: over it, it washed the stems' colours out
            a, b = self.x_of(region[0]), self.x_of(region[1])
            painter.fillRect(QRectF(a, 0, b - a, height), LOOP_FILL if active else LOOP_OFF)
        self._draw_beats(painter)
        painter.drawPixmap(0, 0, self.envelope_image())
        if region is not None and active:  # its edges, in front, so that it reads over a loud stem
            painter.setPen(LOOP_EDGE)
            for x in (a, b - 1.0):
                painter.drawLine(QPointF(x, 0), QPointF(x, height))
        # the last frame's line at x == width would fall one pixel outside the widget (End)
        x = min(self.x_of(timeline.position), self.width() - 1.0)
        painter.setPen(QColor(255, 255, 255) if self._is_dark() else QColor(0, 0, 0))
        painter.drawLine(QPointF(x, 0), QPointF(x, height))
        painter.end()

    def _draw_beats(self, painter: QPainter) -> None:
        """The beat grid behind the waveform, once its beats are ``MIN_BEAT_PIXELS`` apart."""
        timeline = self.timeline
        start, stop = timeline.view
        if timeline.beats is None or stop <= start:
            return
        if timeline.beats[1] / (stop - start) * self.width() < MIN_BEAT_PIXELS:
            return
        colour = QColor(self.palette().windowText().color())
        colour.setAlpha(32)
        painter.setPen(colour)
        height = self.height()
        for frame in timeline.beat_frames(start, stop):
            x = self.x_of(frame)
            painter.drawLine(QPointF(x, 0), QPointF(x, height))

    def _is_dark(self) -> bool:
        return self.palette().window().color().lightness() < 128

    # -- gestures ---------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.timeline.frames:
            self._press_x = event.position().x()
            self._press_frame = self.frame_at(self._press_x)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press_x is None:
            return
        x = event.position().x()
        if self._drag is not None or abs(x - self._press_x) >= _DRAG_PIXELS:
            a, b = sorted((self._press_frame, self.frame_at(x)))
            self._drag = self.timeline.snapped_region(a, b)
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press_x is None or event.button() != Qt.MouseButton.LeftButton:
            return
        x, press = event.position().x(), self._press_x
        dragged = self._drag is not None or abs(x - press) >= _DRAG_PIXELS
        self._press_x, self._drag = None, None
        if dragged:
            a, b = self.timeline.snapped_region(*sorted((self._press_frame, self.frame_at(x))))
            if b > a:
                self.timeline.loop_requested.emit(a, b)
        else:
            self.timeline.seek_requested.emit(self.frame_at(x))
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps or not self.timeline.frames:
            return
        start, stop = self.timeline.view
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.timeline.scroll(int(-steps * (stop - start) / 10))
        else:
            around = self.frame_at(event.position().x())
            self.timeline.zoom(0.8**steps, around)
        event.accept()


_TICK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
_MIN_TICK_PIXELS = 70


def tick_step(seconds_visible: float, pixels: int) -> float:
    """The smallest step of ``_TICK_STEPS`` that leaves ``_MIN_TICK_PIXELS`` between ticks."""
    for step in _TICK_STEPS:
        if pixels and step / max(seconds_visible, 1e-9) * pixels >= _MIN_TICK_PIXELS:
            return step
    return _TICK_STEPS[-1]


def clock(seconds: float, decimals: int = 1) -> str:
    """``m:ss.t`` (``m:ss`` for no decimals), rounded whole: 59.97 s is 1:00.0, not 0:60.0."""
    scale = 10**decimals
    minutes, rest = divmod(round(max(0.0, seconds) * scale), 60 * scale)
    width = 3 + decimals if decimals else 2
    return f"{minutes}:{rest / scale:0{width}.{decimals}f}"


def loop_times(start: float, end: float, decimals: int = 1) -> tuple[str, str]:
    """A loop region's times and its length, as the clock shows them: ("0:08.4–0:12.6",
    "4.2 s"); a minute or longer, its length on the clock too ("1:02.5")."""
    length = end - start
    span = f"{length:.{decimals}f} s" if length < 60 else clock(length, decimals)
    return f"{clock(start, decimals)}–{clock(end, decimals)}", span


def tick_label(seconds: float, step: float) -> str:
    return clock(seconds, 1 if step < 1 else 0)


class TimeRuler(QWidget):
    """Seconds above the waveforms, lined up with ``align_to`` (a ``WaveformView``); click seeks."""

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.align_to: WaveformView | None = None
        self.setFixedHeight(20)
        timeline.changed.connect(self.update)

    def _span(self) -> tuple[float, float]:
        view = self.align_to
        if view is None or not view.isVisible():
            return 0.0, float(self.width())
        left = view.mapTo(self.window(), view.rect().topLeft()).x()
        left -= self.mapTo(self.window(), self.rect().topLeft()).x()
        return float(left), float(view.width())

    def paintEvent(self, event: QPaintEvent) -> None:
        timeline = self.timeline
        start, stop = timeline.view
        if stop <= start or not timeline.samplerate:
            return
        left, width = self._span()
        rate = timeline.samplerate
        first, last = start / rate, stop / rate
        step = tick_step(last - first, int(width))
        painter = QPainter(self)
        colour = self.palette().windowText().color()
        painter.setPen(colour)
        tick = np.ceil(first / step) * step
        metrics = painter.fontMetrics()
        while tick <= last:
            x = left + (tick - first) / (last - first) * width
            painter.drawLine(QPointF(x, self.height() - 6), QPointF(x, self.height()))
            label = tick_label(tick, step)
            if x + 3 + metrics.horizontalAdvance(label) <= self.width():  # whole, or not at all
                painter.drawText(QPointF(x + 3, self.height() - 7), label)
            tick += step
        x = left + (timeline.position / rate - first) / (last - first) * width
        if left <= x <= left + width:
            x = min(x, left + width - 1.0)  # over the waveforms' last column, as their line
            painter.setBrush(colour)
            painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 7)]))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        left, width = self._span()
        start, stop = self.timeline.view
        if width > 0 and stop > start and event.button() == Qt.MouseButton.LeftButton:
            share = min(max((event.position().x() - left) / width, 0.0), 1.0)
            self.timeline.seek_requested.emit(round(start + share * (stop - start)))
