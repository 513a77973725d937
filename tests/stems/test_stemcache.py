"""The on-disk stem cache: hits give back exactly what was stored; anything else is a miss."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stemgui import stemcache, stemcache_delete, stemcache_entry
from stemgui.separation.model_identity import file_digest
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from tests.fakes import CancelAfter

NAMES = ("drums", "bass", "other", "vocals")
OPTIONS = {"segment": None, "overlap": 0.25, "shifts": 0}


def _stems(seed: int = 0, frames: int = 1000) -> StemSet:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((4, 2, frames)).astype(np.float32)
    mix = data.sum(axis=0)
    return StemSet(NAMES, 8000, data, mix)


def _key(song: str = "a" * 64, model: str = "tiny|" + "b" * 64, **options) -> str:
    return StemCache.key(song, model, {**OPTIONS, **options})


@pytest.fixture
def cache(tmp_path: Path) -> StemCache:
    return StemCache(tmp_path / "cache")


def _only_entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


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


# ----------------------------------------------------------------------------- faults


def test_a_failed_write_leaves_nothing_and_is_a_warning(cache, tmp_path, monkeypatch, caplog):
    real = stemcache_entry._write_npy
    calls = []

    def disk_full(path, array, cancel):
        calls.append(path.name)
        if len(calls) == 2:  # the stems are written; the mix hits a full disk
            path.write_bytes(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", disk_full)
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert not cache.put(_key(), _stems())
    assert calls == ["stems.npy", "mix.npy"]
    assert "No space left" in caplog.text
    assert _only_entries(tmp_path / "cache") == []
    assert cache.get(_key()) is None
    assert cache.problem == (
        f"The disk of the stem cache ({tmp_path / 'cache'}) is full: separated songs are not "
        "kept, and are separated again at every start; free space on it, or lower the stem "
        "cache's size limit (File ▸ Stem cache size…)."
    )
    calls.append("room made")
    assert cache.put(_key(), _stems()) and cache.problem is None


def test_an_exception_mid_write_propagates_and_leaves_nothing(cache, tmp_path, monkeypatch):
    def killed(path, array, cancel):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(stemcache_entry, "_write_npy", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.put(_key(), _stems())
    assert _only_entries(tmp_path / "cache") == []


def test_a_hit_is_read_while_another_entry_is_being_written(cache, monkeypatch):
    """The app parks a song (``get``, on the GUI thread) while the worker stores another: the
    write held the cache's lock, and the window stood still for the whole write."""
    import threading

    cache.put(_key("a" * 64), _stems(1))
    writing, go_on = threading.Event(), threading.Event()
    real = stemcache_entry._write_npy

    def slow(path, array, cancel):  # a long song's gigabytes
        writing.set()
        assert go_on.wait(10)
        return real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", slow)
    stored = []
    worker = threading.Thread(target=lambda: stored.append(cache.put(_key("c" * 64), _stems(2))))
    worker.start()
    assert writing.wait(10)
    got = []
    reader = threading.Thread(target=lambda: got.append(cache.get(_key("a" * 64))))
    reader.start()
    reader.join(5)
    finished_before_the_write = bool(got)
    go_on.set()
    worker.join(10)
    reader.join(10)
    assert finished_before_the_write and stored == [True]
    np.testing.assert_array_equal(got[0].stems, _stems(1).data)
    np.testing.assert_array_equal(cache.get(_key("c" * 64)).stems, _stems(2).data)


def test_storing_a_long_song_s_memory_mapped_stems_leaves_no_pages_behind(cache, tmp_path):
    """A 60-minute song's 6 GB read through to be stored all stayed in the app's memory."""
    from tests.fakes import resident

    stems = _stems(frames=300_000)
    data = np.memmap(tmp_path / "stems.f32", np.float32, "w+", shape=stems.data.shape)
    mix = np.memmap(tmp_path / "mix.f32", np.float32, "w+", shape=stems.mix.shape)
    data[:], mix[:] = stems.data, stems.mix
    data.flush(), mix.flush()
    from stemgui.spool import release_pages

    release_pages(data, 0, 300_000), release_pages(mix, 0, 300_000)
    assert cache.put(_key(), StemSet(NAMES, 8000, data, mix))
    assert resident(data, 0, 300_000) < 0.05 and resident(mix, 0, 300_000) < 0.05
    np.testing.assert_array_equal(cache.get(_key()).stems, stems.data)


