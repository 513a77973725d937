"""Where the keyboard focus goes when the control holding it leaves the screen: to the queue,
where Space plays, not to the next control in the chain (the original mix's S, which the next
Space soloed)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from stemgui.playback.null_output import NullOutput
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState
from stemgui.ui.window import MainWindow
from tests.ui.song_window import make_stemset


@pytest.fixture
def win(qtbot, settings_store):
    window = MainWindow(
        S.Settings(settings_store),
        output_factory=lambda stemset, mixer, transport: NullOutput(stemset, mixer, transport),
        probe=False,
    )
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts only reach the active window
    yield window
    window.close()


def _focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus)


def _separated(win, job: Job) -> None:
    """``job``'s stems, as if the worker had just made them, on screen."""
    job.stemset = make_stemset()
    job.state, job.fraction = JobState.DONE, 1.0
    win.show_job(job)


def _space_plays(qtbot, win) -> None:
    qtbot.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_Space)
    assert win.player.transport.playing
    assert not any(row.solo.isChecked() for row in [win.stems.mix_row, *win.stems.rows.values()])


def test_space_plays_the_demo_song_after_its_button_was_pressed_with_space(qtbot, win):
    """Tab to Try the demo song, Space; once the stems showed, Space soloed the original mix
    (the focus had gone from the hidden button to the next control), and nothing played."""
    _focus(qtbot, win.demo_button)
    qtbot.keyClick(win.demo_button, Qt.Key.Key_Space)
    (job,) = win.controller.model.jobs
    _separated(win, job)
    assert QApplication.focusWidget() is win.queue.view
    _space_plays(qtbot, win)


def test_space_plays_after_a_failed_song_s_page_left_with_its_buttons_focused(qtbot, win, tmp_path):
    song = tmp_path / "song.wav"
    song.write_bytes(b"")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"")
    (job, failed) = win.controller.model.append(
        [Job(song), Job(bad, state=JobState.FAILED, error="it is not audio")]
    )
    win.select(failed)
    assert win.pages.currentWidget() is win.failed_page
    _focus(qtbot, win.failed_page.remove_button)
    qtbot.keyClick(win.failed_page.remove_button, Qt.Key.Key_Space)  # removes it
    _separated(win, job)
    assert QApplication.focusWidget() is win.queue.view
    _space_plays(qtbot, win)
