"""The waveform image: one filled pixel column per envelope bin, antialiased at its ends."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from stemgui.ui.clock import clock, loop_times
from stemgui.ui.time_ruler import tick_label, tick_step
from stemgui.ui.timeline import Timeline
from stemgui.ui.waveview import envelope_columns


def alphas(image) -> np.ndarray:
    """(height, width) alpha of an ARGB32 image, with every pixel checked to be pure red."""
    rows = []
    for y in range(image.height()):
        row = []
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha():
                assert (pixel.red(), pixel.green(), pixel.blue()) == (255, 0, 0)
            row.append(pixel.alpha())
        rows.append(row)
    return np.array(rows)


def test_columns_fill_from_max_to_min_with_partial_rows_at_the_ends(qapp):
    # height 10: the middle is y = 5 and full scale is 4 pixels. Column 0 spans 0.8 .. -0.8, so
    # y from 1.8 to 8.2: rows 2-7 whole, rows 1 and 8 a fifth covered. Column 1 is silence, a
    # one-pixel line (row 5). Column 2 goes beyond full scale: clipped to y 1 .. 9.
    image = envelope_columns(
        np.array([-0.8, 0.0, -3.0], np.float32),
        np.array([0.8, 0.0, 2.0], np.float32),
        10,
        QColor(255, 0, 0, 200),
    )
    assert (image.width(), image.height()) == (3, 10)
    a = alphas(image)
    assert a[:, 0].tolist() == [0, 40, 200, 200, 200, 200, 200, 200, 40, 0]
    assert a[:, 1].tolist() == [0, 0, 0, 0, 0, 200, 0, 0, 0, 0]
    assert a[:, 2].tolist() == [0, 200, 200, 200, 200, 200, 200, 200, 200, 0]


def test_a_column_entirely_above_the_middle(qapp):
    # min 0.25, max 0.5 in a 10-pixel row: y from 3 to 4, exactly one row, alpha of the colour.
    image = envelope_columns(
        np.array([0.25], np.float32), np.array([0.5], np.float32), 10, QColor(255, 0, 0)
    )
    assert alphas(image)[:, 0].tolist() == [0, 0, 0, 255, 0, 0, 0, 0, 0, 0]


def test_columns_of_a_frame_each_join_into_a_line(qapp):
    """Zoomed in past a frame per column, each column held one value: a steep wave was drawn
    as dots with gaps between them. Each column now reaches its left neighbour's nearest
    value. Height 10 (middle y = 5, full scale 4 pixels): 0, then 0.5 (y = 3), then -0.5 (y =
    7): rows 5, then 3-4 (down to beside the first), then 4-7 (up to beside the second)."""
    image = envelope_columns(
        np.array([0.0, 0.5, -0.5], np.float32),
        np.array([0.0, 0.5, -0.5], np.float32),
        10,
        QColor(255, 0, 0),
    )
    a = alphas(image)
    assert a[:, 0].tolist() == [0, 0, 0, 0, 0, 255, 0, 0, 0, 0]
    assert a[:, 1].tolist() == [0, 0, 0, 255, 255, 0, 0, 0, 0, 0]  # was row 3 alone
    assert a[:, 2].tolist() == [0, 0, 0, 0, 255, 255, 255, 255, 0, 0]  # was row 7 alone


def test_times_round_as_a_whole_and_never_read_60_seconds():
    assert clock(59.97) == "1:00.0"  # was 0:60.0: the seconds rounded after the minutes split
    assert clock(59.94) == "0:59.9"
    assert clock(0.04) == "0:00.0" and clock(-1.0) == "0:00.0"
    assert clock(125.25, 0) == "2:05" and clock(119.6, 0) == "2:00"
    assert clock(3600.0) == "60:00.0"


def test_a_half_rounds_up_as_a_clock_reads():
    """round() took a half to even: a 0.05 s song read "0:00.0 / 0:00.0"."""
    assert clock(0.05) == "0:00.1" and clock(0.25) == "0:00.3" and clock(0.15) == "0:00.2"
    assert clock(2.5, 0) == "0:03" and clock(59.95) == "1:00.0" and clock(0.005, 2) == "0:00.01"
    assert loop_times(1.0, 1.25) == ("0:01.0–0:01.3", "0.3 s")
    assert tick_label(59.96, 0.5) == "1:00.0" and tick_label(59.6, 5) == "1:00"


def test_the_ruler_has_ticks_zoomed_all_the_way_in():
    """256 frames at 44.1 kHz (6 ms) over 620 pixels: a tenth of a second between ticks left
    one or none, and no time to read."""
    step = tick_step(256 / 44100, 620)
    assert step == 0.001 and tick_label(0.049, step) == "0:00.049"
    assert tick_label(0.05, 0.02) == "0:00.05" and tick_label(1.26, 0.1) == "0:01.3"


def test_a_zoomed_view_pages_along_with_the_playhead_it_shows(qapp):
    timeline = Timeline()
    timeline.reset(100_000, 1000)
    timeline.set_view(0, 10_000)
    timeline.follow(9_000)
    assert timeline.view == (0, 10_000)  # still on screen
    timeline.follow(11_000)  # ran off the right edge: the next page
    assert timeline.view == (11_000, 21_000) and timeline.position == 11_000
    timeline.follow(5_000)  # a loop went back before the view
    assert timeline.view == (5_000, 15_000)
    timeline.set_view(50_000, 60_000)  # the user looks elsewhere while it plays
    timeline.follow(16_000)
    assert timeline.view == (50_000, 60_000) and timeline.position == 16_000
    timeline.set_view(90_000, 100_000)
    timeline.set_position(99_000)
    timeline.follow(100_000)  # the end of the song: the last page stays
    assert timeline.view == (90_000, 100_000)


def test_zoom_keys_keep_the_playhead_or_else_the_middle_of_the_view_in_place(
    qtbot, settings_store, tmp_path
):
    """Ctrl++ with the playhead off screen (the view scrolled or wheel-zoomed away from it)
    showed a part of the song between the two, neither what was looked at nor the playhead:
    it kept the playhead's place as if the view reached out to it."""
    from tests.ui.song_window import model_window, show_song

    win = model_window(qtbot, settings_store, None)
    show_song(win, tmp_path / "a.wav", model_name="m")  # 32 000 frames
    win.timeline.set_view(10_000, 20_000)
    win.timeline.set_position(12_000)  # on screen: it stays where it is shown
    win.menu_bar.zoom(0.5)
    assert win.timeline.view == (11_000, 16_000)
    win.timeline.set_view(10_000, 20_000)
    win.timeline.set_position(30_000)  # off screen: the middle of the view stays instead
    win.menu_bar.zoom(0.5)
    assert win.timeline.view == (12_500, 17_500)  # was (20_000, 25_000): neither
    win.menu_bar.zoom(2.0)
    assert win.timeline.view == (10_000, 20_000)
    win.menu_bar.zoom_all()
    win.player.seek_end()  # drawn on the last column: the end stays on screen
    win.menu_bar.zoom(0.5)
    assert win.timeline.view == (16_000, 32_000)
    win.close()


