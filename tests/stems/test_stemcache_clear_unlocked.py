"""File ▸ Clear stem cache holds the stem cache's lock to set the entries aside, not while it
deletes them (seconds for long songs' stems): the worker storing a song meanwhile does not wait
for the deletion, and its entry, the same song's as one cleared or another's, is kept whole."""

from __future__ import annotations

import threading

import numpy as np

from stemgui import stemcache_delete
from stemgui.stemcache import StemCache
from tests.stems.stemcache_rig import _key, _stems

WAIT_S = 10  # for an event another thread sets: only a lock held that long waits it out


def test_songs_are_stored_while_the_cleared_entries_are_deleted(tmp_path, monkeypatch):
    cache = StemCache(tmp_path / "cache")
    a, b, c = (_key(song=letter * 64) for letter in "abc")
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    deleting, stored, in_time, said = threading.Event(), threading.Event(), [], []
    remove_tree = stemcache_delete.remove_tree

    def slow(folder):  # long songs' stems: seconds to delete
        deleting.set()
        in_time.append(stored.wait(WAIT_S))
        remove_tree(folder)

    def store():  # the worker: a song being cleared, stored again, and a new one
        said.extend([cache.put(a, _stems(3)), cache.put(c, _stems(4))])
        stored.set()

    monkeypatch.setattr(stemcache_delete, "remove_tree", slow)
    cleared = []
    clear = threading.Thread(target=lambda: cleared.append(cache.clear()))
    clear.start()
    assert deleting.wait(WAIT_S)
    worker = threading.Thread(target=store)
    worker.start()
    worker.join(WAIT_S)
    clear.join()
    assert in_time == [True, True] and said == [True, True]
    assert cleared[0][0] == 2 and cleared[0][2] == 0
    assert sorted(cache.keys()) == sorted([a, c]) and not list(tmp_path.glob("cache/.*"))
    np.testing.assert_array_equal(cache.get(a).stems, _stems(3).data)  # not a hit of the old
    np.testing.assert_array_equal(cache.get(c).stems, _stems(4).data)
