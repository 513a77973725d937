"""Playback ▸ Move the beat grid to the playhead (B), Tap tempo (T) and Reset tempo to the
estimate, on a song of rock drums read at 120 BPM: the title, the grid, beat loops and the tags
follow; the corrections are kept with the stems in the stem cache, through a restart and a new
version of the estimates."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.analysis import BEAT_AT_FIELD, FACTOR_FIELD, TAPPED_FIELD
from stemgui.stems.tempo import Tempo
from stemgui.ui.drag_part import DragPart
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import (
    entry_info,
    next_start,
    off_grid,
    shown,
    tap,
)

JITTER = np.array([0.012, -0.012, -0.012, 0.012])
"""A tapper's hits off the beat, as much early as late at each end: the line through them is
the beats' own."""


def _stored(qtbot, drums_win, drums_song):
    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    return job


def _bumped(monkeypatch) -> None:
    """A new version of the estimates: stems kept by this one are analysed again."""
    from stemgui.stems import analysis

    monkeypatch.setattr(analysis, "VERSION", analysis.VERSION + 1)


def _root(drums_win):
    from stemgui.ui.stem_cache_size import stem_cache_of

    return stem_cache_of(drums_win).root


def test_the_grid_moved_to_the_playhead_moves_every_beat_by_as_much(
    qtbot, drums_win, drums_song, monkeypatch
):
    menu = drums_win.menu_bar.tempo
    assert not menu.beat_action.isEnabled()  # no song: no grid
    job = _stored(qtbot, drums_win, drums_song)
    first, length = drums_win.timeline.beats  # on every hit: 0.5, 1.0, 1.5 s...
    assert off_grid((first, length), np.arange(0.5, 20, 0.5)) < 0.005 * RATE
    drums_win.player.seek(round(3.25 * RATE))  # the off-beat between two hits
    menu.beat_action.trigger()
    moved, same = drums_win.timeline.beats
    assert same == length  # the BPM unchanged
    assert (moved - first) % length == pytest.approx((3.25 * RATE - first) % length, abs=1e-6)
    assert off_grid(drums_win.timeline.beats, [3.25]) < 1e-6  # a beat on the playhead
    assert "— 120 BPM — drums" in drums_win.song_title.text()
    assert (
        "rock.wav: a beat of the grid on the playhead now, 120 BPM (Playback ▸ Reset tempo to the "
        "estimate undoes it)."
    ) in drums_win.statusBar().currentMessage()
    drums_win.player.seek(round(5.3 * RATE))
    drums_win.menu_bar.loop_beats(2)  # Alt+2: from the beat before the playhead, on the new grid
    assert drums_win.player.transport.loop == (round(5.25 * RATE), round(6.25 * RATE))
    assert drums_win.stems.drag_tags("drums", DragPart())["bpm"] == "120"
    assert entry_info(drums_win, job)[BEAT_AT_FIELD] == 3.25
    assert menu.reset_action.isEnabled()
    root = _root(drums_win)
    drums_win.controller.shutdown()
    tempo = job.analysis.tempo
    assert next_start(root, drums_song).tempo == tempo  # the next start
    _bumped(monkeypatch)
    assert next_start(root, drums_song).tempo == tempo  # analysed again: moved again


def _settled(drums_win) -> None:
    """The taps' correction written now, as at a song change or quit (``CorrectionWrites``)."""
    drums_win.menu_bar.tempo.writes.flush()
    drums_win.menu_bar.tempo.writes.wait()


def test_taps_at_any_speed_give_a_song_without_a_tempo_the_taps(
    qtbot, drums_win, drums_song, monkeypatch
):
    from stemgui.stems import tempo

    monkeypatch.setattr(tempo, "stemset_tempo", lambda stemset: None)  # found none
    job = _stored(qtbot, drums_win, drums_song)
    assert job.analysis.tempo is None and drums_win.timeline.beats is None
    assert "BPM" not in drums_win.song_title.text()
    taps = drums_win.menu_bar.tempo.taps
    assert taps.action.isEnabled()
    assert "play the song, then press T on every beat" in tap(drums_win, 2.0)
    drums_win.player.set_speed(0.75)
    drums_win.player.toggle()
    assert drums_win.player.transport.playing
    times = 2.0 + 0.5 * np.arange(4) + JITTER  # 120 BPM in the song: 90 heard at 75 %
    assert tap(drums_win, times[0]).startswith("Tap: 1 tap")
    assert tap(drums_win, times[1]).startswith("Tap: ")
    said = tap(drums_win, times[2])
    assert said.endswith("BPM (3 taps); 4 set the tempo.") and job.analysis.tempo is None
    assert tap(drums_win, times[3]).startswith("Tap: 120.0 BPM (4 taps).")
    assert "— 120 → 90 BPM — drums" in drums_win.song_title.text()
    first, length = drums_win.timeline.beats  # through the taps: 2.0 s, 2.5 s...
    assert length == pytest.approx(0.5 * RATE, abs=0.001 * RATE)
    assert off_grid((first, length), 2.0 + 0.5 * np.arange(4)) < 0.001 * RATE
    assert drums_win.stems.drag_tags("drums", DragPart())["bpm"] == "120"
    assert tap(drums_win, 4.0).startswith("Tap: 120.0 BPM (5 taps).")
    tapped = job.analysis.tempo
    _settled(drums_win)
    assert entry_info(drums_win, job)[TAPPED_FIELD] == [tapped.bpm, tapped.first_beat, tapped.beat]
    assert tap(drums_win, 6.1).startswith("Tap: 1 tap")  # 2.8 s heard on: a new run
    assert job.analysis.tempo == tapped
    root = _root(drums_win)
    drums_win.controller.shutdown()  # takes the fit of the taps still being worked out
    kept = job.analysis.tempo
    assert kept.bpm == tapped.bpm  # the fit's grid, on the kicks tapped
    assert off_grid(drums_win.timeline.beats, times - JITTER) < 0.001 * RATE
    assert next_start(root, drums_song).tempo == kept
    _bumped(monkeypatch)
    assert next_start(root, drums_song).tempo == kept  # no estimate again: the taps'


