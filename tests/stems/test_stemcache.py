"""The on-disk stem cache: hits give back exactly what was stored; anything else, a damaged
entry too, is a miss; past the size limit the least recently used entries go. Failed,
cancelled, killed and concurrent writes, and a cache folder that is not there:
test_stemcache_faults.py."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from stemgui import stemcache
from stemgui.separation.model_identity import file_digest
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from tests.stems.stemcache_rig import NAMES, OPTIONS, _key, _stems

# ----------------------------------------------------------------------------- hits and misses


def test_a_hit_returns_exactly_the_stored_arrays_memory_mapped(cache, tmp_path):
    stems = _stems()
    key = _key()
    assert cache.put(key, stems, {"model": "tiny", "source": "/songs/a.wav"})
    hit = StemCache(tmp_path / "cache").get(key)  # another object: a new run
    assert hit is not None
    assert hit.names == NAMES and hit.samplerate == 8000 and hit.model_name == "tiny"
    assert isinstance(hit.stems, np.memmap) and not hit.stems.flags.writeable
    np.testing.assert_array_equal(hit.stems, stems.data)
    np.testing.assert_array_equal(hit.mix, stems.mix)
    restored = hit.stemset()
    assert restored.complete and restored.names == NAMES
    np.testing.assert_array_equal(restored.data, stems.data)
    info = json.loads((tmp_path / "cache" / key / "entry.json").read_text())
    assert info["frames"] == 1000 and info["channels"] == 2 and info["source"] == "/songs/a.wav"


def test_stems_without_mix_round_trip(cache):
    stems = _stems()
    stems = StemSet(stems.names, stems.samplerate, stems.data)
    assert cache.put(_key(), stems)
    hit = cache.get(_key())
    assert hit.mix is None
    np.testing.assert_array_equal(hit.stems, stems.data)


def test_the_song_s_own_rate_and_frames_come_back_with_its_stems(cache, tmp_path):
    """A 48,007-frame 48 kHz song's stems exported from the cache at its rate need its count:
    resampled back from the model's rate they are a frame short. An entry from before it was
    kept has none."""
    stems = _stems()
    stems = StemSet(stems.names, stems.samplerate, stems.data, stems.mix, song=(48000, 48007))
    assert cache.put(_key(), stems)
    assert cache.get(_key()).stemset().song == (48000, 48007)
    assert cache.put(_key(model="other"), _stems())
    assert cache.get(_key(model="other")).stemset().song is None


def test_the_key_depends_on_song_model_and_options_but_not_their_order():
    base = _key()
    assert base == StemCache.key("a" * 64, "tiny|" + "b" * 64, dict(reversed(OPTIONS.items())))
    assert len(base) == 64
    others = {
        _key(song="c" * 64),
        _key(model="tiny|" + "d" * 64),  # the same model name, retrained
        _key(overlap=0.5),
        _key(shifts=1),
        _key(segment=4.0),
    }
    assert base not in others and len(others) == 5


def test_another_stemgui_version_makes_another_key(monkeypatch):
    base = _key()
    monkeypatch.setattr(stemcache, "ENGINE_VERSION", "99.0")
    assert _key() != base


def test_a_changed_model_or_option_misses(cache):
    cache.put(_key(), _stems())
    assert cache.get(_key(model="tiny|" + "d" * 64)) is None
    assert cache.get(_key(shifts=2)) is None
    assert cache.get(_key()) is not None


def test_a_modified_song_of_the_same_size_misses(cache, tmp_path):
    song = tmp_path / "song.wav"
    song.write_bytes(bytes(range(256)) * 4000)
    first = file_digest(song)
    cache.put(_key(song=first), _stems())
    stat = song.stat()
    with open(song, "r+b") as handle:  # same size, one byte differs
        handle.seek(500_000)
        handle.write(b"\xff")
    os.utime(song, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = file_digest(song)
    assert second != first and song.stat().st_size == stat.st_size
    assert cache.get(_key(song=second)) is None


@pytest.mark.parametrize("name", ["{outside}", "..", "../outside", "", "k", "A" * 64])
def test_a_name_that_is_no_key_is_a_miss_and_deletes_nothing(cache, tmp_path, name):
    """A session's entry is read back from the settings file: hand-edited to a folder's path
    (or "..": the user cache), the miss that followed deleted that folder as a damaged entry."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "thesis.txt").write_text("years of work")
    cache.put(_key(), _stems())
    name = name.format(outside=outside)
    assert cache.get(name) is None
    cache.remove(name)
    assert (outside / "thesis.txt").read_text() == "years of work"
    assert cache.get(_key()) is not None  # the cache itself is left alone too


def test_put_of_an_existing_entry_keeps_it(cache):
    stems = _stems()
    assert cache.put(_key(), stems)
    assert cache.put(_key(), _stems(seed=9))
    np.testing.assert_array_equal(cache.get(_key()).stems, stems.data)


# ----------------------------------------------------------------------------- size limit


