"""The cache of decoded tracks: a track is decoded once; a damaged, half-written or
out-of-date file is decoded again; a cache folder it cannot use is said so."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.training.track_folders import _stems_folder
from training import data


def test_cache_decodes_once(tmp_path, monkeypatch):
    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = data.TrackCache(tmp_path / "cache")
    first = np.array(cache.load(track))
    monkeypatch.setattr(data, "read_track", lambda *a: pytest.fail("decoded twice"))
    second = cache.load(track)
    assert isinstance(second, np.memmap)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("keep", [0, 3000])
def test_a_damaged_cached_track_is_decoded_again(tmp_path, keep, caplog):
    """Cut short, it gave "mmap length is greater than file size" (or a traceback when empty),
    naming no file, at every run."""
    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = data.TrackCache(tmp_path / "cache")
    first = np.array(cache.load(track))
    (cached,) = (tmp_path / "cache").glob("*.npy")
    cached.write_bytes(cached.read_bytes()[:keep])
    again = cache.load(track)
    np.testing.assert_array_equal(first, again)
    assert f"{cached}: damaged" in caplog.text


def test_two_ranks_caching_one_track_at_once_both_get_it(tmp_path, monkeypatch):
    """torchrun on a cold cache: each rank decodes the track and puts its file in place."""
    import os

    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = data.TrackCache(tmp_path / "cache")
    rank = [1001]
    monkeypatch.setattr(os, "getpid", lambda: rank[0])
    real_save = np.save
    results = []

    def save(handle, array):
        real_save(handle, array)
        if rank[0] == 1001 and not results:  # the other rank finishes while this one writes
            rank[0] = 1002
            results.append(np.array(cache.load(track)))
            rank[0] = 1001

    monkeypatch.setattr(np, "save", save)
    mine = cache.load(track)  # was FileNotFoundError: the shared .part was renamed already
    np.testing.assert_array_equal(mine, results[0])
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [cache._file(track).name]


def test_a_cache_folder_that_is_a_file_is_said_so(tmp_path):
    """It said "[Errno 17] File exists", not what the file was taken for."""
    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    (tmp_path / "cache").write_text("")
    with pytest.raises(ValueError, match=r"\[data\] cache\) \S+cache: is a file, not a folder"):
        data.TrackCache(tmp_path / "cache").load(track)


def test_a_cache_folder_name_too_long_is_said_so(tmp_path):
    """It said "[Errno 36] File name too long", naming no option."""
    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = tmp_path / ("c" * 256)
    with pytest.raises(ValueError, match=r"\[data\] cache\) \S+: the name 'c+' is 256 bytes long"):
        data.TrackCache(cache).load(track)
    assert list(tmp_path.iterdir()) == [tmp_path / "src"]


def test_a_cache_folder_it_cannot_write_is_said_so_before_decoding(tmp_path, monkeypatch):
    """It decoded the track, then said "[Errno 13] Permission denied: '<track>.npy'" (on /sys:
    "[Errno 1] Operation not permitted"), naming neither the cache nor what to do."""
    from tests.disk import unwritable_folder

    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    folder = unwritable_folder(tmp_path)

    def decode(*args, **kwargs):
        raise AssertionError("decoded before the cache was checked")

    monkeypatch.setattr(data, "read_track", decode)
    said = r"cache folder \(--cache, or a recipe's \[data\] cache\) \S+: cannot be written"
    for cache in (folder, folder / "new"):
        with pytest.raises(ValueError, match=said + r".*; name another folder$"):
            data.TrackCache(cache).load(track)


def test_what_a_killed_decode_left_in_the_cache_is_removed(tmp_path, monkeypatch):
    """A fit killed while it decoded a track left its hidden part file (hundreds of MB for a
    full song) in the cache for good."""
    import os
    import time

    from stemgui.audio.atomic import part_path_for

    _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = data.TrackCache(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    with monkeypatch.context() as patched:
        patched.setattr(os, "getpid", lambda: 2**22 + 1)  # above Linux's pid_max: gone
        left = part_path_for(cache._file(track))
    left.write_bytes(b"half a track")
    os.utime(left, (time.time() - 120,) * 2)
    cache.load(track)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [cache._file(track).name]


def test_a_stem_rewritten_in_place_is_decoded_again(tmp_path):
    folder = _stems_folder(tmp_path / "src", True)
    (track,) = data.discover([tmp_path / "src"])
    cache = data.TrackCache(tmp_path / "cache")
    assert np.abs(cache.load(track)[4]).max() > 0.1
    sf.write(folder / "vocals.wav", np.zeros((44100, 2)), 44100)  # the folder's stat stays
    assert np.abs(cache.load(track)[4]).max() == 0  # not the old vocals from the cache
