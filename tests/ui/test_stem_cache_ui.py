"""The queue with an on-disk stem cache: a song separated once is not separated again, even
after a restart; a damaged entry or a cache that cannot be written never fails a job. The worker
alone with the cache is in test_stem_cache_worker.py."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from stemgui.errors import SeparationCancelled
from stemgui.separation.model_identity import forget_digests
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import two_stem_set
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions, default_separator_factory
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.stem_cache_rig import CountingFactory


def _run(qtbot, root: Path, song: Path, options: SeparationOptions, progress=None, stores=1):
    """One app run: a controller with the cache at ``root`` separates ``song``, waits for
    ``stores`` new cache entries, and shuts down. Returns (job, factory)."""
    before = len(StemCache(root).keys())
    forget_digests()  # a new process knows no file hashes
    factory = CountingFactory()
    ctl = QueueController(
        lambda: options, factory, scratch_dir=root.parent / "scratch", stem_cache=StemCache(root)
    )
    if progress is not None:
        ctl.worker.progress.connect(lambda job, fraction, ready, notes: progress.append(ready))
    try:
        (job,) = ctl.add([song])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE, job.error
        # The worker stores after reporting DONE; the entry appears complete or not at all.
        qtbot.waitUntil(lambda: len(StemCache(root).keys()) == before + stores, timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()
    return job, factory


def test_the_same_song_after_a_restart_reuses_the_stored_stems(
    qtbot, songs, tiny_options, tmp_path
):
    root = tmp_path / "stemcache"
    progress: list[int] = []
    first, first_factory = _run(qtbot, root, songs[0], tiny_options, progress)
    assert first_factory.calls == 1
    assert any(0 < ready < first.stemset.frames for ready in progress)  # heard while separating
    assert len(StemCache(root).keys()) == 1

    second, second_factory = _run(qtbot, root, songs[0], tiny_options, stores=0)
    assert second_factory.calls == 0  # no model loaded
    assert isinstance(second.stemset.data, np.memmap)
    assert second.stemset.names == first.stemset.names and second.model_name == "tiny"
    assert second.stemset.complete and second.stemset.samplerate == first.stemset.samplerate
    np.testing.assert_array_equal(second.stemset.data, first.stemset.data)
    np.testing.assert_array_equal(second.stemset.mix, first.stemset.mix)
    assert second.waveforms is not None


def test_two_stem_mode_is_made_from_the_cached_stems(qtbot, songs, tiny_options, tmp_path):
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, songs[0], tiny_options)
    pair_options = SeparationOptions(model=tiny_options.model, device="cpu", two_stems="vocals")
    second, factory = _run(qtbot, root, songs[0], pair_options, stores=0)
    assert factory.calls == 0
    assert second.stemset.names == ("vocals", "no_vocals")
    expected = two_stem_set(first.stemset, "vocals")
    np.testing.assert_array_equal(second.stemset.data, expected.data)


def test_a_song_s_own_rate_and_frames_are_kept_for_its_export(qtbot, tiny_options, tmp_path):
    """A 48 kHz song's stems exported at its rate were a frame short of it (48,007 frames came
    back 48,006, the count lost resampling to the model's rate and back); the stems now carry
    the song's count from its decoding, into the cache and out of it after a restart."""
    import soundfile as sf

    song = tmp_path / "odd.wav"
    t = np.arange(4807) / 48000
    sf.write(song, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.3, 48000)
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, song, tiny_options)
    assert first.stemset.song == (48000, 4807)
    second, factory = _run(qtbot, root, song, tiny_options, stores=0)
    assert factory.calls == 0 and second.stemset.song == (48000, 4807)


def test_other_settings_or_another_song_separate_again(qtbot, songs, tiny_options, tmp_path):
    root = tmp_path / "stemcache"
    _run(qtbot, root, songs[0], tiny_options)
    _, factory = _run(
        qtbot, root, songs[0], SeparationOptions(tiny_options.model, "cpu", overlap=0.5)
    )
    assert factory.calls == 1
    _, factory = _run(qtbot, root, songs[1], tiny_options)
    assert factory.calls == 1
    assert len(StemCache(root).keys()) == 3


def test_a_damaged_entry_is_dropped_and_the_song_separates(
    qtbot, songs, tiny_options, tmp_path, caplog
):
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, songs[0], tiny_options)
    (key,) = StemCache(root).keys()
    stems = root / key / "stems.npy"
    stems.write_bytes(stems.read_bytes()[:-1000])
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        second, factory = _run(
            qtbot, root, songs[0], tiny_options, stores=0
        )  # dropped, then stored again
    assert factory.calls == 1
    assert "damaged" in caplog.text
    np.testing.assert_array_equal(second.stemset.data, first.stemset.data)
    assert StemCache(root).get(key) is not None  # stored again, whole


