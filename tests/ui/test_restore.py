"""The songs of the last session come back from the stem cache without the model: no model
identity, no hash of the song, no model loaded, not held by the model list; a song rewritten
since is recognised by its new bytes and separated again, never given its old stems; one
cancelled or retried while read from the cache ends as asked."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from stemgui.separation.model_identity import forget_digests
from stemgui.stemcache import StemCache
from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.restore import Kept
from stemgui.ui.separation_options import SeparationOptions, default_model_identity
from tests.ui.conftest import RATE, TIMEOUT_MS, UiTinyNet, write_song
from tests.ui.restore_rig import start


@pytest.fixture
def first_session(qtbot, settings_store, songs, tiny_model_file, tmp_path):
    """A song separated, stored in the cache, and the session saved at the close."""
    options = SeparationOptions(model=str(tiny_model_file), device="cpu")
    return _first_session(qtbot, settings_store, songs, options, tmp_path)


def _first_session(qtbot, settings_store, songs, options, tmp_path):
    settings = S.Settings(settings_store)
    root = tmp_path / "stemcache"
    ctl, factory, _ = start(root, options)
    try:
        (job,) = ctl.add([songs[0]])
        qtbot.waitUntil(lambda: job.kept is not None, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE and factory.calls == 1
        session.save(settings, ctl.model.jobs)
    finally:
        ctl.shutdown()
    return settings, root, options, job


def _restart(qtbot, settings, root, options):
    """The next start: its restored song once ended, and how many models it loaded."""
    ctl, factory, _ = start(root, options)
    try:
        jobs = session.load(settings).jobs
        ctl.restore(jobs)
        qtbot.waitUntil(lambda: jobs[0].state.ended, timeout=TIMEOUT_MS)
        assert jobs[0].state is JobState.DONE
        session.save(settings, ctl.model.jobs)
        return jobs[0], factory.calls
    finally:
        ctl.shutdown()


def test_a_store_model_replaced_under_its_name_separates_again(
    qtbot, settings_store, songs, tiny_model_file, tmp_path
):
    from stemgui.separation.checkpoint import save_model
    from stemgui.separation.store import default_user_dir

    mine = default_user_dir() / "mine.stemgui"  # the user's models folder, by name
    mine.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model_file, mine)
    options = SeparationOptions(model="mine", device="cpu")
    settings, root, _, first = _first_session(qtbot, settings_store, songs, options, tmp_path)
    job, loads = _restart(qtbot, settings, root, options)
    assert loads == 0  # as it was: answered from the cache
    np.testing.assert_array_equal(job.stemset.data, first.stemset.data)

    torch.manual_seed(1)  # retrained, saved under the same name
    save_model(UiTinyNet(samplerate=RATE, segment=0.25), mine)
    job, loads = _restart(qtbot, settings, root, options)
    assert loads == 1  # not the old model's stems
    assert not np.array_equal(job.stemset.data, first.stemset.data)


def test_a_session_of_an_earlier_version_is_recognised_anew():
    old = {"entry": "k", "song": [10, 20], "model": [30, 40]}  # one stamp for the model
    assert Kept.from_json(old) is None
    kept = Kept("a" * 64, (10, 20), (("/m/bag.yaml", (1, 2)), ("/m/a.th", None)))
    assert Kept.from_json(json.loads(json.dumps(kept.to_json()))) == kept


@pytest.mark.parametrize("entry", ["/home/me", "..", "../../Music", "k", "A" * 64])
def test_a_hand_edited_entry_that_names_no_cache_entry_is_recognised_anew(entry):
    """Its stems were looked for at that path, and the folder found there, with no entry in
    it, was deleted as a damaged entry: the user's home, for "/home/me"."""
    kept = Kept("a" * 64, (10, 20), (("/m/a.th", (1, 2)),)).to_json()
    assert Kept.from_json({**kept, "entry": entry}) is None


def test_restored_songs_are_done_without_the_model_or_the_model_list(qtbot, first_session):
    settings, root, options, first = first_session
    # the queue held as at start-up while the models are listed: only the cache can answer
    ctl, factory, identity = start(root, options, blocker=lambda: "looking for models…")
    try:
        jobs, _, damaged, _ = session.load(settings)
        assert damaged == 0 and len(jobs) == 1
        ctl.restore(jobs)
        qtbot.waitUntil(lambda: jobs[0].state is JobState.DONE, timeout=TIMEOUT_MS)
        (job,) = jobs
        assert factory.calls == 0 and identity.calls == 0  # no model, no model identity
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
        assert job.waveforms is not None and job.model_name == "tiny"
        assert job.stem_entry == first.kept.entry  # parked from its entry when off screen
        # the next close keeps it the same way
        session.save(settings, ctl.model.jobs)
        assert session.load(settings)[0][0].kept == first.kept
    finally:
        ctl.shutdown()


