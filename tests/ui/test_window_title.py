"""The window's title names the song on screen, as desktop apps name their document ("Night
Drive — stemgui"): it said "stemgui" alone whatever was shown, and a taskbar or window switcher
with two songs' windows could not tell them apart."""

from __future__ import annotations

from tests.ui.conftest import write_song
from tests.ui.song_window import model_window, show_song


def test_the_title_names_the_song_on_screen_and_none_without_one(qtbot, settings_store, tmp_path):
    win = model_window(qtbot, settings_store, None)
    assert win.windowTitle() == "stemgui"
    job = show_song(win, tmp_path / "Night Drive.wav")
    assert win.windowTitle() == "Night Drive — stemgui"
    win.remove_job(job)  # nothing left on screen: the drop hint
    assert win.windowTitle() == "stemgui"
    win.close()


def test_a_failed_song_s_page_and_a_waiting_song_name_their_song(qtbot, settings_store, tmp_path):
    # a chosen model file that is gone (a drive unplugged): the song waits for it
    win = model_window(qtbot, settings_store, tmp_path / "unplugged" / "mine.stemgui")
    (job,) = win.add_paths([write_song(tmp_path / "Waiting Song.wav")])
    assert win.windowTitle() == "Waiting Song — stemgui"  # named in the hint's place
    win.screen.show_failed(job)
    assert win.windowTitle() == "Waiting Song — stemgui"
    win.close()
