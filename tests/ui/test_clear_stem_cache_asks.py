"""File ▸ Clear stem cache… asks first, saying how many songs' stems go and how much: one click
deleted every song's stems, hours of separating on a slow computer, without a word before."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.song_window import model_window


def _entry(cache, letter: str, size: int) -> None:
    entry = cache.root / (letter * 64)
    entry.mkdir(parents=True)
    with open(entry / "stems.npy", "wb") as sparse:  # the size said, no disk taken
        sparse.truncate(size)


def _answer(monkeypatch, button_text: str, asked: list[str]) -> None:
    """When the question shows (once the cache is counted, on a thread): note its words and
    click the button whose text is given."""

    def answer(box: QMessageBox) -> None:
        asked.append(box.text())
        (button,) = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
        button.click()

    monkeypatch.setattr(QMessageBox, "exec", answer)


def _said_after_clear(qtbot, window) -> str:
    """What the status bar says once the clear ended (the cache counted, then the stems
    deleted, on a thread)."""
    said = window.statusBar().currentMessage
    qtbot.waitUntil(lambda: window.menu_bar.clear_action.isEnabled())
    return said()


def _clear_action(window):
    (action,) = [a for a in window.actions() if a.text().startswith("&Clear stem cache")]
    return action


def test_clear_stem_cache_asks_and_cancel_keeps_the_stems(
    qtbot, settings_store, tiny_model_file, monkeypatch
):
    window = model_window(qtbot, settings_store, tiny_model_file)
    cache = window.controller.worker.stem_cache
    _entry(cache, "a", 1_500_000_000)
    _entry(cache, "b", 1_000_000_000)
    asked: list[str] = []
    _answer(monkeypatch, "Cancel", asked)
    _clear_action(window).trigger()
    assert _said_after_clear(qtbot, window) == ""
    assert asked == [
        f"Delete the stems of 2 songs (2.5 GB) kept in {cache.root}? Those songs are separated "
        "again when they are next opened."
    ]
    assert cache.usage() == (2, 2_500_000_000)  # kept
    _answer(monkeypatch, "Delete the stems", asked)
    _clear_action(window).trigger()
    assert _said_after_clear(qtbot, window) == "Stem cache cleared: 2 songs, 2.5 GB."
    assert cache.usage() == (0, 0)
    window.close()


def test_an_empty_cache_is_not_asked_about(qtbot, settings_store, tiny_model_file, monkeypatch):
    window = model_window(qtbot, settings_store, tiny_model_file)
    asked: list[str] = []
    _answer(monkeypatch, "Cancel", asked)
    _clear_action(window).trigger()
    assert _said_after_clear(qtbot, window) == "Stem cache cleared: 0 songs, 0 MB."
    assert asked == []  # no question: nothing would wait for an answer
    window.close()


def test_the_question_is_deleted_once_answered(qtbot, settings_store, tiny_model_file, monkeypatch):
    """The question was a child of the window never deleted: one more kept at every asking."""
    window = model_window(qtbot, settings_store, tiny_model_file)
    _entry(window.controller.worker.stem_cache, "a", 1_000_000)
    asked: list[str] = []
    _answer(monkeypatch, "Cancel", asked)
    for _ in range(2):
        _clear_action(window).trigger()
        _said_after_clear(qtbot, window)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the event loop's turn
    assert len(asked) == 2
    assert window.findChildren(QMessageBox) == []
    window.close()
