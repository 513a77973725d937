"""A long song decoded at another rate spills into the run's scratch folder (``stemgui.audio.
_gather``): the folder is made there as everywhere else, with the run's lock file
(``stemgui.ui.scratch.made_scratch_dir``), before any stems file is."""

from __future__ import annotations

import os
import time

from stemgui.audio import _gather
from stemgui.run_folders import LOCK_NAME, LOCKING_SECONDS
from stemgui.ui.controller import QueueController
from stemgui.ui.queue import JobState
from stemgui.ui.scratch import dead_scratch_folders
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import RATE, write_song
from tests.ui.queue_rig import _wait_idle


def test_decoding_makes_the_scratch_folder_with_the_run_s_lock(
    qtbot, tiny_model_file, tmp_path, monkeypatch
):
    """Decoding made the folder with a plain mkdir: a run killed before any stems file was
    written left a folder without a lock file, told dead by its process id alone, which stays
    for as long as another process has that id (after a reboot)."""
    monkeypatch.setattr(_gather, "CHUNK_FRAMES", 1000)
    monkeypatch.setattr(_gather, "SPILL_BYTES", 10_000)  # the song is long
    song = write_song(tmp_path / "twice the rate.wav", rate=2 * RATE)  # gathered, resampled
    scratch = tmp_path / "stems" / f"run-{os.getpid()}-live"
    ctl = QueueController(
        lambda: SeparationOptions(model=str(tiny_model_file), device="cpu"),
        scratch_dir=scratch,  # stems kept in RAM: the decoding alone makes the folder
    )
    (job,) = ctl.add([song])
    _wait_idle(qtbot, ctl)
    assert job.state is JobState.DONE, job.error
    assert sorted(path.name for path in scratch.iterdir()) == [LOCK_NAME]  # the spill is gone
    then = time.time() - 10 * LOCKING_SECONDS  # held, not young
    os.utime(scratch / LOCK_NAME, (then, then))
    assert dead_scratch_folders(scratch.parent) == []
    ctl.shutdown()
    assert not scratch.exists()
