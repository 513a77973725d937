"""The stem cache and the session: stems kept between starts, read back off screen, shared by
a song added again; the queue and its mix reopened at the next start; what cannot be kept or
found is said."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stemgui import stemcache_delete
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS, write_song


def _clear(qtbot, window: MainWindow) -> None:
    """File ▸ Clear stem cache, without asking, until the status bar says how it went (the
    stems are deleted on a thread)."""
    window.menu_bar.clear_stem_cache()
    qtbot.waitUntil(lambda: not window.statusBar().currentMessage().startswith("Clearing"))


def test_stems_not_kept_are_said_once_per_cause(window):
    """Stems the cache could not keep were said in the log alone, and every start separated
    those songs again without a word: the banner says why once per cause."""
    window.controller.not_kept.emit("The stem cache folder /c cannot be written: ...")
    assert window.messages.about == "stemcache"
    assert window.message == "The stem cache folder /c cannot be written: ..."
    window.messages.clear("stemcache")
    window.controller.not_kept.emit("The stem cache folder /c cannot be written: ...")
    assert not window.banner.isVisibleTo(window)  # said already
    window.controller.not_kept.emit("The disk of the stem cache (/c) is full: ...")
    assert window.message == "The disk of the stem cache (/c) is full: ..."
    assert window.banner.isVisibleTo(window)


def test_a_stem_cache_that_cannot_be_cleared_says_so(qtbot, window, tmp_path, monkeypatch):
    """Clear stem cache on a read-only cache said "Stem cache cleared: 1 songs", all kept."""
    cache = window.controller.worker.stem_cache = StemCache(tmp_path / "cache")
    data = np.ones((2, 2, 100), np.float32)
    assert cache.put("a" * 64, StemSet(("vocals", "other"), 8000, data, data.sum(axis=0)))
    monkeypatch.setattr(stemcache_delete, "remove_tree", lambda folder: None)  # nothing goes
    _clear(qtbot, window)
    assert window.statusBar().currentMessage() == (
        "Stem cache cleared: 0 songs, 0 MB. The stems of 1 song could not be deleted from "
        f"{tmp_path / 'cache'}: make it writable, then clear it again (the log names the files)."
    )


def test_a_stem_cache_folder_that_cannot_be_read_is_said_by_clear(
    qtbot, window, tmp_path, monkeypatch
):
    """Clear stem cache on a folder that cannot be listed raised PermissionError out of the
    menu's slot; it says so in the status bar, as File ▸ Stem cache size… does."""
    cache = window.controller.worker.stem_cache = StemCache(tmp_path / "cache")

    def refused() -> list:
        raise PermissionError(13, "Permission denied", str(cache.root))

    monkeypatch.setattr(cache, "_entry_folders", refused)
    _clear(qtbot, window)
    assert window.statusBar().currentMessage() == (
        f"The stem cache folder {cache.root} cannot be read (Permission denied): make it a "
        "folder you can read and write."
    )


def test_stems_are_kept_between_sessions_until_the_cache_is_cleared(
    qtbot, settings_store, tiny_model_file, songs
):
    """Default: a second window (a restart) opens the song's stems from the cache without
    separating; File > Clear stem cache empties it; unticking Keep stems turns the cache off."""

    def session():
        settings = S.Settings(settings_store)
        settings.set(S.MODEL, str(tiny_model_file))
        settings.set(S.DEVICE, "cpu")
        win = MainWindow(settings, output_factory=FakeOutput, probe=False)
        qtbot.addWidget(win)
        (job,) = win.add_paths([songs[0]])
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        return win, job

    first, job = session()
    cache = first.controller.worker.stem_cache
    assert first.menu_bar.keep_stems_action.isChecked()
    qtbot.waitUntil(lambda: len(cache.keys()) == 1, timeout=TIMEOUT_MS)  # stored after DONE
    first.close()

    second, again = session()
    assert isinstance(again.stemset.data, np.memmap)  # read from the cache, not separated
    np.testing.assert_array_equal(np.asarray(again.stemset.data), job.stemset.data)
    _clear(qtbot, second)
    assert cache.keys() == []
    said = second.statusBar().currentMessage()
    assert said.startswith("Stem cache cleared: 1 song, ") and "freed" not in said
    assert "stay until removed or the app closes, and are separated again" in said  # it is open
    second.menu_bar.keep_stems_action.trigger()
    assert second.controller.worker.stem_cache is None
    assert S.Settings(settings_store).get(S.KEEP_STEMS) is False
    second.close()


