"""Playback ▸ Move the beat grid to the playhead (B) on a song of rock drums read at 120 BPM:
the title, the grid, beat loops and the tags follow; the correction is kept with the stems in
the stem cache, through a restart and a new version of the estimates."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.analysis import BEAT_AT_FIELD
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import drums_window, entry_info, next_start, off_grid, rock_song, shown


@pytest.fixture
def song(tmp_path):
    return rock_song(tmp_path)


@pytest.fixture
def win(qtbot, settings_store, monkeypatch):
    window = drums_window(qtbot, settings_store, monkeypatch)
    yield window
    window.controller.shutdown()


def _stored(qtbot, win, song):
    job = shown(qtbot, win, song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    return job


def _bumped(monkeypatch) -> None:
    """A new version of the estimates: stems kept by this one are analysed again."""
    from stemgui.stems import analysis

    monkeypatch.setattr(analysis, "VERSION", analysis.VERSION + 1)


def _root(win):
    from stemgui.ui.stem_cache_size import stem_cache_of

    return stem_cache_of(win).root


def test_the_grid_moved_to_the_playhead_moves_every_beat_by_as_much(qtbot, win, song, monkeypatch):
    menu = win.menu_bar.tempo
    assert not menu.beat_action.isEnabled()  # no song: no grid
    job = _stored(qtbot, win, song)
    first, length = win.timeline.beats  # on every hit: 0.5, 1.0, 1.5 s...
    assert off_grid((first, length), np.arange(0.5, 20, 0.5)) < 0.005 * RATE
    win.player.seek(round(3.25 * RATE))  # the off-beat between two hits
    menu.beat_action.trigger()
    moved, same = win.timeline.beats
    assert same == length  # the BPM unchanged
    assert (moved - first) % length == pytest.approx((3.25 * RATE - first) % length, abs=1e-6)
    assert off_grid(win.timeline.beats, [3.25]) < 1e-6  # a beat on the playhead
    assert "— 120 BPM — drums" in win.song_title.text()
    assert (
        "rock.wav: a beat of the grid on the playhead now, 120 BPM (B on another beat moves it "
        "there)."
    ) in win.statusBar().currentMessage()
    win.player.seek(round(5.3 * RATE))
    win.menu_bar.loop_beats(2)  # Alt+2: from the beat before the playhead, on the new grid
    assert win.player.transport.loop == (round(5.25 * RATE), round(6.25 * RATE))
    assert win.stems.drag_tags("drums")["bpm"] == "120"
    assert entry_info(win, job)[BEAT_AT_FIELD] == 3.25
    root = _root(win)
    win.controller.shutdown()
    tempo = job.analysis.tempo
    assert next_start(root, song).tempo == tempo  # the next start
    _bumped(monkeypatch)
    assert next_start(root, song).tempo == tempo  # analysed again: moved again


def test_the_actions_have_keys_of_their_own_in_the_list_of_shortcuts(win):
    from stemgui.ui.shortcuts import shortcut_rows

    rows = shortcut_rows([win, win.queue])
    assert ("B", "Move the beat grid to the playhead") in rows
    keys = [keys for keys, _what in rows]
    assert keys.count("B") == 1
