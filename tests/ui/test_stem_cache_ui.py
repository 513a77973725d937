"""The queue with an on-disk stem cache: a song separated once is not separated again, even
after a restart; a damaged entry or a cache that cannot be written never fails a job."""

from __future__ import annotations

import logging
import os
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
from stemgui.ui.worker import SeparationWorker
from tests.fakes import CancelAfter
from tests.pipes import without_waiting
from tests.ui.conftest import TIMEOUT_MS


class CountingFactory:
    """The real separator factory, counting its calls (a call loads the model)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, options: SeparationOptions):
        self.calls += 1
        return default_separator_factory(options)


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


@pytest.fixture
def options(tiny_model_file) -> SeparationOptions:
    return SeparationOptions(model=str(tiny_model_file), device="cpu")


def test_the_same_song_after_a_restart_reuses_the_stored_stems(qtbot, songs, options, tmp_path):
    root = tmp_path / "stemcache"
    progress: list[int] = []
    first, first_factory = _run(qtbot, root, songs[0], options, progress)
    assert first_factory.calls == 1
    assert any(0 < ready < first.stemset.frames for ready in progress)  # heard while separating
    assert len(StemCache(root).keys()) == 1

    second, second_factory = _run(qtbot, root, songs[0], options, stores=0)
    assert second_factory.calls == 0  # no model loaded
    assert isinstance(second.stemset.data, np.memmap)
    assert second.stemset.names == first.stemset.names and second.model_name == "tiny"
    assert second.stemset.complete and second.stemset.samplerate == first.stemset.samplerate
    np.testing.assert_array_equal(second.stemset.data, first.stemset.data)
    np.testing.assert_array_equal(second.stemset.mix, first.stemset.mix)
    assert second.waveforms is not None


def test_two_stem_mode_is_made_from_the_cached_stems(qtbot, songs, options, tmp_path):
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, songs[0], options)
    pair_options = SeparationOptions(model=options.model, device="cpu", two_stems="vocals")
    second, factory = _run(qtbot, root, songs[0], pair_options, stores=0)
    assert factory.calls == 0
    assert second.stemset.names == ("vocals", "no_vocals")
    expected = two_stem_set(first.stemset, "vocals")
    np.testing.assert_array_equal(second.stemset.data, expected.data)


def test_a_song_s_own_rate_and_frames_are_kept_for_its_export(qtbot, options, tmp_path):
    """A 48 kHz song's stems exported at its rate were a frame short of it (48,007 frames came
    back 48,006, the count lost resampling to the model's rate and back); the stems now carry
    the song's count from its decoding, into the cache and out of it after a restart."""
    import soundfile as sf

    song = tmp_path / "odd.wav"
    t = np.arange(4807) / 48000
    sf.write(song, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.3, 48000)
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, song, options)
    assert first.stemset.song == (48000, 4807)
    second, factory = _run(qtbot, root, song, options, stores=0)
    assert factory.calls == 0 and second.stemset.song == (48000, 4807)


def test_other_settings_or_another_song_separate_again(qtbot, songs, options, tmp_path):
    root = tmp_path / "stemcache"
    _run(qtbot, root, songs[0], options)
    _, factory = _run(qtbot, root, songs[0], SeparationOptions(options.model, "cpu", overlap=0.5))
    assert factory.calls == 1
    _, factory = _run(qtbot, root, songs[1], options)
    assert factory.calls == 1
    assert len(StemCache(root).keys()) == 3


def test_a_damaged_entry_is_dropped_and_the_song_separates(qtbot, songs, options, tmp_path, caplog):
    root = tmp_path / "stemcache"
    first, _ = _run(qtbot, root, songs[0], options)
    (key,) = StemCache(root).keys()
    stems = root / key / "stems.npy"
    stems.write_bytes(stems.read_bytes()[:-1000])
    with caplog.at_level(logging.WARNING, logger="stemgui.stemcache"):
        second, factory = _run(
            qtbot, root, songs[0], options, stores=0
        )  # dropped, then stored again
    assert factory.calls == 1
    assert "damaged" in caplog.text
    np.testing.assert_array_equal(second.stemset.data, first.stemset.data)
    assert StemCache(root).get(key) is not None  # stored again, whole


