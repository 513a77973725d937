"""What the session tests share: a place in a song, a window with the tiny model, and a first
session of two songs each left at its own place."""

from __future__ import annotations

from stemgui.ui.place import Place
from stemgui.ui.window import MainWindow
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.song_window import model_window

PLACE = Place(0.375, (0.25, 0.5), True, (0.125, 0.625))


def _window(qtbot, settings_store, tiny_model_file) -> MainWindow:
    return model_window(qtbot, settings_store, tiny_model_file)


def _first_session(qtbot, settings_store, tiny_model_file, songs):
    """Both songs separated and stored; the first left at 0.75 s zoomed in on its second half,
    the second (on screen at the close) looping 0.25-0.5 s at 0.375 s, zoomed on 0.125-0.625 s."""
    win = _window(qtbot, settings_store, tiny_model_file)
    a, b = win.add_paths(songs)
    qtbot.waitUntil(lambda: a.kept is not None and b.kept is not None, timeout=TIMEOUT_MS)
    assert win.shown_job is a
    win.player.seek(6000)  # 8000 frames a second
    win.timeline.set_view(4000, 8000)
    win.select(b)
    win.player.set_loop(2000, 4000)
    win.player.seek(3000)
    win.timeline.set_view(1000, 5000)
    win.close()
