"""The tempo, beat grid and key of a separated song: estimated on the worker (the tempo from
its drums), after a separation and for stems from the stem cache, kept in the cache, and shown
beside the song's title."""

from __future__ import annotations

import json
import threading
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import Analysis
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.worker import SeparationWorker
from tests.stems.drumkit import RATE, drum_track
from tests.stems.harmony import key_song
from tests.ui.conftest import TIMEOUT_MS


class DrumsSeparator:
    """Gives the song as its drums, and a louder 100 BPM pulse with chords in D major as
    "other"."""

    sources: ClassVar[list[str]] = ["drums", "other"]
    samplerate = RATE

    class model:
        audio_channels = 2

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        out[0] = buffer
        frames = buffer.shape[1]
        out[1] = 2 * drum_track(100, frames / RATE, "four", seed=5)[:, :frames]
        out[1] += key_song(2, "major", frames / RATE + 1)[:, :frames]
        return out


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "beat.wav"
    sf.write(path, drum_track(128, 20.0, "four").T, RATE, subtype="FLOAT")  # long enough for a grid
    return path


def _run(worker: SeparationWorker, song, options: SeparationOptions) -> tuple:
    done: list[tuple] = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append((stemset, waveforms)))
    worker.failed.connect(lambda job, message: pytest.fail(message))
    worker.run(1, str(song), options, threading.Event())
    worker.finished.disconnect()
    worker.failed.disconnect()
    return done[0]


def test_the_worker_times_separated_and_cached_songs_by_their_drums(qtbot, song, tmp_path):
    worker = SeparationWorker(
        lambda options: (DrumsSeparator(), "drums"),
        stem_cache=StemCache(tmp_path / "stemcache"),
        model_identity=lambda options, cancel: "drums-model",
    )
    _separated, waveforms = _run(worker, song, SeparationOptions())
    tempo = waveforms.analysis.tempo
    assert tempo.bpm == pytest.approx(128, abs=0.5)
    assert tempo.beat == pytest.approx(60 / 128, rel=1e-3)  # and its beat grid
    cached, again = _run(worker, song, SeparationOptions())
    assert isinstance(cached.data, np.memmap)  # from the stem cache
    assert again.analysis == waveforms.analysis
    # two stems without drums: timed by the drums they were made from
    pair, two = _run(worker, song, SeparationOptions(two_stems="other"))
    assert pair.names == ("other", "no_other") and two.analysis.tempo.bpm == pytest.approx(
        128, abs=0.5
    )


def test_the_tempo_is_shown_beside_the_title(qtbot, song, settings_store):
    from stemgui.ui import settings as S
    from stemgui.ui.window import MainWindow
    from tests.fakes import FakeOutput

    win = MainWindow(
        S.Settings(settings_store),
        separator_factory=lambda options: (DrumsSeparator(), "drums"),
        output_factory=FakeOutput,
        probe=False,
    )
    qtbot.addWidget(win)
    try:
        (job,) = win.add_paths([song])
        qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=TIMEOUT_MS)
        win.select(job)
        qtbot.waitUntil(lambda: win.shown_job is job, timeout=TIMEOUT_MS)
        assert "— 128 BPM, D major (10B) — drums" in win.song_title.text()
        win.player.set_speed(0.75)  # as heard: slower, and up a tone
        win.player.set_semitones(2)
        assert "— 128 → 96 BPM, D major → E major (12B) — drums" in win.song_title.text()
        win.player.set_speed(1.0)
        win.player.set_semitones(0)
        assert "— 128 BPM, D major (10B) — drums" in win.song_title.text()
        first, length = win.timeline.beats  # the grid the waveforms draw and loops snap to
        assert length == pytest.approx(RATE * 60 / 128, rel=1e-3)
        assert min(first, length - first) < 0.005 * RATE  # the drums start on a beat
        assert win.timeline.snap_to_beats and win.menu_bar.snap_action.isChecked()
        win.timeline.set_view(RATE, 3 * RATE)  # L without a region loops what is on screen
        win.player.toggle_loop()
        beat = 60 / 128 * RATE  # the beats nearest 1 s and 3 s: the 2nd and 6th, 0.94 and 2.81 s
        start, stop = win.player.transport.loop
        assert abs(start - 2 * beat) < 0.002 * RATE and abs(stop - 6 * beat) < 0.002 * RATE
        win.menu_bar.snap_action.trigger()  # off, and so at the next start
        assert not win.timeline.snap_to_beats
        assert not S.Settings(settings_store).get(S.SNAP_TO_BEATS)
    finally:
        win.controller.shutdown()


def test_the_tempo_heard_is_rounded_as_people_count():
    """119 BPM at 75 % is 89.25: "89.3", where round() took the half to the even "89.2"."""
    from types import SimpleNamespace

    from stemgui.ui.shown_song import title_found

    job = SimpleNamespace(model_name="drums", analysis=Analysis(Tempo(119.0), None))
    assert title_found(job, 0.75, 0) == " — 119 → 89.3 BPM"


def test_the_tempo_is_kept_with_the_cached_stems_not_estimated_again(
    qtbot, song, tmp_path, monkeypatch
):
    from stemgui.stems import analysis

    cache = StemCache(tmp_path / "stemcache")
    worker = SeparationWorker(
        lambda options: (DrumsSeparator(), "drums"),
        stem_cache=cache,
        model_identity=lambda options, cancel: "drums-model",
    )
    _run(worker, song, SeparationOptions())
    estimated = []
    monkeypatch.setattr(
        analysis,
        "analyse",
        lambda stemset, path: estimated.append(path) or Analysis(Tempo(99.0), Key(9, "minor")),
    )
    _cached, again = _run(worker, song, SeparationOptions())  # every restart did it again
    assert again.analysis.tempo.bpm == pytest.approx(128, abs=0.5) and estimated == []
    assert again.analysis.tempo.beat == pytest.approx(60 / 128, rel=1e-3)
    (entry,) = (tmp_path / "stemcache").glob("*/entry.json")
    info = json.loads(entry.read_text())
    del info["song_key"]  # an entry stored before keys were (or beat grids, or tempos)
    entry.write_text(json.dumps(info))
    _cached, older = _run(worker, song, SeparationOptions())
    assert older.analysis == Analysis(Tempo(99.0), Key(9, "minor")) and estimated == [song]
    info.update(bpm=None, beats=None, song_key=None)  # none found then: not estimated again
    entry.write_text(json.dumps(info))
    _cached, none = _run(worker, song, SeparationOptions())
    assert none.analysis == Analysis() and estimated == [song]


def test_a_tempo_whose_estimate_failed_is_estimated_again_from_the_cache(
    qtbot, song, tmp_path, monkeypatch
):
    """A failed estimate (a bug, memory short) was kept in the cache as no tempo found: the
    song had none for good, whatever the next start could have found."""
    from stemgui.stems import tempo

    worker = SeparationWorker(
        lambda options: (DrumsSeparator(), "drums"),
        stem_cache=StemCache(tmp_path / "stemcache"),
        model_identity=lambda options, cancel: "drums-model",
    )
    with monkeypatch.context() as patch:
        patch.setattr(tempo, "stemset_tempo", lambda stemset: 1 / 0)
        _separated, failed = _run(worker, song, SeparationOptions())
    assert failed.analysis.tempo is None and failed.analysis.key == Key(2, "major")
    cached, again = _run(worker, song, SeparationOptions())
    assert isinstance(cached.data, np.memmap)  # from the stem cache, estimated again
    assert again.analysis.tempo.bpm == pytest.approx(128, abs=0.5)
    assert again.analysis.key == Key(2, "major")
