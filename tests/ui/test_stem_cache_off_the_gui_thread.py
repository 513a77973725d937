"""File ▸ Clear stem cache… and File ▸ Stem cache size… walk and delete the cache on a thread:
on the window's thread a big cache froze the window for seconds, for the count that the question
and the dialog say, and for the deleting."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtWidgets import QMessageBox

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import stem_cache_size
from stemgui.ui.stem_cache_size import StemCacheSizeDialog
from tests.ui.song_window import null_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def _put(cache: StemCache) -> None:
    data = np.zeros((2, 2, FRAMES), np.float32)
    assert cache.put("a" * 64, StemSet(("vocals", "other"), 8000, data, data.sum(0)))


class Held:
    """``StemCache.<name>`` held until ``release`` when called off the window's thread (on it,
    it runs at once: the test then fails on ``threads`` rather than hang)."""

    def __init__(self, monkeypatch, name: str) -> None:
        self.threads: list[threading.Thread] = []
        self.release = threading.Event()
        work = getattr(StemCache, name)

        def held(cache, *args):
            self.threads.append(threading.current_thread())
            if self.threads[-1] is not threading.main_thread():
                self.release.wait(20)
            return work(cache, *args)

        monkeypatch.setattr(StemCache, name, held)


def test_clear_deletes_off_the_window_s_thread_then_says_what_went(
    qtbot, settings_store, monkeypatch
):
    window = null_window(qtbot, settings_store, [])
    cache = stem_cache_size.stem_cache_of(window)
    _put(cache)
    clear = Held(monkeypatch, "clear")
    window.menu_bar.clear_stem_cache()
    qtbot.waitUntil(lambda: bool(clear.threads))
    assert clear.threads[0] is not threading.main_thread()
    said = window.statusBar().currentMessage
    assert said() == f"Clearing the stem cache ({cache.root})…"  # at once
    assert not window.menu_bar.clear_action.isEnabled()  # not a second clear meanwhile
    clear.release.set()
    qtbot.waitUntil(lambda: said() == "Stem cache cleared: 1 song, 2 MB.", timeout=20_000)
    assert window.menu_bar.clear_action.isEnabled()
    assert cache.keys() == []
    window.close()


def test_clear_counts_off_the_window_s_thread_before_asking(qtbot, settings_store, monkeypatch):
    window = null_window(qtbot, settings_store, [])
    cache = stem_cache_size.stem_cache_of(window)
    _put(cache)
    usage = Held(monkeypatch, "usage")
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()))  # cancelled
    window.menu_bar.clear_action.trigger()
    qtbot.waitUntil(lambda: bool(usage.threads))
    assert usage.threads[0] is not threading.main_thread()
    said = window.statusBar().currentMessage
    assert said() == f"Counting the stem cache ({cache.root})…" and asked == []
    usage.release.set()
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    assert asked[0].startswith("Delete the stems of 1 song (2 MB) kept in ")
    assert said() == "" and window.menu_bar.clear_action.isEnabled()  # cancelled: as it was
    assert cache.keys() == ["a" * 64]
    window.close()


def test_the_size_dialog_counts_off_the_window_s_thread(qtbot, tmp_path, monkeypatch):
    cache = StemCache(tmp_path / "cache")
    _put(cache)
    usage = Held(monkeypatch, "usage")
    dialog = StemCacheSizeDialog(cache, 4, keeping=True)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(usage.threads))
    assert usage.threads[0] is not threading.main_thread()
    assert dialog.use_label.text() == f"The stem cache ({cache.root}): counting…"
    usage.release.set()
    qtbot.waitUntil(lambda: "counting" not in dialog.use_label.text(), timeout=20_000)
    assert dialog.use_label.text() == (
        f"The stem cache ({cache.root}) holds the stems of 1 song: 2 MB."
    )
