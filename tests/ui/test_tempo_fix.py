"""Playback ▸ Double tempo and Halve tempo on a song of rock drums read at 120 BPM (kick on 1 and
3): the title, the beat grid, beat loops, export and drag tags follow; the correction is kept
with the stems in the stem cache, through a restart and a new version of the estimates."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import FACTOR_FIELD
from stemgui.ui import settings as S
from stemgui.ui.drag_part import DragPart
from tests.audio.media import tags_of
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import (
    KICKS,
    START,
    entry_info,
    next_start,
    off_grid,
    shown,
)


def _correct(qtbot, drums_win, factor: float) -> None:
    """Playback ▸ Double tempo (``factor`` 2) or Halve tempo (0.5), worked out on a thread."""
    tempo = drums_win.menu_bar.tempo
    tempo.actions[factor].trigger()
    assert tempo.busy and not any(action.isEnabled() for action in tempo.actions.values())
    qtbot.waitUntil(lambda: not tempo.busy, timeout=TIMEOUT_MS)


def test_halving_and_doubling_the_tempo_of_the_song_on_screen(
    qtbot, drums_win, drums_song, tmp_path
):
    from stemgui.export.exporter import ExportRequest

    halve, double = drums_win.menu_bar.tempo.actions[0.5], drums_win.menu_bar.tempo.actions[2.0]
    assert not halve.isEnabled() and not double.isEnabled()  # no song: no tempo
    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    assert "— 120 BPM — drums" in drums_win.song_title.text()
    assert halve.isEnabled() and double.isEnabled()
    _correct(qtbot, drums_win, 0.5)
    assert "— 60 BPM — drums" in drums_win.song_title.text()
    assert "tempo halved, 60 BPM (Playback ▸ Double tempo undoes it)" in (
        drums_win.statusBar().currentMessage()
    )
    _first, length = drums_win.timeline.beats  # drawn, snapped to, clicked on: every kick
    assert length == pytest.approx(RATE, rel=1e-3)
    assert off_grid(drums_win.timeline.beats, KICKS) < 0.005 * RATE
    assert off_grid(drums_win.timeline.beats, KICKS + 0.5) > 0.49 * RATE  # not the snare
    drums_win.player.seek(round(3.2 * RATE))
    assert drums_win.menu_bar.loop_beats(1) is None and drums_win.player.transport.loop == (
        pytest.approx(KICKS[2] * RATE, abs=0.005 * RATE),
        pytest.approx(KICKS[3] * RATE, abs=0.005 * RATE),
    )  # Alt+1: a beat at 60 BPM, from the kick before the playhead
    drums_win.player.set_speed(0.75)
    assert "— 60 → 45 BPM — drums" in drums_win.song_title.text()
    drums_win.player.set_speed(1.0)
    assert entry_info(drums_win, job)[FACTOR_FIELD] == 0.5
    assert entry_info(drums_win, job)["bpm"] == 120  # the estimate, as found
    assert drums_win.stems.drag_tags("drums", DragPart())["bpm"] == "60"
    drums_win.export_job(job, ExportRequest(folder=tmp_path / "out", stems=["drums"]))
    qtbot.waitUntil(lambda: not drums_win.exporter.tasks, timeout=TIMEOUT_MS)
    (written,) = (tmp_path / "out").rglob("drums.wav")
    assert tags_of(written)["TBPM"] == "60"

    _correct(qtbot, drums_win, 2.0)  # back to the estimate's grid
    _correct(qtbot, drums_win, 2.0)
    assert "— 240 BPM — drums" in drums_win.song_title.text()
    _first, length = drums_win.timeline.beats
    assert length == pytest.approx(RATE / 4, rel=1e-3)
    assert (
        off_grid(drums_win.timeline.beats, np.arange(START, 20, 0.25)) < 0.005 * RATE
    )  # midpoints
    assert not double.isEnabled() and halve.isEnabled()  # 480 BPM is past 300
    assert entry_info(drums_win, job)[FACTOR_FIELD] == 2
    assert drums_win.stems.drag_tags("drums", DragPart())["bpm"] == "240"


def test_the_actions_have_keys_of_their_own_in_the_list_of_shortcuts(drums_win):
    from stemgui.ui.shortcuts import shortcut_rows

    rows = shortcut_rows([drums_win, drums_win.queue])
    assert ("Alt+Up", "Double tempo") in rows and ("Alt+Down", "Halve tempo") in rows
    keys = [keys for keys, _what in rows]
    assert keys.count("Alt+Up") == 1 and keys.count("Alt+Down") == 1


def test_a_correction_holds_through_a_restart_and_new_estimates(
    qtbot, drums_win, drums_song, monkeypatch
):
    from stemgui.stems import analysis
    from stemgui.ui.stem_cache_size import stem_cache_of

    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    _correct(qtbot, drums_win, 0.5)
    root = stem_cache_of(drums_win).root
    drums_win.controller.shutdown()

    def run() -> object:
        return next_start(root, drums_song)

    again = run()
    assert again.tempo.bpm == 60 and again.tempo_factor == 0.5
    assert again.tempo.beat == pytest.approx(1.0, rel=1e-3)
    grid = (again.tempo.first_beat * RATE, again.tempo.beat * RATE)
    assert off_grid(grid, KICKS) < 0.005 * RATE
    estimated = []
    monkeypatch.setattr(analysis, "VERSION", analysis.VERSION + 1)  # found by older estimates
    analyse = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda *a: estimated.append(a) or analyse(*a))
    newer = run()
    assert len(estimated) == 1 and newer == again  # analysed again, and halved again


def test_a_song_corrected_before_its_stems_are_stored_has_it_written_with_them(
    qtbot, drums_win, drums_song, monkeypatch
):
    stored = threading.Event()
    put = StemCache.put

    def slow_put(cache, *args, **kwargs):  # the stems of a long song: seconds to write
        assert stored.wait(TIMEOUT_MS / 1000)
        return put(cache, *args, **kwargs)

    monkeypatch.setattr(StemCache, "put", slow_put)
    job = shown(qtbot, drums_win, drums_song)
    assert not job.stem_entry
    _correct(qtbot, drums_win, 2.0)
    assert "— 240 BPM — drums" in drums_win.song_title.text()
    stored.set()
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    assert entry_info(drums_win, job)[FACTOR_FIELD] == 2


def test_without_keeping_stems_the_correction_holds_for_the_session(
    qtbot, drums_win, drums_song, settings_store
):
    drums_win.menu_bar.keep_stems_action.trigger()  # off
    assert not S.Settings(settings_store).get(S.KEEP_STEMS)
    job = shown(qtbot, drums_win, drums_song)
    _correct(qtbot, drums_win, 0.5)
    assert "— 60 BPM — drums" in drums_win.song_title.text()
    assert "It holds for this session only: File ▸ Keep separated stems between sessions" in (
        drums_win.statusBar().currentMessage()
    )
    assert job.analysis.tempo_factor == 0.5 and not job.stem_entry


def test_a_correction_that_fails_leaves_the_tempo_as_it_was(
    qtbot, drums_win, drums_song, monkeypatch
):
    from stemgui.stems.analysis import Analysis

    job = shown(qtbot, drums_win, drums_song)
    monkeypatch.setattr(Analysis, "scaled", lambda self, factor, stemset: 1 / 0)
    _correct(qtbot, drums_win, 0.5)
    assert "— 120 BPM — drums" in drums_win.song_title.text()
    assert job.analysis.tempo.bpm == 120 and job.analysis.tempo_factor == 1
    assert "the tempo could not be corrected; Help ▸ Open log folder shows why" in (
        drums_win.statusBar().currentMessage()
    )
    assert all(action.isEnabled() for action in drums_win.menu_bar.tempo.actions.values())
