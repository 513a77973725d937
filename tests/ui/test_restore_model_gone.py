"""A song of the last session whose model file is gone since opens from its stems in the stem
cache: only separating it again needs the model. Its tooltip says the model file is gone."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from stemgui.stemcache import StemCache
from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.restore_rig import kept_session, start


@pytest.fixture
def gone_model_session(qtbot, settings_store, songs, tiny_model_file, tmp_path):
    """A song separated with a model file of its own, stored and saved; that file deleted."""
    model = tmp_path / "models" / "old.stemgui"
    model.parent.mkdir()
    shutil.copyfile(tiny_model_file, model)
    options = SeparationOptions(model=str(model), device="cpu")
    settings, root = S.Settings(settings_store), tmp_path / "stemcache"
    job = kept_session(qtbot, settings, songs[0], options, root)
    model.unlink()
    return settings, root, options, job


def test_a_song_whose_model_file_is_gone_opens_from_the_stem_cache(qtbot, gone_model_session):
    settings, root, options, first = gone_model_session
    # the model of now is that same file: the queue is held, as the window holds it
    ctl, loads, _ = start(root, options, blocker=lambda: "the chosen model is missing")
    try:
        (job,) = session.load(settings).jobs
        ctl.restore([job])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE and loads.calls == 0
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)
        assert job.model_name == "old" and job.waveforms is not None
        tip = ctl.model.data(ctl.model.index(0), Qt.ItemDataRole.ToolTipRole)
        assert f"The model file {options.model} is not found" in tip
        # the next start answers it so again
        session.save(settings, ctl.model.jobs)
        assert session.load(settings).jobs[0].kept == first.kept
    finally:
        ctl.shutdown()


def test_a_song_whose_model_file_and_stems_are_gone_takes_the_model_of_now(
    qtbot, gone_model_session, tiny_model_file
):
    settings, root, _, first = gone_model_session
    StemCache(root).clear()
    ctl, _, _ = start(root, SeparationOptions(model=str(tiny_model_file), device="cpu"))
    try:
        (job,) = session.load(settings).jobs
        ctl.restore([job])
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE, job.error
        assert job.options is None and job.notes == ()
        np.testing.assert_array_equal(job.stemset.data, first.stemset.data)  # the same model
    finally:
        ctl.shutdown()
