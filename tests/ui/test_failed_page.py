"""A failed song's page: it stays while the user reads it, says why itself, leaves the song
playing alone; long names keep what tells them apart (header and queue rows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from stemgui.ui.queue import JobState, QueueModel
from tests.ui.conftest import TIMEOUT_MS

NOT_AUDIO = "is not an audio file (it looks like text); choose a song or a video"


@pytest.fixture
def window(monkeypatch, window):
    """The conftest's window, its queue held while ``window.hold[0]`` says why (None: it is
    not)."""
    window.hold = [None]
    monkeypatch.setattr(window.menus, "wait_reason", lambda: window.hold[0])
    return window


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    """A "song" that is not audio at all: a text file named .mp3."""
    path = tmp_path / "songs" / "broken.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is not audio, just a text file\n" * 20)
    return path


def _failed(qtbot, window, path):
    (job,) = window.add_paths([path])
    qtbot.waitUntil(lambda: job.state is JobState.FAILED, timeout=TIMEOUT_MS)
    return job


def test_a_failed_song_being_read_stays_when_the_next_song_starts(qtbot, window, songs, text_file):
    bad = _failed(qtbot, window, text_file)
    window.hold[0] = "held by the test"
    (good,) = window.add_paths(songs[:1])
    window.select(good)
    window.select(bad)  # the user reads why it failed
    window.hold[0] = None
    with qtbot.waitSignal(window.controller.job_started, timeout=TIMEOUT_MS):
        window.controller.resume()
    # it jumped to the song started, the failed song's banner left over its stems
    assert window.selected_job() is bad
    assert window.pages.currentWidget() is window.failed_page
    assert window.song_title.text() == "broken  (failed)"
    assert window.failed_page.job is bad
    qtbot.waitUntil(lambda: good.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert window.selected_job() is bad and window.pages.currentWidget() is window.failed_page
    window.select(good)  # moving on by hand shows it
    assert window.shown_job is good and window.pages.currentIndex() == 1


def test_the_page_says_why_itself_and_offers_retry_only_where_it_can_help(
    qtbot, window, text_file, corrupt_song
):
    bad = _failed(qtbot, window, text_file)
    damaged = _failed(qtbot, window, corrupt_song)
    assert not bad.retry_helps and damaged.retry_helps
    window.select(damaged)
    window.select(bad)
    page = window.failed_page
    assert window.pages.currentWidget() is page
    # the whole reason, word-wrapped and selectable; it pointed to "the message above"
    assert page.reason.text() == f"It {NOT_AUDIO}."
    assert page.reason.wordWrap()
    assert page.reason.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert "broken.mp3" in page.heading.text() and str(text_file.parent) in page.heading.text()
    assert not window.banner.isVisibleTo(window)  # said once, on the page
    window.show_error("The export failed: disk full.", about="export")  # replaces the banner
    window.banner.close_button.click()
    assert page.isVisibleTo(window) and page.reason.text() == f"It {NOT_AUDIO}."
    assert not page.retry_button.isVisibleTo(window)  # not audio: retrying cannot mend it
    assert page.remove_button.isVisibleTo(window) and "cannot help" in page.advice.text()
    # nor the queue's Retry, right below the page's "Trying again cannot help", nor Ctrl+R
    assert not window.queue.retry_button.isEnabled()
    window.queue.retry_action.trigger()
    assert bad.state is JobState.FAILED
    assert window.statusBar().currentMessage() == (
        "broken.mp3 is not audio: trying again cannot help. Remove it."
    )

    window.select(damaged)  # a damaged file may be downloaded again: Retry is offered
    assert page.job is damaged and page.retry_button.isVisibleTo(window)
    assert window.queue.retry_button.isEnabled()
    assert page.reason.text() == f"It {damaged.reason}."
    page.retry_button.click()
    assert damaged.state is not JobState.FAILED
    assert window.pages.currentWidget() is not page  # it waits: the page went
    qtbot.waitUntil(lambda: damaged.state is JobState.FAILED, timeout=TIMEOUT_MS)

    window.select(bad)
    page.remove_button.click()
    assert bad not in window.controller.model.jobs and window.failed_job is not bad


def test_looking_at_a_failed_song_leaves_the_song_playing(qtbot, window, songs, text_file):
    (good,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: good.state is JobState.DONE, timeout=TIMEOUT_MS)
    bad = _failed(qtbot, window, text_file)
    assert window.shown_job is good
    qtbot.keyClick(window, Qt.Key.Key_Space)
    transport = window.player.transport
    assert transport.playing
    window.select(bad)  # a DJ scanning the queue
    assert window.player.loaded and window.player.transport is transport and transport.playing
    assert window.pages.currentWidget() is window.failed_page
    # the song playing keeps the queue's mark, and the page names it
    model = window.controller.model
    assert model.index(model.row_of(good)).data(QueueModel.ShownRole)
    assert not model.index(model.row_of(bad)).data(QueueModel.ShownRole)
    assert window.failed_page.loaded.isVisibleTo(window)
    assert good.path.stem in window.failed_page.loaded.text()
    assert window.menu_bar.export_action.isEnabled()  # of the song loaded, as the transport
    qtbot.keyClick(window, Qt.Key.Key_Space)  # acts on the song loaded
    assert not transport.playing and window.player.transport is transport
    window.select(good)
    assert window.pages.currentIndex() == 1 and window.song_title.text().startswith(good.path.stem)


def test_a_deep_folder_or_a_long_name_does_not_widen_the_window(qtbot):
    from stemgui.ui.failed_page import FailedPage
    from stemgui.ui.queue import Job

    page = FailedPage(lambda job: None, lambda job: None, lambda: None)
    qtbot.addWidget(page)
    job = Job(Path("/" + "x" * 300 + "/" + "y" * 200 + ".mp3"), state=JobState.FAILED)
    job.error = f"{job.path}: is empty (0 bytes); the download or copy did not finish"
    page.show_failed(job)
    page.show_loaded(job)
    assert page.minimumSizeHint().width() < 400  # was 2177 px


def test_a_failed_song_s_page_keeps_its_title_when_the_speed_changes(
    qtbot, settings_store, tmp_path
):
    """The song loaded under the page plays on (the speed trainer steps its speed each lap):
    its title, at the new speed, was put over the failed song's page."""
    from stemgui.ui.queue import Job
    from tests.ui.song_window import done_job, null_window

    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    bad = tmp_path / "Bad.mp3"
    bad.write_bytes(b"x")
    job = Job(bad, state=JobState.FAILED, error="it is not audio")
    win.controller.model._jobs.append(job)
    win.screen.show_failed(job)
    win.player.set_speed(0.9)
    assert win.song_title.text() == "Bad  (failed)"
    win.screen.leave_failed()
    assert win.song_title.text().startswith("My Song — ")
    win.close()
