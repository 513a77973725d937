"""File ▸ Stem cache size…: each opening made a dialog, a child of the window, that was never
deleted: one more kept alive (and its counting thread's result handed to it) at every opening."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from stemgui.ui.stem_cache_size import StemCacheSizeDialog
from tests.ui.song_window import null_window


def test_opening_the_dialog_twice_leaves_one_alive_then_none(qtbot, settings_store, monkeypatch):
    window = null_window(qtbot, settings_store, [])
    alive = []

    def exec_(dialog: StemCacheSizeDialog) -> int:
        alive.append(len(window.findChildren(StemCacheSizeDialog)))
        return StemCacheSizeDialog.DialogCode.Rejected

    monkeypatch.setattr(StemCacheSizeDialog, "exec", exec_)
    for _ in range(2):
        window.menu_bar.stem_cache_size()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the event loop's turn
    assert alive == [1, 1]
    assert window.findChildren(StemCacheSizeDialog) == []
    window.close()
