"""A long message in the banner is whole at the window's smallest size: its buttons go under
the words when beside them the words would need more room."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from stemgui.ui import settings as S
from stemgui.ui.banner import Banner
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.song_window import show_song

ACTIONS = [("Get models…", lambda: None), ("Choose model file…", lambda: None)]
# about 500 characters, as the banner says of a model that cannot be used, with its paths
LONG = (
    "The chosen model “stemgui-htdemucs-finetuned-on-my-whole-library-2026-v3” cannot be "
    "loaded, so the songs wait: /home/someone/Music/models/stemgui-htdemucs-finetuned-on-my-"
    "whole-library-2026-v3.stemgui holds weights for a network of 48 channels, and the "
    "architecture it names was built with 24; it was saved by a newer stemgui (2.3) than "
    "this one (2.1) or damaged since. Choose another model in the Model menu or a model "
    "file, or download one of the official models with Get models…, then the songs go on."
)


def _whole(label) -> bool:
    return label.heightForWidth(label.width()) <= label.height()


def _top(widget, banner) -> int:
    return widget.mapTo(banner, QPoint(0, 0)).y()


@pytest.mark.parametrize("with_song", [False, True])
def test_a_500_character_banner_is_whole_at_the_smallest_size(
    qtbot, settings_store, tmp_path, with_song
):
    """Beside its two buttons the words got 201-233 px of width and lost their last lines
    (the label 201 of the 210 px its lines needed with a song on screen)."""
    assert len(LONG) >= 500
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    if with_song:
        show_song(win, tmp_path / "Shown.wav")
    win.show_error(LONG, "model", ACTIONS)
    win.resize(1, 1)
    win.centralWidget().setSizes([10_000, 1])  # the queue as wide as it goes
    qtbot.waitUntil(lambda: win.size() == win.minimumSize())
    for _ in range(3):  # the banner's rows settle over a pass or two
        QApplication.processEvents()
    assert _whole(win.banner.label)
    win.close()


def test_a_short_message_keeps_its_buttons_beside_it(qtbot):
    """One line of words with a button beside it takes one row, not two."""
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message("Playback is off: no audio output.", [("Try again", lambda: None)])
    banner.resize(900, banner.heightForWidth(900))
    QApplication.processEvents()
    (button,) = banner.buttons
    assert _top(button, banner) < banner.label.y() + banner.label.height()  # on the words' row


def test_long_words_take_the_whole_width_with_the_buttons_under_them(qtbot):
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message(LONG, ACTIONS)
    banner.resize(500, 400)
    QApplication.processEvents()
    QApplication.processEvents()
    label = banner.label
    assert all(_top(b, banner) >= label.y() + label.height() for b in banner.buttons)
    assert label.width() > 400
    assert _whole(label)
