"""File ▸ Stem cache size…: the cache's real use, and a limit applied at once and kept; the
song on screen keeps its stems whoever makes room."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui import stem_cache_size, worker_cache
from stemgui.ui.queue import JobState
from stemgui.ui.stem_cache_size import StemCacheSizeDialog, entry_of
from stemgui.ui.window import MainWindow
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.song_window import model_window

FRAMES = 1 << 16  # two stereo stems and the mix, float32: 1.5 MiB an entry


def _put(cache: StemCache, letter: str, used_ns: int) -> str:
    """An entry of 1.5 MiB (and its few hundred bytes of entry.json), last used at ``used_ns``."""
    data = np.zeros((2, 2, FRAMES), np.float32)
    key = letter * 64
    assert cache.put(key, StemSet(("vocals", "other"), 8000, data, data.sum(axis=0)))
    os.utime(cache.root / key / "entry.json", ns=(used_ns, used_ns))
    return key


def _read_from(cache: StemCache, job) -> str | None:
    """The stem cache entry whose files ``job``'s stems are memory-mapped from, or None."""
    name = getattr(getattr(job.stemset, "data", None), "filename", None)
    folder = Path(name).parent if name is not None else None
    return folder.name if folder is not None and folder.parent == cache.root else None


def _window(qtbot, settings_store, tiny_model_file) -> MainWindow:
    return model_window(qtbot, settings_store, tiny_model_file)


def _answer(monkeypatch, limit_gb: int | None) -> list[StemCacheSizeDialog]:
    """The dialog, when shown, is answered with ``limit_gb`` (None: cancelled) once it says
    what the cache holds; returns the dialogs shown."""
    shown = []

    def exec_(dialog: StemCacheSizeDialog) -> int:
        shown.append(dialog)
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while "counting" in dialog.use_label.text():  # counted on a thread; read, then answered
            assert time.monotonic() < deadline
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if limit_gb is None:
            return StemCacheSizeDialog.DialogCode.Rejected
        dialog.limit.setValue(limit_gb)
        return StemCacheSizeDialog.DialogCode.Accepted

    monkeypatch.setattr(StemCacheSizeDialog, "exec", exec_)
    return shown


def test_the_limit_the_dialog_and_clear_count_in_the_same_gigabytes(
    qtbot, settings_store, tiny_model_file, monkeypatch
):
    """The limit was 2^30 bytes a "GB" and so was the dialog's use, while Clear stem cache
    said decimal MB: the same 2.5 GB read 2.3 GB in one and 2500 MB in the other."""
    settings = S.Settings(settings_store)
    settings.set(S.STEM_CACHE_GB, 3)
    window = _window(qtbot, settings_store, tiny_model_file)
    cache = window.controller.worker.stem_cache
    assert cache.max_bytes == 3 * 10**9  # 3 GB, as the spin box says
    entry = cache.root / ("a" * 64)
    entry.mkdir(parents=True)
    with open(entry / "stems.npy", "wb") as sparse:  # 2.5 GB said, no disk taken
        sparse.truncate(2_500_000_000)
    shown = _answer(monkeypatch, None)
    window.menu_bar.stem_cache_size()
    assert shown[0].use_label.text().endswith("holds the stems of 1 song: 2.5 GB.")
    window.menu_bar.clear_stem_cache()
    said = window.statusBar().currentMessage
    qtbot.waitUntil(lambda: not said().startswith("Clearing"))  # on a thread
    assert said() == "Stem cache cleared: 1 song, 2.5 GB."
    window.close()


