"""What the tests of the tempo corrections share: a song of rock drums read at 120 BPM (kick on
1 and 3), a window that separates it into its drums, the steps that show it, and a next start
that reads its stems and analysis back from the stem cache. tests/ui/conftest.py gives
``rock_song`` and ``drums_window`` as the fixtures ``drums_song`` and ``drums_win``."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf

from stemgui.stemcache import StemCache
from stemgui.ui.queue import Job, JobState
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.worker import SeparationWorker
from tests.stems.drumkit import RATE, drum_track
from tests.ui.conftest import TIMEOUT_MS

START = 0.5  # seconds of silence: the grid's first beat (0) is no kick, its second is
KICKS = START + np.arange(20.0)  # a kick every second, a snare half a second after each


class DrumsSeparator:
    """Gives the song as its drums, and a faint other pulse as "other"."""

    sources: ClassVar[list[str]] = ["drums", "other"]
    samplerate = RATE

    class model:
        audio_channels = 2

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        out[0] = buffer
        out[1] = self.other(buffer.shape[1])
        return out

    def other(self, frames: int) -> np.ndarray:
        """(2, ``frames``) float32: the "other" stem."""
        return 0.01 * drum_track(100, frames / RATE + 1, "four", seed=5)[:, :frames]


def identity(options, cancel=None) -> str:
    return "drums-model"


def rock_song(folder: Path) -> Path:
    """A file of rock drums at 120 BPM after ``START`` seconds of silence, in ``folder``."""
    path = folder / "rock.wav"
    track = drum_track(120, 20.0, "rock", seed=4)
    track = np.concatenate([np.zeros((2, round(START * RATE)), np.float32), track], axis=1)
    sf.write(path, track.T, RATE, subtype="FLOAT")
    return path


def drums_window(
    qtbot, settings_store, monkeypatch, separator=DrumsSeparator, model_name: str = "drums"
) -> Any:
    """A window that separates songs into their drums with ``separator`` (a
    ``DrumsSeparator`` unless the test needs other stems), named ``model_name``, and keeps
    them."""
    from stemgui.ui import worker
    from tests.ui.song_window import separating_window

    monkeypatch.setattr(worker, "default_model_identity", identity)  # its stems are kept
    return separating_window(qtbot, settings_store, separator, model_name)


def shown(qtbot, win, song: Path) -> Job:
    """``song`` added, separated and on screen."""
    (job,) = win.add_paths([song])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
    win.select(job)
    qtbot.waitUntil(lambda: win.shown_job is job, timeout=TIMEOUT_MS)
    return job


def off_grid(beats, times) -> float:
    """Frames from the farthest of ``times`` (seconds) to the beat of ``beats`` (first beat,
    beat length in frames) nearest it."""
    first, length = beats
    frames = np.asarray(times) * RATE
    return float(np.max(np.abs(first + np.round((frames - first) / length) * length - frames)))


def entry_info(win, job: Job, wait: bool = True) -> dict:
    """The ``entry.json`` of ``job``'s stems in the stem cache (with ``wait``: once the
    corrections being written on their thread are, ``CorrectionWrites.wait``)."""
    from stemgui.ui.stem_cache_size import stem_cache_of

    if wait:
        win.menu_bar.tempo.writes.wait()
    return json.loads((stem_cache_of(win).root / job.stem_entry / "entry.json").read_text())


def next_start(root: Path, song: Path) -> Any:
    """The analysis of ``song`` as the next start reads it from the stem cache in ``root`` (a
    worker and a stem cache of its own; separating it again fails the test)."""
    return next_start_waveforms(root, song).analysis


def next_start_waveforms(root: Path, song: Path) -> Any:
    """The ``StemWaveforms`` of ``song`` as the next start reads them from the stem cache in
    ``root``, with its analysis and cues (``next_start``)."""
    worker = SeparationWorker(
        lambda options: pytest.fail("separated again"),
        stem_cache=StemCache(root),
        model_identity=identity,
    )
    done = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append(waveforms))
    worker.failed.connect(lambda job, message, helps: pytest.fail(message))
    worker.run(1, str(song), SeparationOptions(), threading.Event())
    return done[0]


def tap(win, seconds: float) -> str:
    """T at ``seconds`` of the song heard (the playhead sent there: the test's output plays
    nothing; the wall clock as far on as playing to there takes at the player's speed); what
    the status bar says."""
    win.player.seek(round(seconds * RATE))
    taps = win.menu_bar.tempo.taps
    taps.clock = lambda: seconds / win.player.speed
    taps.action.trigger()
    return win.statusBar().currentMessage()