def test_eviction_removes_the_least_recently_used_first(tmp_path):
    probe = StemCache(tmp_path / "probe")
    probe.put(_key(), _stems())
    entry = probe.size()
    cache = StemCache(tmp_path / "cache", max_bytes=2 * entry + entry // 2)  # room for two
    a, b, c, d = (_key(song=letter * 64) for letter in "abcd")
    cache.put(a, _stems(1))
    cache.put(b, _stems(2))
    assert cache.get(a) is not None  # a is now used more recently than b
    cache.put(c, _stems(3))
    assert sorted(cache.keys()) == sorted([a, c]) and cache.evicted == [b]  # the window says
    cache.put(d, _stems(4))  # nothing read since: a is the oldest now
    assert sorted(cache.keys()) == sorted([c, d]) and cache.evicted == [a]
    assert cache.size() <= cache.max_bytes
    cache.put(d, _stems(4))
    assert cache.evicted == []  # stored before: nothing went


def test_an_entry_that_cannot_be_deleted_is_not_counted_as_evicted(tmp_path, monkeypatch):
    """Windows with a song's stems open, a read-only folder: eviction counted the entry's size
    as freed and reported it deleted, so it stopped with the cache over its limit."""
    probe = StemCache(tmp_path / "probe")
    probe.put(_key(), _stems())
    entry = probe.size()
    cache = StemCache(tmp_path / "cache", max_bytes=2 * entry + entry // 2)  # room for two
    a, b, c = (_key(song=letter * 64) for letter in "abc")
    cache.put(a, _stems(1))
    cache.put(b, _stems(2))
    real = os.rename

    def rename(src, dst, **kwargs) -> None:
        if Path(src).name == a:  # its stems are open elsewhere: Windows refuses to move it
            raise PermissionError(13, "in use", str(src))
        real(src, dst, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    assert cache.put(c, _stems(3))
    assert sorted(cache.keys()) == sorted([a, c])  # b went too: a stays, and takes room
    assert cache.size() <= cache.max_bytes
    cache.max_bytes = entry  # room for one
    assert cache.evict() == [c]  # past a, which cannot go, to the next
    assert cache.keys() == [a]


def test_stems_larger_than_the_limit_are_not_stored(tmp_path, caplog):
    cache = StemCache(tmp_path / "cache", max_bytes=10_000)
    with caplog.at_level(logging.INFO, logger="stemgui.stemcache"):
        assert not cache.put(_key(), _stems())
    assert "not cached" in caplog.text
    assert cache.keys() == []
    assert cache.problem == (  # for the window to say, once: the log alone said it
        "Stems larger than the stem cache's size limit (0 MB) cannot be kept, so such songs are "
        "separated again at every start; raise the limit (File ▸ Stem cache size…)."
    )


# ----------------------------------------------------------------------------- damage


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _append(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"x" * 8)


def _reshape(path: Path) -> None:
    np.save(path, np.zeros((4, 2, 999), dtype=np.float32))


def _float64(path: Path) -> None:
    np.save(path, np.zeros((4, 2, 1000), dtype=np.float64))


def _garble_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:10] = b"garbage!!!"
    path.write_bytes(bytes(data))


def _entry(change):
    def damage(path: Path) -> None:
        info = json.loads(path.read_text())
        change(info)
        path.write_text(json.dumps(info))

    return damage


DAMAGE = {
    "truncated stems": ("stems.npy", _truncate),
    "stems with extra bytes": ("stems.npy", _append),
    "stems of another shape": ("stems.npy", _reshape),
    "stems in float64": ("stems.npy", _float64),
    "garbled npy header": ("stems.npy", _garble_header),
    "missing stems": ("stems.npy", Path.unlink),
    "truncated mix": ("mix.npy", _truncate),
    "missing mix": ("mix.npy", Path.unlink),
    "garbled entry.json": ("entry.json", lambda p: p.write_text('{"schema": 1, "ke')),
    "missing entry.json": ("entry.json", Path.unlink),
    "entry.json of another schema": ("entry.json", _entry(lambda i: i.update(schema=99))),
    "entry.json of another key": ("entry.json", _entry(lambda i: i.update(key="0" * 64))),
    "duplicate names": ("entry.json", _entry(lambda i: i.update(names=["a", "a", "b", "c"]))),
    "zero frames": ("entry.json", _entry(lambda i: i.update(frames=0))),
    "song of no frames": ("entry.json", _entry(lambda i: i.update(song=[48000, 0]))),
    "entry.json not an object": ("entry.json", lambda p: p.write_text("[1, 2]")),
    # json raised RecursionError, which failed the song instead of separating it again
    "entry.json nested too deep": ("entry.json", lambda p: p.write_text("[" * 10**5 + "]" * 10**5)),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_dropped_with_a_warning(cache, tmp_path, caplog, damage):
    name, spoil = DAMAGE[damage]
    key = _key()
    cache.put(key, _stems())
    spoil(tmp_path / "cache" / key / name)
    fresh = StemCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert fresh.get(key) is None
    assert "damaged" in caplog.text and "separated again" in caplog.text
    assert not (tmp_path / "cache" / key).exists()
    assert fresh.put(key, _stems())  # the song is stored again after it separates
    np.testing.assert_array_equal(fresh.get(key).stems, _stems().data)


@pytest.mark.parametrize("kind", ["file", "link to an entry", "link to nothing"])
def test_an_entry_that_is_no_folder_is_dropped_and_stored_again(cache, tmp_path, caplog, kind):
    """A file or link where an entry's folder goes (put there by hand, by a sync tool) was
    passed over as no entry, and every put of that song failed on it: never cached again."""
    key, other = _key(), _key(song="c" * 64)
    cache.put(other, _stems(1))
    folder = tmp_path / "cache" / key
    if kind == "file":
        folder.write_bytes(b"not an entry")
    else:
        folder.symlink_to(folder.parent / (other if kind == "link to an entry" else "gone"))
    fresh = StemCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert fresh.get(key) is None
    assert "damaged" in caplog.text and not os.path.lexists(folder)
    assert fresh.put(key, _stems())
    np.testing.assert_array_equal(fresh.get(key).stems, _stems().data)
    np.testing.assert_array_equal(fresh.get(other).stems, _stems(1).data)  # a link's, kept