def test_the_dialog_shows_what_the_cache_holds_and_the_setting_s_limits(qtbot, tmp_path):
    cache = StemCache(tmp_path / "cache")
    _put(cache, "a", 1)
    _put(cache, "b", 2)
    dialog = StemCacheSizeDialog(cache, 4, keeping=True)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "counting" not in dialog.use_label.text())  # on a thread
    assert dialog.use_label.text() == (
        f"The stem cache ({tmp_path / 'cache'}) holds the stems of 2 songs: 3 MB."
    )
    assert (dialog.limit.minimum(), dialog.limit.maximum()) == S.STEM_CACHE_GB.limits
    assert dialog.limit_gb == 4
    empty = StemCacheSizeDialog(StemCache(tmp_path / "none"), 4, keeping=True)
    qtbot.addWidget(empty)
    qtbot.waitUntil(lambda: "counting" not in empty.use_label.text())
    assert empty.use_label.text().endswith("holds the stems of 0 songs: 0 MB.")
    assert not (tmp_path / "none").exists()  # looking creates nothing


def test_a_lower_limit_deletes_the_oldest_songs_never_the_one_on_screen(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)  # the limit in MiB: entries of 1.5
    window = _window(qtbot, settings_store, tiny_model_file)
    (job,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: job.state is JobState.DONE and bool(job.stem_entry), timeout=TIMEOUT_MS)
    assert window.shown_job is job
    cache = window.controller.worker.stem_cache
    os.utime(cache.root / job.stem_entry / "entry.json", ns=(1, 1))  # the oldest of all
    other_run = StemCache(cache.root)  # stores the others under its own, higher limit
    a, b, c = (_put(other_run, letter, used) for letter, used in (("a", 2), ("b", 3), ("c", 4)))
    shown = _answer(monkeypatch, 2)
    window.menu_bar.stem_cache_size()
    assert len(shown) == 1 and "holds the stems of 4 songs" in shown[0].use_label.text()
    said = window.statusBar().currentMessage
    qtbot.waitUntil(lambda: said() != "Stem cache limit: 2 GB.")  # deleted on a thread
    assert sorted(cache.keys()) == sorted([job.stem_entry, c])  # a and b went, oldest first
    assert cache.size() <= 2 << 20
    assert said().startswith(
        "Stem cache limit: 2 GB. The stems of the 2 songs used least recently were deleted ("
    )
    assert {a, b}.isdisjoint(cache.keys())
    assert cache.max_bytes == 2 << 20  # the worker's next store keeps to it
    window.close()

    assert S.Settings(settings_store).get(S.STEM_CACHE_GB) == 2  # kept for the next start
    again = _window(qtbot, settings_store, tiny_model_file)
    assert again.controller.worker.stem_cache.max_bytes == 2 << 20
    shown = _answer(monkeypatch, None)
    again.menu_bar.stem_cache_size()
    assert shown[0].limit_gb == 2  # offered as saved; cancelled, nothing changes
    assert sorted(cache.keys()) == sorted([job.stem_entry, c])
    again.close()


def test_songs_of_the_queue_whose_stems_went_are_named(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    monkeypatch.setattr(stem_cache_size, "GB", 1 << 20)
    window = _window(qtbot, settings_store, tiny_model_file)
    first, second = window.add_paths(songs)
    cache = window.controller.worker.stem_cache
    stored = (first, second)
    qtbot.waitUntil(lambda: None not in map(entry_of, stored), timeout=TIMEOUT_MS)
    assert window.shown_job is first
    entries = [entry_of(job) for job in stored]  # the second, parked, reads its own
    assert sorted(entries) == sorted(cache.keys())
    for used, entry in enumerate(entries, 1):
        os.utime(cache.root / entry / "entry.json", ns=(used, used))
    _put(StemCache(cache.root), "a", 3)  # past the 1 "GB" (MiB) on its own
    _answer(monkeypatch, 1)
    window.menu_bar.stem_cache_size()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() != "Stem cache limit: 1 GB.")
    assert cache.keys() == [entries[0]]
    said = window.statusBar().currentMessage()
    assert said.startswith("Stem cache limit: 1 GB. The stems of the 2 songs used least ")
    assert said.endswith(
        " In the queue, b.wav keeps its stems until removed or the app closes, and will be "
        "separated again at the next start."
    )
    assert second.stemset is not None and second.state is JobState.DONE
    window.close()


