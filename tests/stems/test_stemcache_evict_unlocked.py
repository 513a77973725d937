"""Eviction holds the stem cache's lock to pick entries and set them aside, not while it deletes
them (seconds for a long song's stems): a correction of a song's tempo written meanwhile on the
GUI thread (``update_info``) does not wait for the deletion."""

from __future__ import annotations

import threading

from stemgui import stemcache_delete
from stemgui.stemcache import StemCache
from tests.stems.stemcache_rig import _key, _stems

WAIT_S = 10  # for an event another thread sets: only a lock held that long waits it out


def test_an_entry_is_written_while_the_evicted_ones_are_deleted(tmp_path, monkeypatch):
    cache = StemCache(tmp_path / "cache")
    old, shown = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(old, _stems(1)) and cache.put(shown, _stems(2))
    deleting, written, in_time = threading.Event(), threading.Event(), []
    remove_tree = stemcache_delete.remove_tree

    def slow(folder):  # a long song's stems: seconds to delete
        deleting.set()
        in_time.append(written.wait(WAIT_S))
        remove_tree(folder)

    monkeypatch.setattr(stemcache_delete, "remove_tree", slow)
    cache.max_bytes = cache.size() // 2 + 1  # room for one
    removed = []
    evict = threading.Thread(target=lambda: removed.append(cache.evict(shown)))
    evict.start()
    assert deleting.wait(WAIT_S)
    assert cache.update_info(shown, {"tempo_factor": 2.0})  # the GUI thread's, at once
    assert cache.get(shown).info["tempo_factor"] == 2.0
    written.set()
    evict.join()
    assert in_time == [True] and removed == [[old]]
    assert cache.keys() == [shown] and not list(tmp_path.glob("cache/.*"))  # nothing aside


def test_an_entry_of_which_nothing_went_is_put_back_and_the_next_goes(tmp_path, monkeypatch):
    """A read-only folder: set aside, nothing of it deleted; whole again under its name."""
    cache = StemCache(tmp_path / "cache")
    a, b, c = (_key(song=letter * 64) for letter in "abc")
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2)) and cache.put(c, _stems(3))
    remove_tree = stemcache_delete.remove_tree

    def read_only_a(folder):
        if folder.name != a:
            remove_tree(folder)

    monkeypatch.setattr(stemcache_delete, "remove_tree", read_only_a)
    cache.max_bytes = cache.size() // 3 + 1  # room for one
    assert cache.evict(c) == [b]  # past a, which cannot go, to the next
    assert sorted(cache.keys()) == sorted([a, c]) and cache.get(a) is not None
    assert not list(tmp_path.glob("cache/.*"))