def test_a_cache_that_cannot_be_written_does_not_fail_the_job(
    qtbot, songs, options, tmp_path, caplog
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    ctl = QueueController(
        lambda: options, scratch_dir=tmp_path / "scratch", stem_cache=StemCache(blocker / "c")
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


def test_cancel_while_hashing_the_song(qtbot, options, tmp_path):
    song = tmp_path / "big.wav"
    song.write_bytes(bytes(5 << 20))  # five 1 MiB blocks to hash
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    ended: list[tuple[str, int]] = []
    worker.finished.connect(lambda job, *_: ended.append(("finished", job)))
    worker.failed.connect(lambda job, _: ended.append(("failed", job)))
    worker.cancelled.connect(lambda job: ended.append(("cancelled", job)))
    forget_digests()
    cancel = CancelAfter(3)  # the worker's first check, then the first two blocks
    worker.run(7, str(song), options, cancel)
    assert ended == [("cancelled", 7)]
    assert cancel.checks == 3 and factory.calls == 0
    assert StemCache(tmp_path / "stemcache").keys() == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_queued_by_itself_is_refused_before_hashing_or_loading(
    qtbot, options, tmp_path, monkeypatch
):
    """A named pipe dropped or opened by itself was hashed for the stem cache and the model
    loaded (a download, for an official one) before decoding refused it: it is refused first,
    in decoding's words."""
    from stemgui.separation import model_identity

    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    hashed: list[Path] = []
    digest = model_identity.file_digest
    monkeypatch.setattr(
        model_identity, "file_digest", lambda path, cancel=None: hashed.append(path) or digest(path)
    )
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    ended: list[tuple[int, str, bool]] = []
    worker.failed.connect(lambda job, message, retry: ended.append((job, message, retry)))
    without_waiting(lambda: worker.run(7, pipe, options, threading.Event()), pipe)
    said = (
        f"{pipe}: is not a regular file (a named pipe, a socket or a device); choose an audio file"
    )
    qtbot.waitUntil(lambda: ended != [], timeout=TIMEOUT_MS)  # from the worker's thread
    assert ended == [(7, said, False)]  # no retry: only another file can help
    assert hashed == [] and factory.calls == 0


def test_shutdown_stops_a_store_in_progress(qtbot, options, songs, tmp_path):
    worker = SeparationWorker(stem_cache=StemCache(tmp_path / "stemcache"))
    worker.stopping.set()  # shutdown came while the job finished
    done = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append(stemset))
    worker.run(1, str(songs[0]), options, threading.Event())
    assert len(done) == 1 and done[0].complete
    assert StemCache(tmp_path / "stemcache").keys() == []


def test_a_model_file_replaced_in_place_separates_with_its_new_weights(
    qtbot, options, songs, tmp_path
):
    """Retrained and exported again under the same name: the next song must not get the old
    weights' stems, under the new file's identity in the cache."""
    import shutil

    import torch

    from stemgui.separation.checkpoint import save_model
    from tests.ui.conftest import RATE, UiTinyNet

    model = tmp_path / "mine.stemgui"
    shutil.copy(options.model, model)
    options = SeparationOptions(model=str(model), device="cpu")
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    done = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append(np.array(stemset.data)))
    worker.run(1, str(songs[0]), options, threading.Event())
    worker.run(2, str(songs[1]), options, threading.Event())
    assert factory.calls == 1  # the same file: loaded once
    torch.manual_seed(123)
    save_model(UiTinyNet(samplerate=RATE, segment=0.25, gain=5.0), model)
    worker.run(3, str(songs[1]), options, threading.Event())
    assert factory.calls == 2
    fresh = SeparationWorker(default_separator_factory)  # a new app, no cache
    fresh.finished.connect(lambda job, stemset, waveforms: done.append(np.array(stemset.data)))
    fresh.run(4, str(songs[1]), options, threading.Event())
    np.testing.assert_allclose(done[2], done[3], atol=1e-6)
    assert not np.allclose(done[1], done[2], atol=1e-3)  # the two models do differ


def test_a_store_model_replaced_under_its_name_is_loaded_again(qtbot, options, songs, tmp_path):
    """A model in the store (chosen by its name, not a path) retrained and saved again: the
    worker kept the old weights, and the cache stored their stems under the new file."""
    import shutil

    import torch

    from stemgui.separation.checkpoint import save_model
    from stemgui.separation.store import ModelStore
    from tests.ui.conftest import RATE, UiTinyNet

    store = ModelStore()
    store.user_dir.mkdir(parents=True, exist_ok=True)
    model = store.user_dir / "mine.stemgui"
    shutil.copy(options.model, model)
    assert "mine" in [entry.name for entry in store.list_models()]
    options = SeparationOptions(model="mine", device="cpu")
    factory = CountingFactory()
    worker = SeparationWorker(factory)  # no stem cache: the worker's own reuse is the point
    worker.run(1, str(songs[0]), options, threading.Event())
    worker.run(2, str(songs[1]), options, threading.Event())
    assert factory.calls == 1  # the same files: loaded once
    torch.manual_seed(7)
    save_model(UiTinyNet(samplerate=RATE, segment=0.25, gain=5.0), model)
    worker.run(3, str(songs[1]), options, threading.Event())
    assert factory.calls == 2


def test_keep_stems_turned_off_while_a_song_is_recognised_does_not_fail_it(
    qtbot, options, songs, tmp_path, caplog
):
    worker = SeparationWorker(stem_cache=StemCache(tmp_path / "stemcache"))

    class TurnsOff(threading.Event):
        """The user unticks File ▸ Keep separated stems while the song is hashed (the checks
        after the worker's first)."""

        checks = 0

        def is_set(self) -> bool:
            self.checks += 1
            if self.checks > 1:
                worker.stem_cache = None
            return super().is_set()

    ended = []
    worker.finished.connect(lambda job, stemset, waveforms: ended.append("finished"))
    worker.failed.connect(lambda job, reason: ended.append(reason))
    forget_digests()
    with caplog.at_level(logging.WARNING):
        worker.run(1, str(songs[0]), options, TurnsOff())
    assert ended == ["finished"]
    assert "storing the stems in the cache failed" not in caplog.text  # not kept, quietly
    assert StemCache(tmp_path / "stemcache").keys() == []


def test_a_song_rewritten_while_the_model_loads_is_not_cached_under_its_old_hash(
    qtbot, songs, options, tmp_path, caplog
):
    root = tmp_path / "stemcache"
    song = tmp_path / "bounce.wav"
    song.write_bytes(songs[0].read_bytes())
    forget_digests()

    def rewriting(options: SeparationOptions):  # a DAW's bounce finishing meanwhile
        song.write_bytes(songs[1].read_bytes())
        return default_separator_factory(options)

    ctl = QueueController(
        lambda: options, rewriting, scratch_dir=tmp_path / "scratch", stem_cache=StemCache(root)
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
    qtbot, options, songs, tmp_path, monkeypatch, caplog, quick
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
        lambda: options, scratch_dir=tmp_path / "scratch", stem_cache=StemCache(root)
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
