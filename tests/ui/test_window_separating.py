"""A song while it separates: listened to half way, cancelled, retried, removed; finished
songs come with their waveforms, and the same song with the same settings is not separated
again."""

from __future__ import annotations

from PySide6.QtCore import Qt

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.song_window import separating_window
from tests.ui.stub_separators import HalfwaySeparator


def _halfway_window(qtbot, settings_store):
    """(gate, a shown window whose songs separate halfway, then wait for the gate)."""
    import threading

    gate = threading.Event()
    win = separating_window(qtbot, settings_store, lambda: HalfwaySeparator(gate), "halfway")
    win.show()
    return gate, win


def test_listen_while_it_separates_then_cancel_and_retry(qtbot, settings_store, songs):
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        (job,) = win.add_paths(songs[:1])
        qtbot.waitUntil(lambda: job.fraction == 0.5, timeout=TIMEOUT_MS)
        assert win.shown_job is job and win.player.loaded and win.player.can_play
        assert win.stems.waveforms["vocals"].frames_ready == 4000
        assert "separating 50 %" in win.song_title.text()
        assert win.selected_job() is job and win.queue.cancel_button.isEnabled()
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
        qtbot.waitUntil(lambda: job.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        # what was separated stays on screen and plays (the view went blank)
        assert win.shown_job is job and win.player.loaded
        assert win.stems.waveforms["vocals"].frames_ready == 4000
        assert win.queue.retry_button.isEnabled()
        qtbot.mouseClick(win.queue.retry_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert win.shown_job is job
        assert win.stems.waveforms["vocals"].frames_ready == 8000
    finally:
        gate.set()
        win.close()


def test_retrying_the_song_on_screen_takes_its_cancelled_stems_off(qtbot, settings_store, songs):
    """Retry of a cancelled song waiting behind another: what the cancel left was still shown
    and played (its stems file deleted) until the song's turn came."""
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        (first,) = win.add_paths(songs[:1])
        qtbot.waitUntil(lambda: first.fraction == 0.5, timeout=TIMEOUT_MS)
        win.controller.cancel(first)
        gate.set()
        qtbot.waitUntil(lambda: first.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        gate.clear()
        (second,) = win.add_paths(songs[1:2])
        qtbot.waitUntil(lambda: second.fraction == 0.5, timeout=TIMEOUT_MS)
        assert win.shown_job is first and win.player.loaded
        win.player.toggle()
        win.retry_job(first)
        assert first.state is JobState.WAITING
        assert win.shown_job is None and not win.player.loaded and win.stems.stemset is None
        assert win.song_title.text().endswith("(waiting)")  # its name stays, with its state
        # in the hint's place: its name, not "Drop songs or folders here" and the demo's button
        assert win.pages.currentWidget() is win.empty and not win.demo_button.isVisibleTo(win)
        assert win.hint.text().startswith(f"<h2>{first.path.name}</h2>")
        gate.set()
        qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert win.shown_job is first and win.stems.waveforms["vocals"].frames_ready == 8000
        win.remove_job(first)
        win.remove_job(second)
        assert "Drop songs or folders here" in win.hint.text()  # the hint as it was
    finally:
        gate.set()
        win.close()


def _selected_halfway(qtbot, win, song):
    """``song`` queued, separated half way (held there), selected, the queue's list focused."""
    (job,) = win.add_paths([song])
    qtbot.waitUntil(lambda: job.fraction == 0.5, timeout=TIMEOUT_MS)
    win.select(job)
    win.queue.view.setFocus()
    return job


def test_delete_never_throws_away_the_separation_running(qtbot, settings_store, songs):
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        job = _selected_halfway(qtbot, win, songs[0])
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Backspace)
        assert job in win.controller.model.jobs and job.state is JobState.SEPARATING
        assert "Cancel it first" in win.statusBar().currentMessage()
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
        qtbot.waitUntil(lambda: job.state is JobState.CANCELLED, timeout=TIMEOUT_MS)
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
        assert job not in win.controller.model.jobs
        assert win.statusBar().currentMessage() == f"Removed {job.title} from the queue."
    finally:
        gate.set()
        win.close()


def test_delete_removes_a_song_being_cancelled(qtbot, settings_store, songs):
    """Cancel, then Delete at once: it said to cancel it first, and did nothing."""
    gate, win = _halfway_window(qtbot, settings_store)
    try:
        job = _selected_halfway(qtbot, win, songs[0])
        qtbot.mouseClick(win.queue.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(win.queue.view, Qt.Key.Key_Delete)
        assert job.status_text() == "removing…"
        assert win.statusBar().currentMessage() == f"Removed {job.title} from the queue."
        gate.set()
        qtbot.waitUntil(lambda: job not in win.controller.model.jobs, timeout=TIMEOUT_MS)
    finally:
        gate.set()
        win.close()


def test_same_file_same_settings_reuses_the_stems(qtbot, window, songs):
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
    (again,) = window.add_paths(songs[:1])
    assert again.state is JobState.DONE and again.stemset is first.stemset
    window.settings.set(S.QUALITY, "fast")
    (other,) = window.add_paths(songs[:1])
    assert other.state is not JobState.DONE
    qtbot.waitUntil(lambda: other.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert other.stemset is not first.stemset


def test_finished_songs_come_with_their_waveforms(qtbot, window, songs):
    _first, second = window.add_paths(songs)
    qtbot.waitUntil(lambda: second.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert second.waveforms is not None and second.waveforms.stemset is second.stemset
    assert second.waveforms["vocals"].frames_ready == second.stemset.frames
    window.select(second)
    assert window.shown_job is second
    assert window.stems.waveforms is second.waveforms  # nothing recomputed on the GUI thread
