"""Two ``StemCache`` objects of one folder take turns as one does: the window makes its own for
File ▸ Clear stem cache and Stem cache size… while Keeping stems is off, and the worker may still
be storing a song's stems with the object it had."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from stemgui import stemcache, stemcache_delete
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet

OPTIONS = {"segment": None, "overlap": 0.25, "shifts": 0}
WAIT_S = 30  # for an event another thread sets: only a hang waits this long


def _stems(seed: int) -> StemSet:
    data = np.random.default_rng(seed).standard_normal((4, 2, 500)).astype(np.float32)
    return StemSet(("drums", "bass", "other", "vocals"), 8000, data, data.sum(axis=0))


def test_a_store_on_one_cache_object_waits_for_a_clear_on_another_of_its_folder(
    tmp_path: Path, monkeypatch
):
    worker_cache, window_cache = StemCache(tmp_path / "c"), StemCache(tmp_path / "c")
    old, new = (StemCache.key(song * 64, "tiny|" + "b" * 64, OPTIONS) for song in "12")
    assert worker_cache.put(old, _stems(1))
    order: list[str] = []
    clearing, go_on = threading.Event(), threading.Event()
    set_aside, mark_used = stemcache_delete.set_aside, stemcache.mark_used

    def held_set_aside(folder):  # the clear, in the middle of setting the old entry aside
        order.append("clear")
        clearing.set()
        go_on.wait(WAIT_S)
        order.append("cleared")
        return set_aside(folder)

    def marked(folder):  # a stored entry, just renamed into place
        order.append(f"stored {folder.name == new}")
        mark_used(folder)

    monkeypatch.setattr(stemcache_delete, "set_aside", held_set_aside)
    monkeypatch.setattr(stemcache, "mark_used", marked)
    clear = threading.Thread(target=window_cache.clear)
    clear.start()
    assert clearing.wait(WAIT_S)
    store = threading.Thread(target=worker_cache.put, args=(new, _stems(2)))
    store.start()
    store.join(0.5)  # long enough for the store to end, were it not waiting for the clear
    go_on.set()
    clear.join()
    store.join()
    assert order == ["clear", "cleared", "stored True"]
    assert worker_cache.keys() == window_cache.keys() == [new]
