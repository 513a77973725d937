"""What the window shows whole at its smallest size."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import model_window, show_song

# the banner's words for a chosen model that is gone (``model_status``), about 200 characters
MODEL = "stemgui-htdemucs-finetuned-on-my-whole-library-2026-v3-final-final"
NOT_AVAILABLE = (
    f"The chosen model “{MODEL}” is not available (/home/someone/Music/models/{MODEL}.stemgui). "
    "Download one (Model ▸ Get models…) or choose a model file (Model ▸ Choose model file…)."
)


def test_a_long_banner_is_whole_over_the_drop_hint_at_the_smallest_size(qtbot, settings_store):
    """Its last line was cut: the label got 141 px of the 154 it needs, the drop hint's page
    asking for the room of the failed song's page (174 px) kept in the same stack."""
    win = model_window(qtbot, settings_store, None)
    actions = [("Get models…", lambda: None), ("Choose model file…", lambda: None)]
    win.show_error(NOT_AVAILABLE, "model", actions)
    win.resize(1, 1)
    qtbot.waitUntil(lambda: win.size() == win.minimumSize())
    QApplication.processEvents()  # the layouts laid out at that size
    assert win.pages.currentWidget() is win.empty
    label = win.banner.label
    assert label.heightForWidth(label.width()) <= label.height()
    win.close()


def _bottom_reached(page: QWidget) -> int:
    """How far down ``page`` can be read: its height, plus how far it scrolls."""
    bar = page.verticalScrollBar() if isinstance(page, QAbstractScrollArea) else None
    return page.height() + (bar.maximum() if bar is not None else 0)


def test_a_failed_song_s_page_and_a_long_banner_are_both_readable_at_the_smallest_size(
    qtbot, settings_store, tmp_path
):
    """Both were cut at 764x420: the banner got 141 of the 154 px its words need, the page 153
    of its 197 (the song's name and folder under the heading gone, with no way to read them).
    The banner is whole; what of the page does not fit scrolls into view."""
    win = model_window(qtbot, settings_store, None)
    song = tmp_path / "songs" / "A rather long song title - artist name (remix).mp3"
    song.parent.mkdir()
    song.write_text("not audio")
    error = f"{song}: is not an audio file (it looks like text); choose a song or a video"
    (job,) = win.controller.model.append([Job(song, state=JobState.FAILED, error=error)])
    win.select(job)
    actions = [("Get models…", lambda: None), ("Choose model file…", lambda: None)]
    win.show_error(NOT_AVAILABLE, "model", actions)
    win.resize(1, 1)
    qtbot.waitUntil(lambda: win.size() == win.minimumSize())
    QApplication.processEvents()
    assert win.height() == 420
    page = win.failed_page
    assert win.pages.currentWidget() is page
    for label in (win.banner.label, page.heading, page.reason, page.advice):
        assert label.heightForWidth(label.width()) <= label.height(), label.accessibleName()
    last = page.log_button  # the buttons' row ends the page (no song loaded under it)
    assert last.mapTo(page, QPoint(0, last.height())).y() <= _bottom_reached(page)
    win.close()


def test_the_song_title_takes_no_room_while_no_song_is_on_screen(qtbot, settings_store, tmp_path):
    """Over the drop hint it was shown with no text, an empty line of 18 px."""
    win = model_window(qtbot, settings_store, None)
    QApplication.processEvents()
    top = win.pages.parentWidget().layout().contentsMargins().top()
    assert not win.song_title.isVisibleTo(win) and win.pages.y() == top  # the hint at the top
    job = show_song(win, tmp_path / "Shown.wav")
    assert win.song_title.isVisibleTo(win) and win.song_title.text().startswith("Shown")
    win.show_job(None)  # the song removed
    QApplication.processEvents()
    assert not win.song_title.isVisibleTo(win) and win.pages.y() == top
    bad = Job(tmp_path / "Bad.mp3", state=JobState.FAILED, error="it is not audio")
    win.screen.show_failed(bad)  # a failed song's page names it in the title
    assert win.song_title.isVisibleTo(win) and win.song_title.text() == "Bad  (failed)"
    win.screen.leave_failed()  # back to the hint
    assert not win.song_title.isVisibleTo(win)
    win.screen.show_hint(job)  # a song retried, its stems not begun: its title
    assert win.song_title.isVisibleTo(win) and win.song_title.text().startswith("Shown")
    win.close()