def test_a_restored_song_keeps_the_settings_it_was_separated_with(
    qtbot, settings_store, tiny_model_file, songs
):
    """Separated with Fast, then Balanced chosen for the next songs: after a restart the song
    comes back from the stem cache as it was (it was separated again, Balanced, and the mix
    made on the Fast stems was put on the new ones)."""
    import json

    def window(quality):
        settings = S.Settings(settings_store)
        settings.set(S.MODEL, str(tiny_model_file))
        settings.set(S.DEVICE, "cpu")
        settings.set(S.QUALITY, quality)
        win = MainWindow(settings, output_factory=FakeOutput, probe=False)
        qtbot.addWidget(win)
        return win

    first = window("fast")
    (job,) = first.add_paths([songs[0]])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)  # stored
    first.close()
    saved = json.loads(S.Settings(settings_store).get(S.SESSION))
    assert saved[0]["options"]["overlap"] == 0.1

    second = window("balanced")
    (again,) = second.restore_session()
    qtbot.waitUntil(lambda: again.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert again.cache_key[-1].overlap == 0.1 and "Fast" in again.status_text()
    assert isinstance(again.stemset.data, np.memmap)  # from the cache, not separated again
    np.testing.assert_array_equal(np.asarray(again.stemset.data), job.stemset.data)
    second.close()


def test_a_session_keeps_a_song_queued_twice_and_leaves_out_only_damaged_songs(
    qtbot, settings_store, tiny_model_file, songs, tmp_path, monkeypatch
):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.TH").write_bytes(b"a model file chosen in its folder")

    fast = {"model": str(tiny_model_file), "device": "cpu", "segment": None, "overlap": 0.1}
    fast |= {"shifts": 0, "two_stems": None}
    session = [
        {"path": str(songs[0]), "strips": {"drums": [-6.0, False, True]}, "options": fast},
        {"path": 3},  # damaged: the whole queue was thrown away for it
        {"path": str(songs[0]), "strips": {"bass": [1.0, True, False, "new"]}},  # a newer one
        {"path": str(songs[0]), "options": {**fast, "device": "cuda"}},  # the same, on a GPU
        {"path": str(songs[1]), "options": {**fast, "model": "/gone/model.stemgui"}},
        {"path": str(songs[1]), "options": {**fast, "model": "net.TH"}},  # taken for a name
    ]
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(tiny_model_file))
    settings.set(S.SESSION, json.dumps(session))
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    jobs = win.restore_session()
    # the same song twice, made two ways (was once, without its mix)
    assert [(job.path, job.options) for job in jobs] == [
        (songs[0], SeparationOptions(**fast)),
        (songs[0], None),
        (songs[1], None),  # its model is gone: the settings of now
        (songs[1], SeparationOptions(**{**fast, "model": "net.TH"})),
    ]
    assert jobs[0].strips["drums"].mute and jobs[1].strips["bass"].solo
    assert "1 song of the last session could not be read and left out." in win.banner.text()
    qtbot.waitUntil(lambda: all(job.state.ended for job in jobs), timeout=TIMEOUT_MS)
    win.close()


def test_songs_of_the_last_session_moved_or_deleted_are_named(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """They were left out of the queue without a word: the songs were simply not there. A drive
    not connected is said too: "moved or deleted" had its user think the songs were lost."""
    import json

    deleted = write_song(tmp_path / "deleted.wav")
    saved = [{"path": str(path)} for path in (songs[0], songs[1], deleted, songs[1])]
    songs[1].rename(tmp_path / "b moved.wav")
    deleted.unlink()
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(tiny_model_file))
    settings.set(S.SESSION, json.dumps(saved))
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    (job,) = win.restore_session()
    assert job.path == songs[0]
    said = (
        "2 songs of the last session not found, waiting for their drive (or moved or deleted): "
        "b.wav, deleted.wav. They come back when found at the next start: connect the drive and "
        "press Look again, or Forget them and open them again from where they are now."
    )
    assert win.banner.text() == said
    # it stays (in the status bar, the song coming back and one added at the start replaced it)
    win.add_paths([write_song(tmp_path / "new.wav")])
    qtbot.waitUntil(lambda: all(job.state.ended for job in win.controller.model.jobs))
    assert win.banner.isVisible() and win.banner.text() == said
    win.close()


