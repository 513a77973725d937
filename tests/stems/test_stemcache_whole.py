"""A stem cache entry is whole or not there: a store during File ▸ Clear stem cache, an entry
whose stems are open (Windows refuses to delete them) evicted or cleared."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from stemgui import stemcache
from stemgui.stemcache import StemCache
from tests.stems.test_stemcache import _key, _stems


def test_stems_stored_during_a_clear_are_kept(tmp_path, monkeypatch):
    """A song finished while the cache was cleared was found stored (a hit), said kept, then
    deleted by the clear: the next start separated it again."""
    cache = StemCache(tmp_path / "cache")
    a, b = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(a, _stems(1)) and cache.put(b, _stems(2))
    real, worker, said = stemcache._delete, {}, []

    def delete(folder: Path):
        if not worker:  # the worker stores the other song while the first entry goes
            worker["key"] = other = b if folder.name == a else a
            worker["thread"] = threading.Thread(
                target=lambda: said.append(cache.put(other, _stems(3)))
            )
            worker["thread"].start()
            worker["thread"].join(2)  # done here without the lock; waits for the clear with it
        return real(folder)

    monkeypatch.setattr(stemcache, "_delete", delete)
    cache.clear()
    worker["thread"].join(10)
    assert said == [True]
    hit = cache.get(worker["key"])
    assert hit is not None  # kept, as put said
    np.testing.assert_array_equal(hit.stems, _stems(3).data)