def test_a_cache_that_cannot_be_written_does_not_fail_the_job(
    qtbot, songs, tiny_options, tmp_path, caplog
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    ctl = QueueController(
        lambda: tiny_options, scratch_dir=tmp_path / "scratch", stem_cache=StemCache(blocker / "c")
    )
    ended, said = [], []
    ctl.job_ended.connect(ended.append)
    ctl.not_kept.connect(said.append)
    try:
        with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
            (job,) = ctl.add(songs[:1])
            qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
            qtbot.waitUntil(lambda: "could not be cached" in caplog.text, timeout=TIMEOUT_MS)
            qtbot.waitUntil(
                lambda: len(said) == 1, timeout=TIMEOUT_MS
            )  # for the window: the log alone
    finally:
        ctl.shutdown()
    assert job.state is JobState.DONE and ended == [job]
    assert job.stemset.complete
    assert said == [
        f"The stem cache folder {blocker / 'c'} cannot be used (Not a directory): separated "
        "songs are not kept, and are separated again at every start; make it a folder you can "
        "write to, or turn off File ▸ Keep separated stems between sessions."
    ]


def test_a_song_rewritten_while_the_model_loads_is_not_cached_under_its_old_hash(
    qtbot, songs, tiny_options, tmp_path, caplog
):
    root = tmp_path / "stemcache"
    song = tmp_path / "bounce.wav"
    song.write_bytes(songs[0].read_bytes())
    forget_digests()

    def rewriting(options: SeparationOptions):  # a DAW's bounce finishing meanwhile
        song.write_bytes(songs[1].read_bytes())
        return default_separator_factory(options)

    ctl = QueueController(
        lambda: tiny_options,
        rewriting,
        scratch_dir=tmp_path / "scratch",
        stem_cache=StemCache(root),
    )
    try:
        with caplog.at_level(logging.INFO, logger="stemgui.ui.worker"):
            (job,) = ctl.add([song])
            qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
            assert job.state is JobState.DONE, job.error
            qtbot.waitUntil(
                lambda: "changed while it was read" in caplog.text or StemCache(root).keys(),
                timeout=TIMEOUT_MS,
            )
    finally:
        ctl.shutdown()
    # were stored under the first content's hash: that song would get these stems back
    assert StemCache(root).keys() == []


@pytest.mark.parametrize("quick", [True, False])
def test_closing_while_a_finished_song_is_stored_lets_the_store_end_for_a_while(
    qtbot, tiny_options, songs, tmp_path, monkeypatch, caplog, quick
):
    """Closing the app a moment after a song finished cancelled the storing of its stems, and
    the next start separated it again; now the store gets ``STORE_WAIT_MS`` to end (a slower
    one is still cancelled, leaving nothing).

    The store waits at its first file until the queue has taken the song as done (the worker
    says so before it stores: read as soon as the store began, the queue could still show the
    song running), and the queue is shut down whatever the test finds: left running, its
    thread aborted the whole test run when Python collected the controller."""
    import time

    from stemgui import stemcache_entry
    from stemgui.ui import separation_thread

    monkeypatch.setattr(separation_thread, "STORE_WAIT_MS", 60_000 if quick else 1000)
    real = stemcache_entry._write_npy
    writing, closing = threading.Event(), threading.Event()

    def slow(path, array, cancel):
        writing.set()
        closing.wait(TIMEOUT_MS / 1000)
        for _ in range(10 if quick else 500):  # 0.2 s, or 10 s unless cancelled
            time.sleep(0.02)
            if cancel is not None and cancel.is_set():
                raise SeparationCancelled("stopping")
        return real(path, array, cancel)

    monkeypatch.setattr(stemcache_entry, "_write_npy", slow)
    root = tmp_path / "stemcache"
    ctl = QueueController(
        lambda: tiny_options, scratch_dir=tmp_path / "scratch", stem_cache=StemCache(root)
    )
    try:
        (job,) = ctl.add([songs[0]])
        qtbot.waitUntil(lambda: writing.is_set() and job.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert ctl.worker.storing.is_set()
    finally:
        closing.set()
        with caplog.at_level(logging.INFO, logger="stemgui.ui.separation_thread"):
            ctl.shutdown()
    assert len(StemCache(root).keys()) == (1 if quick else 0)
    # it ended within the wait; a slow one was cancelled once the wait was over
    assert ("stored before leaving" in caplog.text) is quick
    assert not ctl.worker.storing.is_set()


def test_two_stems_of_a_stem_the_model_has_not_says_so_once(
    qtbot, songs, tiny_model_file, tmp_path
):
    """Two stems (vocals) with a model of other stems gave all its stems without a word; the
    song's row now says why, separated or from the stem cache (``tiny_model_file``: UiTinyNet
    registered)."""
    from stemgui.separation.checkpoint import save_model
    from tests.ui.conftest import RATE, UiTinyNet

    model = tmp_path / "novocals.stemgui"
    save_model(UiTinyNet(sources=("drums", "bass"), samplerate=RATE, segment=0.25), model)
    options = SeparationOptions(model=str(model), device="cpu", two_stems="vocals")
    note = ("Two stems: this model has no vocals stem; all its stems are shown",)
    root = tmp_path / "stemcache"
    separated, _ = _run(qtbot, root, songs[0], options)
    assert separated.stemset.names == ("drums", "bass") and separated.notes == note
    cached, factory = _run(qtbot, root, songs[0], options, stores=0)
    assert factory.calls == 0 and cached.stemset.names == ("drums", "bass")
    assert cached.notes == note
    fitting = SeparationOptions(model=str(model), device="cpu", two_stems="bass")
    pair, _ = _run(qtbot, root, songs[0], fitting, stores=0)
    assert pair.stemset.names == ("bass", "no_bass") and pair.notes == ()
