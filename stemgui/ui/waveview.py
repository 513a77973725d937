"""The waveform of one stem, drawn from its min/max envelope, with playhead, loop region, beat
grid and cues (``cues_marks``).

``WaveformView`` draws one ``stemgui.stems.waveform.Waveform`` over the ``Timeline``'s visible
range: one envelope query of ``width`` columns, cached as a pixmap until the size, the range or
the frames ready change, so a 10-minute song draws as fast as a short one and moving the
playhead only repaints a line. A click seeks; a drag selects a loop region (from beat to beat
where the song has a grid and ``snap_to_beats`` is on); the wheel zooms around the pointer
(Shift+wheel scrolls). Beats are drawn once they are ``MIN_BEAT_PIXELS`` apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from stemgui.ui.cues_marks import draw_cue_lines
from stemgui.ui.timeline import Timeline

_DRAG_PIXELS = 4  # a press that moves less than this is a click
MIN_BEAT_PIXELS = 10


def envelope_columns(mins: np.ndarray, maxs: np.ndarray, height: int, colour: QColor) -> QImage:
    """One pixel column per envelope bin, filled from max (top) to min (bottom), full scale at
    the image's edges; rows the span only partly covers get that fraction of the colour's alpha
    (antialiased ends). A span is at least one pixel tall, so silence shows as a line, and
    reaches its left neighbour's, so that a wave zoomed in past a frame per column is a line
    too, not dots with gaps between them.

    Built with numpy (a few operations on height x width values): drawing the same shape as a
    polygon through QPainter took 25 ms per row at 1100 x 90, most of a repaint.
    """
    middle, scale = height / 2, height / 2 - 1
    top = (middle - np.clip(maxs, -1, 1) * scale).astype(np.float32)
    bottom = np.maximum(middle - np.clip(mins, -1, 1) * scale, top + 1).astype(np.float32)
    above, below = top[:-1].copy(), bottom[:-1].copy()  # each column's left neighbour
    top[1:] = np.minimum(top[1:], below)
    bottom[1:] = np.maximum(bottom[1:], above)
    rows = np.arange(height, dtype=np.float32)[:, None]
    cover = np.minimum(rows + 1, bottom) - np.maximum(rows, top)  # (height, width)
    alpha = (np.clip(cover, 0, 1) * colour.alpha() + 0.5).astype(np.uint32)
    rgb = (colour.red() << 16) | (colour.green() << 8) | colour.blue()
    pixels = np.ascontiguousarray((alpha << 24) | rgb, dtype=np.uint32)
    width = pixels.shape[1]
    image = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_ARGB32)
    return image.copy()  # owns its pixels: ``pixels`` goes when this returns


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
        """The waveform over the visible range at the current size (cached), one column per
        device pixel (two per point on a screen at 200 %)."""
        ready = self._waveform.frames_ready if self._waveform is not None else 0
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, self.timeline.view, ready, self.dimmed)
        if key != self._cache_key or self._pixmap is None:
            self._pixmap = self._render(max(self.width(), 1), max(self.height(), 1), ratio)
            self._cache_key = key
        return self._pixmap

    def _render(self, width: int, height: int, ratio: float) -> QPixmap:
        columns, rows = max(round(width * ratio), 1), max(round(height * ratio), 1)
        pixmap = QPixmap(columns, rows)
        pixmap.setDevicePixelRatio(ratio)  # painted below in points, as the widget
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
            mins, maxs = self._waveform.envelope(start, stop, columns)
            image = envelope_columns(mins, maxs, rows, colour)
            image.setDevicePixelRatio(ratio)
            painter.drawImage(0, 0, image)
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
        draw_cue_lines(painter, timeline.cues, self.x_of, self.width(), height)
        x = self.x_of(timeline.position)
        if 0 <= x <= self.width():  # not when the view shows another part (the ruler neither)
            # the last frame's line at x == width would fall one pixel outside the widget (End)
            x = min(x, self.width() - 1.0)
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