@pytest.mark.parametrize("keep", [True, False])
def test_a_higher_limit_deletes_nothing(qtbot, settings_store, tiny_model_file, monkeypatch, keep):
    """With keeping stems off, the cache's folder is still the one shown and limited."""
    settings = S.Settings(settings_store)
    settings.set(S.KEEP_STEMS, keep)
    window = _window(qtbot, settings_store, tiny_model_file)
    cache = stem_cache_size.stem_cache_of(window)
    _put(cache, "a", 1)
    _answer(monkeypatch, 9)
    window.menu_bar.stem_cache_size()
    assert cache.keys() == ["a" * 64]
    assert window.statusBar().currentMessage() == "Stem cache limit: 9 GB."
    assert S.Settings(settings_store).get(S.STEM_CACHE_GB) == 9
    window.close()


def test_storing_a_new_song_never_evicts_the_song_on_screen(
    qtbot, settings_store, tiny_model_file, songs
):
    """The worker's store made room protecting only the new entry: the song on screen, the
    least recently used, lost its stems (deleted under its player; separated again at the next
    start although the session said they were kept)."""
    window = _window(qtbot, settings_store, tiny_model_file)
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: entry_of(first) is not None, timeout=TIMEOUT_MS)
    cache = window.controller.worker.stem_cache
    on_screen = entry_of(first)
    cache.max_bytes = cache.size() * 3 // 2  # room for one song's stems, not two
    (second,) = window.add_paths(songs[1:])
    qtbot.waitUntil(lambda: entry_of(second) is not None, timeout=TIMEOUT_MS)
    assert window.shown_job is first
    assert sorted(cache.keys()) == sorted([on_screen, entry_of(second)])  # over the limit
    window.close()


def test_a_song_shown_while_the_new_one_is_written_keeps_its_stems(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    """The worker asked which song was on screen before writing the new song's stems (seconds
    for a long song) and made room after: a song shown meanwhile was not protected, and its
    stems were deleted under its player. It asks when it makes room."""
    import shutil

    from stemgui import stemcache

    window = _window(qtbot, settings_store, tiny_model_file)
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: entry_of(first) is not None, timeout=TIMEOUT_MS)
    cache = window.controller.worker.stem_cache
    shown = "e" * 64  # an older song's stems, the least recently used
    shutil.copytree(cache.root / entry_of(first), cache.root / shown)
    os.utime(cache.root / shown / "entry.json", ns=(1, 1))
    cache.max_bytes = cache.size() * 5 // 4  # room for two songs' stems, not three
    on_screen = [entry_of(first)]
    window.controller.worker.on_screen = lambda: on_screen[-1]
    write_entry = stemcache.write_entry

    def written_while_another_is_shown(*args, **kwargs):
        on_screen.append(shown)  # the user shows the older song meanwhile
        return write_entry(*args, **kwargs)

    monkeypatch.setattr(stemcache, "write_entry", written_while_another_is_shown)
    (second,) = window.add_paths(songs[1:])
    qtbot.waitUntil(lambda: entry_of(second) is not None, timeout=TIMEOUT_MS)
    assert on_screen[-1] == shown
    assert sorted(cache.keys()) == sorted([shown, entry_of(second)])  # the first made room
    window.close()


def test_a_song_parked_then_shown_again_keeps_its_stems_without_a_stamp(
    qtbot, settings_store, tiny_model_file, songs, tmp_path, monkeypatch
):
    """Parking a song forgot its entry: with no ``kept`` (its model's files could not be
    stamped), shown again it was not protected, and the store of the next song deleted the
    stems its player reads."""
    monkeypatch.setattr(worker_cache, "model_stamps", lambda spec: None)
    window = _window(qtbot, settings_store, tiny_model_file)
    first, second = window.add_paths(songs)
    cache = window.controller.worker.stem_cache
    qtbot.waitUntil(lambda: _read_from(cache, second) is not None, timeout=TIMEOUT_MS)  # parked
    entry = _read_from(cache, second)
    assert second.kept is None
    window.select(second)  # on screen again, the first song parked
    assert window.shown_job is second and entry_of(second) == entry
    assert _read_from(cache, first) not in (None, entry)
    cache.max_bytes = cache.size() * 3 // 4  # room for one song's stems and a half
    (third,) = window.add_paths([write_song(tmp_path / "c.wav", seed=3)])
    qtbot.waitUntil(lambda: _read_from(cache, third) is not None, timeout=TIMEOUT_MS)
    assert sorted(cache.keys()) == sorted([entry, _read_from(cache, third)])  # not the first
    window.close()


