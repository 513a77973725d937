"""The player's keys: Home and End, 1-4 to mute and Ctrl+1-4 to solo a stem, A for the
original, the key each row shows, Delete in the queue, the arrows on the volume slider,
and Ctrl+=, Ctrl++ and Ctrl+0 to zoom."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette

from stemgui.stems.mixer import ORIGINAL
from tests.ui.song_window import NAMES, done_job, null_window


def test_home_and_end_keys_send_the_playhead_to_the_song_edges(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    transport = win.player.transport
    win.menu_bar.zoom(0.25)  # the first quarter on screen
    qtbot.keyClick(win, Qt.Key.Key_End)
    assert transport.position == transport.frames
    assert win.timeline.view[1] == transport.frames  # the view pages to the end
    qtbot.keyClick(win, Qt.Key.Key_Home)
    assert transport.position == 0 and win.timeline.view[0] == 0
    win.close()


def test_number_keys_mute_and_solo_the_stems_and_a_compares_with_the_original(
    qtbot, settings_store, tmp_path
):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    mixer, rows = job.mixer, win.stems.rows
    qtbot.keyClick(win, Qt.Key.Key_2)  # the second stem: bass
    assert mixer.control("bass").mute and rows["bass"].mute.isChecked()
    assert rows["bass"].view.dimmed and not mixer.is_audible("bass")
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert not mixer.control("bass").mute
    qtbot.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert mixer.control("vocals").solo and rows["vocals"].solo.isChecked()
    assert not mixer.is_audible("drums")
    qtbot.keyClick(win, Qt.Key.Key_A)  # the song itself, soloed beside the vocals
    assert win.stems.mix_row.solo.isChecked() and mixer.is_audible(ORIGINAL)
    qtbot.keyClick(win, Qt.Key.Key_9)  # no ninth stem: nothing
    assert [mixer.control(n).mute for n in NAMES] == [False] * 4
    assert rows["drums"].mute.toolTip() == "Mute drums (1)"
    assert rows["vocals"].solo.toolTip().startswith("Solo vocals (") and "4" in (
        rows["vocals"].solo.toolTip()
    )
    win.close()


def test_each_row_shows_the_key_that_works_it(qtbot, settings_store, tmp_path):
    """The original mix is the first row, yet 1 muted Drums, the second, and no row said so:
    each row shows its key before its name, and that key works that row."""
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    mix_row, rows = win.stems.mix_row, win.stems.rows
    assert mix_row.key.text() == "A"
    assert [row.key.text() for row in rows.values()] == ["1", "2", "3", "4"]
    for name, row in rows.items():
        qtbot.waitUntil(row.key.isVisible)
        assert row.key.mapTo(row, QPoint(0, 0)).x() < row.label.mapTo(row, QPoint(0, 0)).x()
        qtbot.keyClick(win, getattr(Qt.Key, f"Key_{row.key.text()}"))  # the key it shows
        assert [n for n in NAMES if job.mixer.control(n).mute] == [name]
        qtbot.keyClick(win, getattr(Qt.Key, f"Key_{row.key.text()}"))
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert mix_row.solo.isChecked()
    assert rows["drums"].key.foregroundRole() == QPalette.ColorRole.PlaceholderText  # muted
    win.close()


def test_delete_in_the_queue_removes_the_selected_song(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    win.controller.model._jobs.remove(job)
    win.controller.model.append([job])  # a row in the list
    win.select(job)
    win.queue.view.setFocus()
    qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
    assert job not in win.controller.model.jobs and win.shown_job is None
    win.close()


def test_the_volume_slider_takes_the_focus_and_the_arrow_keys(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    volume = win.transport_bar.volume
    assert volume.focusPolicy() == Qt.FocusPolicy.StrongFocus  # by Tab and by a click
    # after the stems' gains and the transport's buttons, as on screen (it came between the
    # list and the first gain)
    bar = win.transport_bar
    assert win.stems.rows["vocals"].gain.nextInFocusChain() is bar.play
    assert bar.loop.nextInFocusChain() is bar.speed
    assert bar.speed.nextInFocusChain() is bar.key
    assert bar.key.nextInFocusChain() is volume
    volume.setFocus()
    qtbot.keyClick(volume, Qt.Key.Key_Down)
    assert volume.value() == -1 and win.player.master_db == -1.0
    assert win.transport_bar.volume_label.text() == "\u22121 dB"  # as the gains write it
    win.close()


def test_zoom_keys_with_and_without_shift(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    frames = win.timeline.frames
    qtbot.keyClick(win, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # Ctrl+=
    assert win.timeline.view[1] - win.timeline.view[0] == frames // 2
    qtbot.keyClick(win, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)  # Ctrl++
    assert win.timeline.view[1] - win.timeline.view[0] == frames // 4
    qtbot.keyClick(win, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert win.timeline.view == (0, frames)
    win.close()