def test_finished_songs_off_screen_read_their_stems_from_the_cache(qtbot, window, songs):
    """A long queue does not keep every song's stems in RAM: once stored in the stem cache, a
    song that is not on screen reads them from there (memory-mapped), unchanged."""
    first, second = window.add_paths(songs[:2])
    qtbot.waitUntil(lambda: second.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert window.shown_job is first
    root = window.controller.worker.stem_cache.root

    def from_cache(job):
        name = getattr(job.stemset.data, "filename", None)
        return name is not None and root in Path(name).parents

    qtbot.waitUntil(lambda: from_cache(second), timeout=TIMEOUT_MS)  # parked once stored
    assert not from_cache(first)  # on screen: left alone
    kept = np.array(first.stemset.data)
    assert second.waveforms.stemset is second.stemset
    assert np.shares_memory(second.waveforms["drums"].samples, second.stemset.data)

    window.select(second)  # now the first one goes off screen
    qtbot.waitUntil(lambda: from_cache(first), timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(first.stemset.data, kept)
    assert window.stems.stemset is second.stemset


def test_a_song_added_again_shares_its_stems_file_until_no_row_holds_it(qtbot, window, songs):
    """A song added again takes the stems of its first row, not a second separation. Removing
    that row deleted the file both read (a long song's stems file); parking it left the other
    row on the deleted file, with waveforms made again on the GUI thread when shown; parked
    while the other row was on screen, the player's stems were swapped under it."""
    window.controller.worker.memmap_bytes = 0  # every song's stems in a file, as a long one's
    (first,) = window.add_paths(songs[:1])
    qtbot.waitUntil(lambda: bool(first.stem_entry), timeout=TIMEOUT_MS)  # separated, stored
    scratch = Path(first.stemset.data.filename)
    (second,) = window.add_paths(songs[:1])
    (third,) = window.add_paths(songs[:1])
    assert second.stemset is first.stemset is third.stemset and scratch.exists()
    window.controller.remove(third)
    assert scratch.exists()  # the other rows read it

    window.select(second)  # the same stems on screen: left as they are, playing
    assert second.stemset is first.stemset and Path(second.stemset.data.filename) == scratch
    assert window.player.stemset is second.stemset
    (other,) = window.add_paths(songs[1:2])
    qtbot.waitUntil(lambda: other.state is JobState.DONE, timeout=TIMEOUT_MS)
    window.select(other)  # off screen: both rows read the cache entry the first row made
    root = window.controller.worker.stem_cache.root
    assert root in Path(second.stemset.data.filename).parents
    assert second.stemset is first.stemset and second.waveforms.stemset is second.stemset
    assert not scratch.exists()  # no row holds it any more
    window.select(first)
    assert window.stems.waveforms is first.waveforms  # not made again


def test_the_next_start_reopens_the_separated_songs_with_their_mix(
    qtbot, window, settings_store, songs
):
    first, gone = window.add_paths(songs[:2])
    qtbot.waitUntil(lambda: gone.state is JobState.DONE, timeout=TIMEOUT_MS)
    window.select(first)
    window.stems.rows["vocals"].gain.setValue(-6)
    window.stems.rows["drums"].solo.click()
    window.close()  # the session is kept on close
    songs[1].unlink()  # a file gone since is left out
    again = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(again)
    (job,) = again.restore_session()
    assert job.path == songs[0]
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)  # from the cache
    again.select(job)
    assert job.mixer.control("vocals").gain_db == -6.0 and job.mixer.control("drums").solo
    assert again.stems.rows["vocals"].gain.value() == -6
    again.close()
    S.Settings(settings_store).set(S.KEEP_STEMS, False)  # without the stem cache: nothing
    third = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(third)
    assert third.restore_session() == []
    third.close()
