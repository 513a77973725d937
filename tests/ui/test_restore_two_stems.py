"""A song of the last session in two stems (vocals and the rest) comes back from the stem cache
as a four-stem one does: its two stems made from the full stems kept there, without the model,
even with its model file gone since."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from stemgui.separation.model_identity import forget_digests
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import two_stem_set
from stemgui.ui import restore, session
from stemgui.ui import settings as S
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.restore_rig import kept_session, start


@pytest.fixture
def two_stem_session(qtbot, settings_store, songs, tiny_model_file, tmp_path):
    """A song separated in two stems with a model file of its own, stored and saved."""
    model = tmp_path / "models" / "old.stemgui"
    model.parent.mkdir()
    shutil.copyfile(tiny_model_file, model)
    options = SeparationOptions(model=str(model), device="cpu", two_stems="vocals")
    settings, root = S.Settings(settings_store), tmp_path / "stemcache"
    job = kept_session(qtbot, settings, songs[0], options, root)
    full = StemCache(root).get(job.kept.entry).stemset()
    return settings, root, options, job, full


def _restored(qtbot, settings, root, options):
    """The next start, the queue held (the models being listed): the song once ended, and how
    many models were loaded and identified."""
    ctl, factory, identity = start(root, options, blocker=lambda: "looking for models…")
    try:
        (job,) = session.load(settings).jobs
        ctl.restore([job])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        return job, factory.calls, identity.calls
    finally:
        ctl.shutdown()


def test_a_two_stem_song_comes_back_from_the_stem_cache_without_the_model(qtbot, two_stem_session):
    settings, root, options, first, full = two_stem_session
    job, loads, identities = _restored(qtbot, settings, root, options)
    assert job.state is JobState.DONE, job.error
    assert (loads, identities) == (0, 0)
    assert job.stemset.names == ("vocals", "no_vocals")
    np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
    np.testing.assert_array_equal(job.stemset.data, two_stem_set(full, "vocals").data)
    assert job.waveforms is not None and job.model_name == "old"
    assert job.options.two_stems == "vocals"


def test_a_two_stem_song_whose_model_file_is_gone_keeps_its_stems(qtbot, two_stem_session):
    settings, root, options, first, _ = two_stem_session
    model = options.model
    shutil.move(model, f"{model}.away")
    job, loads, _ = _restored(qtbot, settings, root, options)
    assert job.state is JobState.DONE and loads == 0
    np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
    assert job.options.model == model  # not the model of now
    assert any(f"The model file {model} is not found" in note for note in job.notes)


def test_two_stems_of_a_stem_the_model_has_not_come_back_whole_and_say_so(
    qtbot, settings_store, songs, tiny_model_file, tmp_path
):
    options = SeparationOptions(model=str(tiny_model_file), device="cpu", two_stems="guitar")
    settings, root = S.Settings(settings_store), tmp_path / "stemcache"
    first = kept_session(qtbot, settings, songs[0], options, root)
    job, loads, _ = _restored(qtbot, settings, root, options)
    assert job.state is JobState.DONE and loads == 0
    assert job.stemset.names == first.stemset.names == ("drums", "bass", "other", "vocals")
    assert (
        job.notes
        == first.notes
        == ("Two stems: this model has no guitar stem; all its stems are shown",)
    )


def _long_song_run(root, options):
    """A new app run whose stems of any size go to scratch files, as a long song's do."""
    forget_digests()
    return QueueController(
        lambda: options,
        scratch_dir=root.parent / "scratch",
        memmap_bytes=0,
        stem_cache=StemCache(root),
    )


def test_a_long_two_stem_song_s_stems_come_back_in_a_scratch_file(qtbot, two_stem_session):
    settings, root, options, first, _ = two_stem_session
    ctl = _long_song_run(root, options)
    try:
        (job,) = session.load(settings).jobs
        ctl.restore([job])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE
        assert Path(job.stemset.data.filename).parent == ctl.scratch_dir
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
    finally:
        ctl.shutdown()


def test_two_stems_made_for_a_song_cancelled_meanwhile_leave_no_scratch_file(
    qtbot, two_stem_session, monkeypatch
):
    settings, root, options, _, _ = two_stem_session
    answered = []
    answer = restore._answer

    def noted_answer(*args):
        answered.append(answer(*args))
        return answered[-1]

    monkeypatch.setattr(restore, "_answer", noted_answer)
    ctl = _long_song_run(root, options)
    try:
        (job,) = session.load(settings).jobs
        ctl.restore([job])
        ctl.cancel(job)  # before the answer comes: it comes to this thread, and is not taken
        assert job.state is JobState.CANCELLED
        qtbot.waitUntil(lambda: bool(answered), timeout=TIMEOUT_MS)
        made = Path(answered[0][0].data.filename)
        assert made.parent == ctl.scratch_dir
        qtbot.waitUntil(lambda: not made.exists(), timeout=TIMEOUT_MS)
        assert job.stemset is None and job.state is JobState.CANCELLED
    finally:
        ctl.shutdown()
