"""The keyboard alone: a focused button is pressed by Space and Return, Space plays elsewhere,
Tab goes through the controls in the order they are on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QScrollArea

from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import make_stemset, null_window


@pytest.fixture
def win(qtbot, settings_store):
    """``null_window``'s, shown and active: its songs play through a ``NullOutput``."""
    return null_window(qtbot, settings_store, [])


def _queue(win, tmp_path: Path, name: str, state: JobState = JobState.DONE) -> Job:
    song = tmp_path / f"{name}.wav"
    song.write_bytes(b"")
    done = state is JobState.DONE
    job = Job(song, state=state, fraction=1.0, stemset=make_stemset() if done else None)
    win.controller.model.append([job])  # as if it had been separated (or had failed)
    return job


def _focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus)


def _playing(win) -> bool:
    return win.player.loaded and win.player.transport.playing


def test_space_presses_the_focused_button_and_plays_anywhere_else(qtbot, win, tmp_path):
    """With Remove focused, Space started playback and Return did nothing."""
    first = _queue(win, tmp_path, "first")
    second = _queue(win, tmp_path, "second")
    win.select(second)
    win.show_job(first)
    assert win.player.loaded and not _playing(win)
    _focus(qtbot, win.queue.remove_button)
    qtbot.keyClick(win.queue.remove_button, Qt.Key.Key_Space)
    assert second not in win.controller.model.jobs  # Remove was pressed
    assert not _playing(win)  # and nothing else happened

    pressed = []
    win.banner.show_message("A message", [("Act", lambda: pressed.append("act"))])
    act = win.banner.buttons[0]
    _focus(qtbot, act)
    for count, key in enumerate((Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter), 1):
        qtbot.keyClick(act, key)
        qtbot.waitUntil(lambda n=count: len(pressed) == n, timeout=2000)  # Return animates it
    assert not _playing(win)

    mute = win.stems.rows["bass"].mute  # S and M too: Tab reaches them
    _focus(qtbot, mute)
    qtbot.keyClick(mute, Qt.Key.Key_Space)
    assert mute.isChecked() and win.stems.mixer.control("bass").mute and not _playing(win)

    for elsewhere in (win.queue.view, win.stems.rows["drums"].gain):
        _focus(qtbot, elsewhere)
        qtbot.keyClick(elsewhere, Qt.Key.Key_Space)
        assert _playing(win)
        qtbot.keyClick(elsewhere, Qt.Key.Key_Space)
        assert not _playing(win)


def test_a_click_on_a_button_leaves_space_to_play(qtbot, win, tmp_path):
    """A clicked Remove kept the focus: the next Space would have removed the next song."""
    first = _queue(win, tmp_path, "first")
    second = _queue(win, tmp_path, "second")
    win.select(second)
    win.show_job(first)
    _focus(qtbot, win.queue.view)
    qtbot.mouseClick(win.queue.reveal_button, Qt.MouseButton.LeftButton)  # a button, no focus
    assert win.queue.view.hasFocus()
    failed = win.failed_page  # its Retry, Remove and Open log folder too
    for button in (
        win.queue.remove_button,
        win.transport_bar.play,
        win.stems.rows["bass"].solo,
        failed.retry_button,
        failed.remove_button,
        failed.log_button,
    ):
        assert button.focusPolicy() == Qt.FocusPolicy.TabFocus


def test_tab_goes_through_the_controls_in_their_order_on_screen(qtbot, win, tmp_path):
    job = _queue(win, tmp_path, "song")
    win.select(job)
    win.show_job(job)
    win.banner.show_message("A message", [("One", lambda: None), ("Two", lambda: None)])
    _focus(qtbot, win.queue.view)
    seen = [win.queue.view]
    for _ in range(40):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is win.queue.view:
            break
        seen.append(QApplication.focusWidget())
    q, b, t, rows = win.queue, win.banner, win.transport_bar, win.stems.rows
    mix = win.stems.mix_row
    stems = [w for row in rows.values() for w in (row.solo, row.mute, row.gain)]
    expected = [
        q.view,
        q.retry_button if q.retry_button.isEnabled() else None,
        q.remove_button,
        q.reveal_button,
        *b.buttons,
        b.close_button,
        mix.solo,
        mix.gain,
        *stems,
        t.play,
        t.stop,
        t.loop,
        t.speed,
        t.key,
        t.volume,
    ]
    assert seen == [w for w in expected if w is not None]
    assert not any(isinstance(w, QScrollArea) for w in seen)  # an empty stop, no longer