def _paged_view(qtbot, height: int):
    """A waveform view 1000 pixels wide of the first tenth of a 100 000-frame song."""
    from stemgui.ui.waveview import WaveformView

    timeline = Timeline()
    timeline.reset(100_000, 1000)
    timeline.set_view(0, 10_000)
    view = WaveformView(timeline, QColor("red"))
    qtbot.addWidget(view)
    view.resize(1000, height)
    return timeline, view


def test_a_loop_dragged_while_the_view_pages_starts_where_the_press_was(qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    timeline, view = _paged_view(qtbot, 80)
    loops = []
    timeline.loop_requested.connect(lambda a, b: loops.append((a, b)))
    QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 40))  # frame 1000
    QTest.mouseMove(view, QPoint(150, 40))
    timeline.follow(11_000)  # playing: the view pages on to 11 000 - 21 000 mid-drag
    QTest.mouseMove(view, QPoint(200, 40))
    assert view._drag == (1000, 13_000)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 40))  # frame 13 000
    assert loops == [(1000, 13_000)]  # not 11 000 - 13 000, where nobody pressed


def test_a_jump_by_key_brings_a_zoomed_view_to_the_playhead(qtbot, settings_store, tmp_path):
    from tests.ui.song_window import model_window, show_song

    win = model_window(qtbot, settings_store, None)
    show_song(win, tmp_path / "a.wav", model_name="m")
    frames = win.timeline.frames
    win.timeline.set_view(frames // 2, frames // 2 + 2000)  # zoomed in, in the middle
    win.player.seek(0)  # Home
    assert win.timeline.view == (0, 2000)
    win.player.seek(1000)  # on screen: the view stays
    assert win.timeline.view == (0, 2000)
    win.close()


class _FullScale:
    """A waveform at full scale everywhere: every column filled top to bottom."""

    frames_ready = 100_000

    def envelope(self, start, stop, width):
        return np.full(width, -1.0, np.float32), np.full(width, 1.0, np.float32)


def test_the_loop_region_lies_behind_the_waveform_and_its_edges_in_front(qtbot):
    from stemgui.ui.waveview import LOOP_EDGE, WaveformView

    timeline = Timeline()
    timeline.reset(100_000, 1000)
    timeline.set_view(0, 100_000)
    view = WaveformView(timeline, QColor(0, 0, 255))
    qtbot.addWidget(view)
    view.resize(1000, 40)
    view.set_waveform(_FullScale())
    timeline.set_loop((20_000, 40_000), True)  # x 200 to 400
    image = view.grab().toImage()
    # the stem's colour inside the loop as outside it (the fill over it turned blue grey)
    assert image.pixelColor(300, 20) == image.pixelColor(700, 20) == QColor(0, 0, 255)
    assert image.pixelColor(200, 20) == image.pixelColor(399, 20) == LOOP_EDGE
    assert image.pixelColor(300, 0) != image.pixelColor(700, 0)  # the fill where no wave is


def test_a_loop_dragged_on_a_beat_grid_goes_from_beat_to_beat(qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from stemgui.ui.waveview import WaveformView

    timeline = Timeline()
    timeline.reset(100_000, 1000)
    timeline.set_view(0, 10_000)  # 10 frames a pixel
    timeline.set_beats((130.0, 500.0))  # beats at 130, 630, 1130, ...
    view = WaveformView(timeline, QColor("red"))
    qtbot.addWidget(view)
    view.resize(1000, 80)
    loops = []
    timeline.loop_requested.connect(lambda a, b: loops.append((a, b)))

    def drag(x0: int, x1: int) -> None:
        QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x0, 40))
        QTest.mouseMove(view, QPoint((x0 + x1) // 2, 40))
        QTest.mouseMove(view, QPoint(x1, 40))
        QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(x1, 40))

    drag(100, 420)  # frames 1000 to 4200: the beats nearest, 1130 and 4130
    assert loops[-1] == (1130, 4130)
    drag(420, 100)  # the other way round
    assert loops[-1] == (1130, 4130)
    drag(5, 33)  # frames 50 to 330: both nearest 130, so as drawn
    assert loops[-1] == (50, 330)
    timeline.snap_to_beats = False
    drag(100, 420)
    assert loops[-1] == (1000, 4200)


def test_the_beats_are_drawn_behind_the_waveform_once_far_enough_apart(qtbot):
    from stemgui.ui.waveview import WaveformView

    timeline = Timeline()
    timeline.reset(100_000, 1000)
    view = WaveformView(timeline, QColor(0, 0, 255))
    qtbot.addWidget(view)
    view.resize(1000, 40)
    timeline.set_beats((250.0, 500.0))
    timeline.set_view(0, 10_000)  # a beat every 50 pixels: x 25, 75, 125, ...
    image = view.grab().toImage()
    background = image.pixelColor(50, 20)
    assert image.pixelColor(25, 20) != background and image.pixelColor(75, 20) != background
    timeline.set_view(0, 60_000)  # every 8 pixels: too close to draw
    image = view.grab().toImage()
    assert image.pixelColor(4, 20) == image.pixelColor(6, 20) == image.pixelColor(8, 20)
    timeline.set_beats(None)
    timeline.set_view(0, 10_000)
    assert view.grab().toImage().pixelColor(25, 20) == background


def test_the_waveform_has_a_column_per_device_pixel_on_a_hidpi_screen(qtbot):
    """At a device pixel ratio of 2 (a Retina screen, 200 % scaling) the waveform was drawn
    at half the screen's resolution and scaled up: blocky, a click one frame long two pixels
    wide. Frame 101 of 200 over 100 points: device column 101 alone."""
    from stemgui.stems.waveform import Waveform
    from stemgui.ui.waveview import WaveformView

    timeline = Timeline()
    timeline.reset(200, 1000)
    view = WaveformView(timeline, QColor("red"))
    qtbot.addWidget(view)
    view.resize(100, 50)
    view.devicePixelRatioF = lambda: 2.0  # as the screen's, without one
    samples = np.zeros(200, np.float32)
    samples[101] = 1.0
    view.set_waveform(Waveform(samples))
    pixmap = view.envelope_image()
    assert (pixmap.width(), pixmap.height(), pixmap.devicePixelRatio()) == (200, 100, 2.0)
    image = pixmap.toImage()
    assert image.pixelColor(101, 1).alpha() == 255  # full scale: the top row
    assert image.pixelColor(100, 1).alpha() == 0  # was 255: frames 100 and 101 in one column


def test_the_playhead_is_drawn_only_where_the_view_shows_it(qtbot):
    """Zoomed in on an earlier part while the song plays on past it, the playhead stood at the
    waveforms' right edge (clamped there for the song's last frame) as if it were there; the
    ruler above showed none."""
    timeline, view = _paged_view(qtbot, 60)
    timeline.set_position(50_000)  # past the view
    image = view.grab().toImage()
    assert image.pixelColor(999, 5) == image.pixelColor(500, 5)  # was the playhead's black
    timeline.set_view(90_000, 100_000)
    timeline.set_position(100_000)  # the song's end, on screen: its last column
    image = view.grab().toImage()
    assert image.pixelColor(999, 5) != image.pixelColor(500, 5)
