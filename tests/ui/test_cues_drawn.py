"""Cues drawn (``cues_marks``): a line of the cue's colour across a waveform, in front of a
full-scale stem, and a flag with its number on the time ruler (the label of a tick under it left
out), at every zoom: a 10-minute song seen whole and zoomed all the way in; none where the view
does not hold the cue."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from stemgui.stems.waveform import Waveform
from stemgui.ui.cues_marks import CUE_COLOURS, FLAG_WIDTH, cue_colour
from stemgui.ui.time_ruler import TimeRuler
from stemgui.ui.timeline import Timeline
from stemgui.ui.waveview import WaveformView

RATE = 44_100
WIDTH = 400
STEM = QColor(90, 90, 90)


def _rig(qtbot, frames: int):
    timeline = Timeline()
    timeline.reset(frames, RATE)
    view = WaveformView(timeline, STEM)
    view.set_waveform(Waveform(np.ones((2, frames), np.float32)))  # full scale: the whole row
    ruler = TimeRuler(timeline)
    for widget in (view, ruler):
        qtbot.addWidget(widget)
        widget.resize(WIDTH, widget.height() if widget is ruler else 60)
    return timeline, view, ruler


def _column(widget, x: int) -> set[tuple[int, int, int]]:
    image = widget.grab().toImage()
    return {image.pixelColor(x, y).getRgb()[:3] for y in range(image.height())}


def test_a_cue_is_a_line_in_front_of_the_waveform_and_a_numbered_flag(qtbot):
    timeline, view, ruler = _rig(qtbot, 40 * RATE)
    timeline.set_position(30 * RATE)  # the playhead away from the cues
    timeline.set_cues({3: 10 * RATE, 8: 40 * RATE})  # a quarter in (x 100), and the song's end
    three, eight = cue_colour(3).getRgb()[:3], cue_colour(8).getRgb()[:3]
    assert _column(view, 100) == _column(view, 99) == {three}  # 2 pixels wide, ending at its x
    assert STEM.getRgb()[:3] in _column(view, 101) and three not in _column(view, 101)
    assert _column(view, WIDTH - 1) == {eight}  # on the last column, as the playhead's line
    image = ruler.grab().toImage()
    flag = [
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(99, 99 + int(FLAG_WIDTH))
        for y in range(ruler.height())
    ]
    assert flag.count(three) > len(flag) // 2  # a flag of its colour, hung right of its line
    assert min(map(sum, flag)) < 150  # its number, in black on yellow
    assert image.pixelColor(WIDTH - 3, 2).getRgb()[:3] == eight  # at the end: hung left
    # the tick at 0:10 (x 100) under flag 3 has no label: half hidden, it read "0:|3|10"
    after = {image.pixelColor(x, y).rgb() for x in range(112, 140) for y in range(14)}
    assert len(after) == 1
    assert len({image.pixelColor(x, y).rgb() for x in range(203, 230) for y in range(14)}) > 1
    assert len(set(map(QColor.name, CUE_COLOURS))) == 8


def test_a_cue_is_drawn_at_every_zoom(qtbot):
    frames = 600 * RATE  # ten minutes seen whole: 66 150 frames a column
    timeline, view, ruler = _rig(qtbot, frames)
    timeline.set_cues({1: 150 * RATE})
    red = cue_colour(1).getRgb()[:3]
    assert _column(view, 100) == {red} and _column(ruler, 101) >= {red}
    timeline.set_view(150 * RATE - 128, 150 * RATE + 128)  # all the way in: 256 frames
    assert timeline.view == (150 * RATE - 128, 150 * RATE + 128)
    assert _column(view, WIDTH // 2) == {red} and _column(ruler, WIDTH // 2 + 1) >= {red}
    timeline.set_view(0, 100 * RATE)  # the cue off the view: drawn nowhere
    assert all(red not in _column(view, x) for x in range(0, WIDTH, 7))