def test_taps_replace_the_estimate_and_the_corrections_before(qtbot, drums_win, drums_song):
    job = _stored(qtbot, drums_win, drums_song)
    menu = drums_win.menu_bar.tempo
    drums_win.player.seek(round(3.25 * RATE))
    menu.beat_action.trigger()
    drums_win.player.toggle()
    for time in 1.0 + 0.6 * np.arange(4):  # 100 BPM
        said = tap(drums_win, time)
    assert said.startswith("Tap: 100.0 BPM (4 taps).")
    assert job.analysis.tempo == Tempo(100.0, pytest.approx(0.4), pytest.approx(0.6))
    assert "— 100 BPM — drums" in drums_win.song_title.text()
    _settled(drums_win)
    info = entry_info(drums_win, job)
    assert info[BEAT_AT_FIELD] is None and info[FACTOR_FIELD] == 1 and info[TAPPED_FIELD]


def test_reset_undoes_every_correction(qtbot, drums_win, drums_song, monkeypatch):
    menu = drums_win.menu_bar.tempo
    job = _stored(qtbot, drums_win, drums_song)
    estimate, grid = job.analysis, drums_win.timeline.beats
    assert not menu.reset_action.isEnabled()  # nothing corrected
    menu.actions[0.5].trigger()
    qtbot.waitUntil(lambda: not menu.busy, timeout=TIMEOUT_MS)
    drums_win.player.seek(round(4.1 * RATE))
    menu.beat_action.trigger()
    assert job.analysis.tempo.bpm == 60 and menu.reset_action.isEnabled()
    menu.reset_action.trigger()
    assert job.analysis is estimate and drums_win.timeline.beats == grid
    assert "— 120 BPM — drums" in drums_win.song_title.text()
    assert (
        "rock.wav: tempo reset to the estimate, 120 BPM." in drums_win.statusBar().currentMessage()
    )
    assert not menu.reset_action.isEnabled()
    info = entry_info(drums_win, job)
    assert (info[FACTOR_FIELD], info[BEAT_AT_FIELD], info[TAPPED_FIELD]) == (1, None, None)
    root = _root(drums_win)
    drums_win.controller.shutdown()
    assert next_start(root, drums_song) == estimate  # as found, nothing applied


def test_reset_of_a_tapped_song_without_an_estimate_leaves_it_without(
    qtbot, drums_win, drums_song, monkeypatch
):
    from stemgui.stems import tempo

    monkeypatch.setattr(tempo, "stemset_tempo", lambda stemset: None)
    job = _stored(qtbot, drums_win, drums_song)
    drums_win.player.toggle()
    for time in 1.0 + 0.5 * np.arange(4):
        tap(drums_win, time)
    assert job.analysis.tempo.bpm == 120
    qtbot.waitUntil(lambda: not drums_win.menu_bar.tempo.taps.fitting)  # Reset waits for it
    drums_win.menu_bar.tempo.reset_action.trigger()
    assert job.analysis.tempo is None and drums_win.timeline.beats is None
    assert "BPM" not in drums_win.song_title.text()
    assert "no tempo was found, as before (Playback ▸ Tap tempo gives it one)." in (
        drums_win.statusBar().currentMessage()
    )


def test_the_actions_have_keys_of_their_own_in_the_list_of_shortcuts(drums_win):
    from stemgui.ui.shortcuts import shortcut_rows

    rows = shortcut_rows([drums_win, drums_win.queue])
    assert ("B", "Move the beat grid to the playhead") in rows and ("T", "Tap tempo") in rows
    keys = [keys for keys, _what in rows]
    assert keys.count("B") == 1 and keys.count("T") == 1