def test_a_song_added_again_or_answered_from_the_cache_knows_its_entry(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    """Without a kept stamp, a song added again (sharing its first row's stems, also before
    they were stored) and a song answered from the stem cache had no entry on screen: making
    room deleted the stems its player reads."""
    monkeypatch.setattr(worker_cache, "model_stamps", lambda spec: None)
    window = _window(qtbot, settings_store, tiny_model_file)
    cache = window.controller.worker.stem_cache
    again, entry_then = [], []

    def add_again(job) -> None:  # as soon as it is separated: before the worker stores it
        if job is first:
            window.controller.job_ended.disconnect(add_again)
            entry_then.append(first.stem_entry)
            again.extend(window.add_paths(songs[:1]))

    window.controller.job_ended.connect(add_again)
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: bool(first.stem_entry), timeout=TIMEOUT_MS)
    entry = first.stem_entry
    (second,) = again
    assert entry_then == [""]  # not stored yet when it was added again
    (third,) = window.add_paths(songs[:1])  # after it was stored
    assert first.stemset is second.stemset is third.stemset
    _put(StemCache(cache.root), "a", 1)  # another song's stems, to make room from
    cache.max_bytes = 0
    for row in (second, third):
        window.select(row)
        assert entry_of(row) == entry
        cache.evict(window.controller.worker.on_screen())  # as the worker's next store does
        assert cache.keys() == [entry]

    for row in (first, second, third):
        window.remove_job(row)
    (answered,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: answered.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert window.shown_job is answered and _read_from(cache, answered) == entry
    qtbot.waitUntil(lambda: entry_of(answered) == entry, timeout=TIMEOUT_MS)
    window.close()


def test_a_song_of_the_queue_whose_stems_made_room_is_said_and_still_plays(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """The worker's store deleted the entry a song of the queue reads its stems from without a
    word (only File ▸ Stem cache size… said it). Selected again, the song plays its stems (a
    file deleted stays readable while it is mapped) and is separated again at the next start."""
    window = _window(qtbot, settings_store, tiny_model_file)
    first, second = window.add_paths(songs)
    cache = window.controller.worker.stem_cache
    qtbot.waitUntil(lambda: _read_from(cache, second) is not None, timeout=TIMEOUT_MS)  # parked
    heard = np.array(second.stemset.data)
    cache.max_bytes = cache.size() * 3 // 4  # room for the song on screen and the new one
    (third,) = window.add_paths([write_song(tmp_path / "c.wav", seed=3)])
    said = window.statusBar().currentMessage
    # the worker says what it evicted after it says the stems are stored (which parks them)
    qtbot.waitUntil(
        lambda: _read_from(cache, third) is not None and said().startswith("The stems of"),
        timeout=TIMEOUT_MS,
    )
    assert sorted(cache.keys()) == sorted([entry_of(first), entry_of(third)])  # not second's
    assert said() == (
        "The stems of songs used least recently were deleted from the stem cache to make room "
        "(File ▸ Stem cache size… sets its limit). In the queue, b.wav keeps its stems until "
        "removed or the app closes, and will be separated again at the next start."
    )

    window.select(second)
    assert window.shown_job is second and window.player.stemset is second.stemset
    assert window.pages.currentWidget() is window.stems and heard.any()
    np.testing.assert_array_equal(second.stemset.data, heard)  # not silence
    window.close()