def test_a_song_added_again_before_its_stems_were_kept_comes_back_without_the_model(
    qtbot, settings_store, songs, tiny_model_file, tmp_path, monkeypatch
):
    """A song added again once separated, before the worker said where its stems are kept,
    took its first row's ``kept`` (none yet) and never got the one said after: with the first
    row removed, the next start recognised it with the model."""
    import threading

    from stemgui.ui import worker_cache

    options = SeparationOptions(model=str(tiny_model_file), device="cpu")
    settings, root = S.Settings(settings_store), tmp_path / "stemcache"
    kept_now = threading.Event()
    stamps = worker_cache.model_stamps

    def slow_stamps(spec):  # on the worker's thread, just before it says kept
        kept_now.wait(TIMEOUT_MS / 1000)
        return stamps(spec)

    monkeypatch.setattr(worker_cache, "model_stamps", slow_stamps)
    ctl, _, _ = start(root, options)
    try:
        (first,) = ctl.add([songs[0]])
        qtbot.waitUntil(lambda: first.state is JobState.DONE, timeout=TIMEOUT_MS)
        (second,) = ctl.add([songs[0]])
        assert second.stemset is first.stemset and first.kept is None  # not said yet
        kept_now.set()
        qtbot.waitUntil(lambda: first.kept is not None, timeout=TIMEOUT_MS)
        assert second.kept == first.kept
        ctl.remove(first)
        session.save(settings, ctl.model.jobs)
    finally:
        kept_now.set()
        ctl.shutdown()
    later, factory, identity = start(root, options)
    try:
        (job,) = session.load(settings).jobs
        later.restore([job])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE
        assert factory.calls == 0 and identity.calls == 0  # no model, no model identity
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
    finally:
        later.shutdown()


def test_a_song_rewritten_since_is_separated_again(qtbot, first_session):
    settings, root, options, first = first_session
    song = first.path
    before = song.stat()
    write_song(song, seed=7)  # other audio, the same size
    assert song.stat().st_size == before.st_size
    os.utime(song, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    ctl, factory, _ = start(root, options)
    try:
        jobs = session.load(settings).jobs
        ctl.restore(jobs)
        qtbot.waitUntil(lambda: jobs[0].state.ended, timeout=TIMEOUT_MS)
        (job,) = jobs
        assert job.state is JobState.DONE and factory.calls == 1  # separated, not restored
        assert not np.array_equal(job.stemset.data, first.stemset.data)
    finally:
        ctl.shutdown()


def test_a_song_whose_entry_is_gone_is_separated_again(qtbot, first_session):
    settings, root, options, first = first_session
    StemCache(root).clear()
    ctl, factory, _ = start(root, options)
    try:
        jobs = session.load(settings).jobs
        ctl.restore(jobs)
        qtbot.waitUntil(lambda: jobs[0].state.ended, timeout=TIMEOUT_MS)
        assert jobs[0].state is JobState.DONE and factory.calls == 1
        np.testing.assert_array_equal(jobs[0].stemset.data, first.stemset.data)
    finally:
        ctl.shutdown()


def test_a_restored_song_cancelled_while_it_is_read_from_the_cache_is_cancelled(
    qtbot, first_session
):
    """Cancel was offered while the song's stems were read, and did nothing: it came back
    done."""
    settings, root, options, _ = first_session
    ctl, _, _ = start(root, options)
    try:
        (job,) = session.load(settings).jobs
        ended = []
        ctl.job_ended.connect(ended.append)
        ctl.restore([job])
        assert job.state is JobState.DECODING
        ctl.cancel(job)
        assert job.state is JobState.CANCELLED and ended == [job]
        qtbot.wait(500)  # the answer comes, and is not taken
        assert job.state is JobState.CANCELLED and job.stemset is None and ended == [job]
        assert ctl.retry(job)
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()


def test_a_restored_song_whose_model_no_longer_loads_takes_the_model_of_now(
    qtbot, songs, tiny_model_file, tmp_path
):
    """As one whose model file is gone does: it failed on its damaged model (and, with that
    model still chosen, stopped the queue until another was chosen, then failed on it)."""
    from stemgui.ui.queue import Job

    damaged = tmp_path / "old.stemgui"
    damaged.write_bytes(tiny_model_file.read_bytes()[:500])
    options = SeparationOptions(model=str(tiny_model_file), device="cpu")
    ctl, factory, _ = start(tmp_path / "stemcache", options)
    try:
        (job,) = ctl.restore([Job(songs[0], options=SeparationOptions(model=str(damaged)))])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE, job.error
        assert factory.calls == 2 and job.options is None and job.model_name == "tiny"
    finally:
        ctl.shutdown()


def test_a_restored_song_retried_before_its_answer_came_takes_the_worker_s_stems_only(
    qtbot, first_session, monkeypatch
):
    """Cancelled while read from the cache and retried at once: the thread reading it met the
    'kept' Retry had cleared (a traceback; the song, running on the worker, was set waiting),
    or its answer came while the worker recognised the song again and was taken, failing on
    the options Retry had cleared."""
    import threading

    from stemgui.ui import restore

    settings, root, options, first = first_session
    answer_now, identity_now = threading.Event(), threading.Event()
    answer = restore._answer

    def slow_answer(*args):
        answer_now.wait(TIMEOUT_MS / 1000)
        return answer(*args)

    def slow_identity(*args):
        identity_now.wait(TIMEOUT_MS / 1000)
        return default_model_identity(*args)

    monkeypatch.setattr(restore, "_answer", slow_answer)
    forget_digests()
    ctl = QueueController(
        lambda: options,
        scratch_dir=root.parent / "scratch",
        stem_cache=StemCache(root),
        model_identity=slow_identity,
    )
    try:
        (job,) = session.load(settings).jobs
        started, ended = [], []
        ctl.job_started.connect(started.append)
        ctl.job_ended.connect(ended.append)
        ctl.restore([job])
        ctl.cancel(job)
        assert ctl.retry(job)
        qtbot.waitUntil(lambda: job.state is JobState.DECODING, timeout=TIMEOUT_MS)  # hashed
        answer_now.set()
        qtbot.wait(500)  # the answer comes, and is not taken
        assert started == [] and job.state is JobState.DECODING
        identity_now.set()
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        assert started == [job] and ended == [job, job]  # cancelled, then done
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
    finally:
        answer_now.set()
        identity_now.set()
        ctl.shutdown()
