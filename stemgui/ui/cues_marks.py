"""How a song's cues (``cues_menu``) are drawn: on each waveform a line of the cue's colour across
the row, in front of the waveform (a loud stem does not hide it); on the time ruler a flag of that
colour with the cue's number. Unlike the beats, drawn at every zoom: a cue is one place, shown
wherever the view holds it. The colours are a DJ's hot cue pads' (red, orange, yellow, green,
cyan, blue, violet, pink), saturated enough to read on the light and the dark theme.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter

from stemgui.ui.theme import contrast

CUE_COLOURS = (
    QColor(230, 40, 40),
    QColor(245, 130, 0),
    QColor(235, 200, 0),
    QColor(40, 175, 60),
    QColor(0, 175, 205),
    QColor(40, 90, 230),
    QColor(145, 60, 215),
    QColor(230, 60, 165),
)
LINE_WIDTH = 2.0
FLAG_WIDTH = 12.0

XOf = Callable[[int], float]
"""A frame of the song -> its x on the widget drawn."""


def cue_colour(number: int) -> QColor:
    """Cue ``number``'s colour (1 to 8)."""
    return CUE_COLOURS[(number - 1) % len(CUE_COLOURS)]


def _shown(cues: dict[int, int], x_of: XOf, left: float, width: float) -> list[tuple[int, float]]:
    """(number, x) of the cues the view shows, its last column holding one at its right edge."""
    placed = ((number, x_of(frame)) for number, frame in sorted(cues.items()))
    return [(n, min(x, left + width - 1.0)) for n, x in placed if left <= x <= left + width]


def draw_cue_lines(
    painter: QPainter, cues: dict[int, int], x_of: XOf, width: float, height: float
) -> None:
    """A line across a widget ``width`` by ``height`` at each cue shown, ending at its x."""
    for number, x in _shown(cues, x_of, 0.0, width):
        painter.fillRect(QRectF(x + 1 - LINE_WIDTH, 0, LINE_WIDTH, height), cue_colour(number))


def cue_flags(
    cues: dict[int, int], x_of: XOf, left: float, width: float, height: float
) -> list[tuple[int, QRectF]]:
    """(number, flag) of each cue shown between ``left`` and ``left + width``: a flag
    ``height`` tall hung right of its x (left of it at the view's right edge). The time ruler
    leaves out the labels of its ticks a flag would cover."""
    flags = []
    for number, x in _shown(cues, x_of, left, width):
        start = x + 1 - LINE_WIDTH
        if start + FLAG_WIDTH > left + width:
            start = x + 1 - FLAG_WIDTH
        flags.append((number, QRectF(start, 0, FLAG_WIDTH, height)))
    return flags


def draw_cue_flags(painter: QPainter, flags: list[tuple[int, QRectF]]) -> None:
    """The ``flags`` (``cue_flags``), each of its cue's colour with its number in black or
    white, whichever reads better on it."""
    painter.save()
    metrics = painter.fontMetrics()
    black, white = QColor(0, 0, 0), QColor(255, 255, 255)
    for number, flag in flags:
        colour = cue_colour(number)
        painter.fillRect(flag, colour)
        painter.setPen(max(black, white, key=lambda text: contrast(text, colour)))
        label = str(number)
        baseline = (flag.height() + metrics.ascent() - metrics.descent()) / 2
        middle = flag.center().x() - metrics.horizontalAdvance(label) / 2
        painter.drawText(QPointF(middle, baseline), label)
    painter.restore()
