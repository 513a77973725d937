"""A song the queue selects as it comes in, while nothing is on screen, and that waits (for the
model list, a model, another song) names itself where its stems will show: the page said "Drop
songs or folders here" with Try the demo song, as if nothing had been added, after Try the demo
song was pressed."""

from __future__ import annotations

from stemgui.ui.queue import JobState
from stemgui.ui.window import EMPTY_TEXT
from tests.ui.conftest import write_song
from tests.ui.song_window import model_window


def test_a_waiting_song_selected_names_itself_over_the_page(qtbot, settings_store, tmp_path):
    # a chosen model file that is gone (a drive unplugged): the song waits for it
    win = model_window(qtbot, settings_store, tmp_path / "unplugged" / "mine.stemgui")
    (job,) = win.add_paths([write_song(tmp_path / "Night Drive.wav")])
    assert job.state in (JobState.WAITING, JobState.LOADING) and job.stemset is None
    assert win.selected_job() is job
    assert win.pages.currentWidget() is win.empty
    assert win.hint.text() != EMPTY_TEXT and "Night Drive.wav" in win.hint.text()
    assert not win.demo_button.isVisibleTo(win)  # it was pressed, or a song is there anyway
    assert win.song_title.text().startswith("Night Drive")
    win.queue.view.clearSelection()
    win.queue.view.setCurrentIndex(win.queue.view.rootIndex())  # nothing selected: the hint
    assert win.hint.text() == EMPTY_TEXT and win.demo_button.isVisibleTo(win)
    win.close()


def test_the_title_over_the_hint_follows_the_song_s_state(qtbot, settings_store, tmp_path):
    """It said "(waiting: looking for models…)" while the queue row said "loading model"."""
    win = model_window(qtbot, settings_store, tmp_path / "unplugged" / "mine.stemgui")
    (job,) = win.add_paths([write_song(tmp_path / "Night Drive.wav")])
    before = win.song_title.text()
    win.controller.model.update(job, state=JobState.DECODING)
    assert win.song_title.text() == f"Night Drive  ({job.status_text()})" != before
    win.close()


def test_a_waiting_song_selected_by_hand_leaves_the_drop_hint(qtbot, settings_store, tmp_path):
    """Selected to move it, a waiting song leaves the screen as it is (the drop hint, untitled;
    ``test_window``'s failed-page test), and so does a cancelled one, whose stems do not come
    unless it is retried."""
    from stemgui.ui.queue import Job

    win = model_window(qtbot, settings_store, tmp_path / "unplugged" / "mine.stemgui")
    waiting = write_song(tmp_path / "Later.wav")
    stopped = write_song(tmp_path / "Stopped.wav")
    jobs = win.controller.model.append([Job(waiting), Job(stopped, state=JobState.CANCELLED)])
    for job in jobs:
        win.select(job)
        assert win.hint.text() == EMPTY_TEXT and not win.song_title.isVisibleTo(win)
    win.close()
