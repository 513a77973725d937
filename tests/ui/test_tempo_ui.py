"""The tempo, beat grid and key of a separated song: estimated on the worker (the tempo from
its drums), after a separation and for stems from the stem cache, kept in the cache, and shown
beside the song's title."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import soundfile as sf

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import Analysis
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.worker import SeparationWorker
from tests.stems.drumkit import RATE, drum_track
from tests.stems.harmony import key_song
from tests.ui.drums_window import DrumsSeparator, drums_window, identity, shown


class ChordsSeparator(DrumsSeparator):
    """Gives the song as its drums, and a louder 100 BPM pulse with chords in D major as
    "other"."""

    def other(self, frames: int) -> np.ndarray:
        pulse = 2 * drum_track(100, frames / RATE, "four", seed=5)[:, :frames]
        return pulse + key_song(2, "major", frames / RATE + 1)[:, :frames]


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "beat.wav"
    sf.write(path, drum_track(128, 20.0, "four").T, RATE, subtype="FLOAT")  # long enough for a grid
    return path


def _worker(root) -> SeparationWorker:
    """A worker separating with ``ChordsSeparator`` that keeps its stems in ``root``."""
    return SeparationWorker(
        lambda options: (ChordsSeparator(), "drums"),
        stem_cache=StemCache(root),
        model_identity=identity,
    )


def _run(worker: SeparationWorker, song, options: SeparationOptions) -> tuple:
    done: list[tuple] = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append((stemset, waveforms)))
    worker.failed.connect(lambda job, message: pytest.fail(message))
    worker.run(1, str(song), options, threading.Event())
    worker.finished.disconnect()
    worker.failed.disconnect()
    return done[0]


def test_the_worker_times_separated_and_cached_songs_by_their_drums(qtbot, song, tmp_path):
    worker = _worker(tmp_path / "stemcache")
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


def test_the_tempo_is_shown_beside_the_title(qtbot, song, settings_store, monkeypatch):
    from stemgui.ui import settings as S

    win = drums_window(qtbot, settings_store, monkeypatch, ChordsSeparator)
    try:
        shown(qtbot, win, song)
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

    worker = _worker(tmp_path / "stemcache")
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

    worker = _worker(tmp_path / "stemcache")
    with monkeypatch.context() as patch:
        patch.setattr(tempo, "stemset_tempo", lambda stemset: 1 / 0)
        _separated, failed = _run(worker, song, SeparationOptions())
    assert failed.analysis.tempo is None and failed.analysis.key == Key(2, "major")
    cached, again = _run(worker, song, SeparationOptions())
    assert isinstance(cached.data, np.memmap)  # from the stem cache, estimated again
    assert again.analysis.tempo.bpm == pytest.approx(128, abs=0.5)
    assert again.analysis.key == Key(2, "major")
