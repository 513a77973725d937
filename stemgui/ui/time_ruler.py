"""The ruler of seconds above the waveforms: ticks spaced to stay legible at any zoom, the cues'
numbered flags (``cues_marks``), the playhead's marker, and a click that seeks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPolygonF
from PySide6.QtWidgets import QWidget

from stemgui.ui.clock import clock
from stemgui.ui.cues_marks import cue_flags, draw_cue_flags
from stemgui.ui.timeline import Timeline
from stemgui.ui.waveview import WaveformView

_TICK_STEPS = (
    # down to a millisecond: zoomed all the way in (the timeline's 256 frames, 6 ms at
    # 44.1 kHz), a tenth of a second apart left one tick or none
    *(0.001, 0.002, 0.005, 0.01, 0.02, 0.05),
    *(0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600),
)
_MIN_TICK_PIXELS = 70


def tick_step(seconds_visible: float, pixels: int) -> float:
    """The smallest step of ``_TICK_STEPS`` that leaves ``_MIN_TICK_PIXELS`` between ticks."""
    for step in _TICK_STEPS:
        if pixels and step / max(seconds_visible, 1e-9) * pixels >= _MIN_TICK_PIXELS:
            return step
    return _TICK_STEPS[-1]


def tick_label(seconds: float, step: float) -> str:
    """The tick's time with as many decimals as its ``step`` needs ("0:00.005" a millisecond
    apart)."""
    return clock(seconds, sum(step < limit for limit in (1, 0.1, 0.01)))


class TimeRuler(QWidget):
    """Seconds above the waveforms, lined up with ``align_to`` (a ``WaveformView``, set by
    ``align``); click seeks."""

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.align_to: WaveformView | None = None
        self.setFixedHeight(20)
        timeline.changed.connect(self.update)

    def align(self, view: WaveformView | None) -> None:
        """Line the ticks up with ``view`` (a row's waveform), redrawn as it is resized: the
        scroll bar that comes with many stems narrows the rows below, not the ruler."""
        if self.align_to is not None:
            self.align_to.removeEventFilter(self)
        self.align_to = view
        if view is not None:
            view.installEventFilter(self)
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.align_to and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self.update()
        return False

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

        def x_of(frame: int) -> float:
            return left + (frame / rate - first) / (last - first) * width

        flags = cue_flags(timeline.cues, x_of, left, width, self.height())
        tick = np.ceil(first / step) * step
        metrics = painter.fontMetrics()
        while tick <= last:
            x = left + (tick - first) / (last - first) * width
            painter.drawLine(QPointF(x, self.height() - 6), QPointF(x, self.height()))
            label = tick_label(tick, step)
            shown = QRectF(x + 3, 0, metrics.horizontalAdvance(label), self.height())
            # whole, or not at all; nor under a cue's flag
            if shown.right() <= self.width() and not any(f.intersects(shown) for _, f in flags):
                painter.drawText(QPointF(x + 3, self.height() - 7), label)
            tick += step
        draw_cue_flags(painter, flags)
        x = x_of(timeline.position)
        if left <= x <= left + width:
            x = min(x, left + width - 1.0)  # over the waveforms' last column, as their line
            painter.setBrush(colour)
            painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 7)]))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        left, width = self._span()
        start, stop = self.timeline.view
        share = (event.position().x() - left) / width if width > 0 else -1.0
        # over the waveforms only: above the stems' names it shows no time (it sought the start)
        if 0 <= share <= 1 and stop > start and event.button() == Qt.MouseButton.LeftButton:
            self.timeline.seek_requested.emit(round(start + share * (stop - start)))