def test_cancel_while_storing_leaves_nothing(cache, tmp_path):
    assert not cache.put(_key(), _stems(frames=3 << 20), cancel=CancelAfter(2))
    assert _only_entries(tmp_path / "cache") == []


def test_a_killed_write_looks_like_no_entry_and_is_removed_at_the_next_start(cache, tmp_path):
    key = _key()
    cache.put(key, _stems())
    root = tmp_path / "cache"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # What SIGKILL during a write leaves: the temporary folder, even with every file in it.
    leftover = root / f".{key}.{dead.pid}-0badf00d.stemgui-part"
    shutil.copytree(root / key, leftover)
    shutil.rmtree(root / key)
    assert cache.get(key) is None and cache.keys() == []
    ours = root / f".{key}.{os.getpid()}-12345678.stemgui-part"  # still being written here
    ours.mkdir()
    StemCache(root).keys()  # a new start opens the cache
    assert _only_entries(root) == [ours.name]


def test_an_unusable_cache_folder_is_a_warning_not_an_error(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = StemCache(blocker / "cache")
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        assert cache.get(_key()) is None
        assert not cache.put(_key(), _stems())
    assert caplog.text.count("WARNING") == 2


def test_an_entry_evicted_by_another_run_while_this_one_measures_is_not_an_error(
    tmp_path, monkeypatch
):
    probe = StemCache(tmp_path / "probe")
    probe.put(_key(), _stems())
    cache = StemCache(tmp_path / "cache", max_bytes=probe.size() + probe.size() // 2)
    old, new = _key(song="a" * 64), _key(song="b" * 64)
    assert cache.put(old, _stems(1))
    real = stemcache.last_used

    def last_used(folder: Path) -> int:
        used = real(folder)
        if folder.name == old:  # another run sharing the cache evicts it just now
            shutil.rmtree(folder)
        return used

    monkeypatch.setattr(stemcache, "last_used", last_used)
    assert cache.put(new, _stems(2))  # "never raises for the disk"
    assert cache.keys() == [new]


def test_entries_that_cannot_be_deleted_are_not_counted_as_cleared(cache, monkeypatch):
    """A read-only cache (remove_tree logs what it cannot delete): clear counted every entry
    as deleted, and the window said the cache was cleared."""
    assert cache.put(_key(), _stems()) and cache.put(_key(model="other"), _stems(1))
    monkeypatch.setattr(stemcache_delete, "remove_tree", lambda folder: None)  # nothing goes
    assert cache.clear() == (0, 0, 2)
    assert cache.get(_key()) is not None


def test_a_file_where_the_cache_folder_goes_is_cleared_as_empty(tmp_path):
    """File ▸ Clear stem cache raised NotADirectoryError on the window's thread; get and put
    already only warn about such a cache."""
    root = tmp_path / "cache"
    root.write_bytes(b"not a folder")
    assert StemCache(root).clear() == (0, 0, 0)
    assert root.read_bytes() == b"not a folder"


def test_a_cache_folder_deleted_while_the_app_runs_is_made_again(cache):
    """A cleaner emptying ~/.cache with the window open: every song after it was separated
    without being kept ('No such file or directory', a warning), until the next start."""
    assert cache.put(_key(song="a" * 64), _stems(1))
    shutil.rmtree(cache.root)
    assert cache.put(_key(song="b" * 64), _stems(2))
    np.testing.assert_array_equal(cache.get(_key(song="b" * 64)).stems, _stems(2).data)
