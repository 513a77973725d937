"""The player's layout: a long message or song name is cut, not added to the window's
width; the ruler stays above scrolled rows and seeks only over the waveforms; the
splitter keeps the queue and the player in sight; the playhead at the end is drawn."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from stemgui.stems.stemset import StemSet
from stemgui.ui.queue import JobState
from tests.ui.song_window import RATE, done_job, null_window, show_song


def test_a_message_naming_a_long_file_does_not_widen_the_window(qtbot, settings_store, tmp_path):
    """The banner asked for the width of its longest word: an error naming a file whose name
    has no spaces (a download's "Artist_-_Title_(Official_Video)") made the narrowest window
    that much wider, and a window at its narrowest grew past its screen's edge. Such a word is
    cut at the banner's edge now; selected, it copies whole."""
    win = null_window(qtbot, settings_store, [])
    narrowest = win.minimumSizeHint().width()
    win.resize(narrowest, 700)
    qtbot.waitUntil(lambda: win.width() == narrowest)
    name = "Some_Artist_-_A_Very_Long_Song_Title_(Official_Music_Video)_[Extended_Mix]_1080p.wav"
    win.show_error(f"Could not write {tmp_path / name}: the disk is full. Free some space.")
    qtbot.wait(50)
    assert win.banner.isVisible() and name in win.banner.text()
    assert win.minimumSizeHint().width() == narrowest  # was 1111 px, from 764
    assert win.width() == narrowest
    win.close()


def test_the_ruler_stays_when_the_stem_rows_scroll(qtbot, settings_store, tmp_path):
    """Six stems in a short window scroll: the ruler scrolled away with the first rows, and
    with it the times, the playhead's marker and the click that seeks. Above the rows, it is
    drawn again when their scroll bar comes or goes."""
    win = null_window(qtbot, settings_store, [])
    win.resize(900, win.minimumSizeHint().height())
    names = ("drums", "bass", "other", "vocals", "guitar", "piano")
    data = np.zeros((6, 2, 4 * RATE), np.float32)
    done_job(win, tmp_path, StemSet(names, RATE, data, mix=data.sum(axis=0)))
    ruler, area = win.stems.ruler, win.stems.scroll_area
    bar = area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    redrawn = []
    ruler.update = lambda: redrawn.append(True)  # (the platform here repaints it anyway)
    row = win.stems.mix_row  # the row the ticks are lined up with narrows, as with a scroll
    row.setMaximumWidth(row.width() - 16)  # bar that comes, and the ruler above does not:
    qtbot.waitUntil(lambda: bool(redrawn))  # its ticks are drawn again, to go with the rows
    del ruler.update
    bar.setValue(bar.maximum())  # down to the last row
    qtbot.waitUntil(lambda: win.stems.rows["piano"].visibleRegion().boundingRect().height() > 40)
    assert ruler.visibleRegion().boundingRect().height() == ruler.height()  # was empty
    win.close()


def test_the_queue_and_the_player_cannot_be_dragged_out_of_sight(qtbot, settings_store):
    """The handle between the queue and the player, dragged past the player's narrowest,
    collapsed it to nothing: the stems, the transport and the banner's messages were gone, and
    the handle left at the window's edge did not say where they were."""
    win = null_window(qtbot, settings_store, [])
    splitter = win.centralWidget()
    splitter.moveSplitter(win.width(), 1)  # all the way right
    assert splitter.sizes()[1] >= win.transport_bar.minimumSizeHint().width()  # was 0
    assert win.transport_bar.visibleRegion().boundingRect().width() > 0
    splitter.moveSplitter(0, 1)  # all the way left
    assert splitter.sizes()[0] > 0 and win.queue.visibleRegion().boundingRect().width() > 0
    win.close()


def test_a_click_on_the_ruler_seeks_only_over_the_waveforms(qtbot, settings_store, tmp_path):
    """A click on the ruler above the stems' names and buttons, where it shows no time, sent
    the playhead to the start; one over the waveforms seeks there."""
    from PySide6.QtTest import QTest

    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)  # 4 s
    win.player.seek(2 * RATE)
    qtbot.waitUntil(lambda: win.timeline.position == 2 * RATE)
    ruler, view = win.stems.ruler, win.stems.mix_row.view
    left = ruler.mapFrom(win, view.mapTo(win, QPoint(0, 0))).x()  # where the waveforms begin
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(left // 2, 10))
    qtbot.wait(50)
    assert win.timeline.position == 2 * RATE  # was 0
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(left + view.width() // 4, 10))
    qtbot.waitUntil(lambda: abs(win.timeline.position - RATE) <= 4 * RATE / view.width())
    win.close()


def test_a_long_song_name_is_cut_in_the_title_not_added_to_the_window(
    qtbot, settings_store, tmp_path
):
    from PySide6.QtWidgets import QLabel

    win = null_window(qtbot, settings_store, [])
    win.resize(1000, 700)
    qtbot.waitUntil(lambda: win.width() == 1000)
    song = tmp_path / f"{'A Very Long Artist Name - ' * 6}Song (2024 Remaster).wav"
    job = show_song(win, song, model_name="m")
    qtbot.wait(50)
    assert win.width() == 1000 and win.minimumSizeHint().width() < 1000  # was 1957 px
    shown = QLabel.text(win.song_title)
    # the model gives way first, then the middle of the name; no extension
    assert "…" in shown and shown.endswith("Remaster)\u2069") and " — m" not in shown
    assert win.song_title.text() == f"{song.stem} — m"
    assert win.song_title.toolTip() == f"\u200e\u2068{song.stem}\u2069 — m"  # the name isolated
    # separating: the name gives way, the state stays whole
    job.state, job.model_name = JobState.SEPARATING, "stemgui-htdemucs-small"
    win.resize(810, 700)  # about the narrowest it gets
    qtbot.waitUntil(lambda: win.width() <= 810)
    win.screen.show_title(job)
    shown = QLabel.text(win.song_title)
    assert "…" in shown and shown.endswith("\u2069  (separating 100 %)") and "htdemucs" not in shown
    assert shown.startswith("\u200e\u2068A") and len(shown) < len(win.song_title.text())
    win.close()


def test_the_playhead_at_the_song_end_is_drawn_inside_the_waveform(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    view = win.stems.rows["drums"].view
    colour = 255 if view._is_dark() else 0

    def line_at(x: int) -> int:
        image = view.grab().toImage()
        return [image.pixelColor(x, y).lightness() for y in range(image.height())].count(colour)

    win.player.seek(win.timeline.frames // 2)
    middle = line_at(round(view.x_of(win.timeline.position)))
    assert middle > view.height() // 2  # a line from top to bottom, waveform aside
    win.player.seek_end()
    assert line_at(view.width() - 1) == middle  # was drawn at x == width, outside
    win.close()