def test_shift_tab_into_the_rows_scrolls_the_control_into_view(qtbot, win, tmp_path):
    job = _queue(win, tmp_path, "song")
    win.show_job(job)
    scroll = win.stems.scroll_area
    scroll.setMaximumHeight(150)  # the rows do not all fit (six stems in a small window)
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(0)
    _focus(qtbot, win.transport_bar.play)
    qtbot.keyClick(win.transport_bar.play, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    gain = win.stems.rows["vocals"].gain
    assert gain.hasFocus() and bar.value() > 0
    assert not gain.visibleRegion().isEmpty()


def test_ctrl_r_in_the_queue_retries_the_selected_song(qtbot, win, tmp_path):
    failed = _queue(win, tmp_path, "failed", JobState.FAILED)
    done = _queue(win, tmp_path, "done")
    retried = []
    win.queue.retry_button.clicked.connect(lambda: retried.append(win.selected_job()))
    win.select(failed)
    _focus(qtbot, win.queue.view)
    qtbot.keyClick(win.queue.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert retried == [failed]
    win.select(done)
    qtbot.keyClick(win.queue.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert retried == [failed]
    assert "nothing to retry" in win.statusBar().currentMessage()


def test_the_focused_button_is_ringed_in_the_highlight_colour(qtbot, win, tmp_path):
    """Fusion drew no visible focus on a button: which one would Space press?"""
    job = _queue(win, tmp_path, "song")
    win.select(job)
    win.show_job(job)
    remove = win.queue.remove_button
    plain = remove.grab().toImage()
    _focus(qtbot, remove)
    ring = win.keyboard_focus.ring
    assert ring is not None and ring.parent() is remove and ring.isVisible()
    image = remove.grab().toImage()
    highlight = remove.palette().color(QPalette.ColorRole.Highlight)
    y = remove.height() // 2
    assert image.pixelColor(0, y) == highlight and plain.pixelColor(0, y) != highlight
    win.queue.view.setFocus(Qt.FocusReason.TabFocusReason)
    assert not ring.isVisible()  # at once, not once the event loop deletes it (two were seen)
    qtbot.waitUntil(win.queue.view.hasFocus)
    assert win.keyboard_focus.ring is None
    _focus(qtbot, win.stems.rows["bass"].mute)
    old = win.keyboard_focus.ring
    win.show_job(None)  # its row goes, and the ring with it
    qtbot.waitUntil(lambda: win.keyboard_focus.ring is not old)
    ring = win.keyboard_focus.ring  # on the button the focus went to, if one
    assert ring is None or ring.parent() is QApplication.focusWidget()
    _focus(qtbot, remove)
    assert win.keyboard_focus.ring.parent() is remove


def test_every_button_of_the_queue_and_the_transport_says_what_it_does_and_its_keys(win):
    """Play said "Play (Space)" and Remove its Delete, but Stop and Loop said their names
    alone, without Ctrl+. and L, and Cancel said nothing."""
    bar, queue = win.transport_bar, win.queue
    assert bar.stop.toolTip() == "Stop (Ctrl+.)"  # as this system writes Ctrl (⌘ on macOS)
    assert bar.loop.toolTip() == "Loop on / off (L; Shift+L clears the loop)"
    assert queue.cancel_button.toolTip() == (
        "Stop separating the selected song, or keep a waiting one from starting (Retry "
        "queues it again)"
    )
    buttons = (bar.play, bar.speed, bar.key, queue.retry_button, queue.remove_button)
    assert all("(" in button.toolTip() for button in buttons)  # as before
