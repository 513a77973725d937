"""A song's cues are kept with its stems in the stem cache, beside the corrections of its tempo:
they hold at the next start and when newer estimates analyse the song again, and the same song
open in four stems and in two has them in both rows at once, drawn on whichever is shown."""

from __future__ import annotations

import pytest

from stemgui.stems.cues import FIELD
from stemgui.ui.queue import JobState
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import drums_window, entry_info, next_start_waveforms, rock_song, shown
from tests.ui.test_tempo_shared_entry import FourStems


def _set(win, number: int, seconds: float) -> None:
    win.player.seek(round(seconds * RATE))
    win.menu_bar.cues.set_actions[number].trigger()


def test_cues_hold_through_a_restart_and_new_estimates(qtbot, drums_win, drums_song, monkeypatch):
    from stemgui.stems import analysis
    from stemgui.ui.stem_cache_size import stem_cache_of

    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    if drums_win.menu_bar.snap_action.isChecked():
        drums_win.menu_bar.snap_action.trigger()  # the times as set
    _set(drums_win, 1, 2.2)
    _set(drums_win, 8, 17.6)
    drums_win.menu_bar.tempo.actions[2.0].trigger()  # a correction of the tempo keeps them
    qtbot.waitUntil(lambda: not drums_win.menu_bar.tempo.busy, timeout=TIMEOUT_MS)
    cues = job.waveforms.cues
    assert cues.numbers() == [1, 8] and cues.at(8) == round(17.6 * RATE) / RATE
    info = entry_info(drums_win, job)
    assert info[FIELD][0] == round(2.2 * RATE) / RATE and info["tempo_factor"] == 2
    root = stem_cache_of(drums_win).root
    drums_win.controller.shutdown()
    again = next_start_waveforms(root, drums_song)
    assert again.cues == cues and again.analysis.tempo_factor == 2
    monkeypatch.setattr(analysis, "VERSION", analysis.VERSION + 1)  # found by older estimates
    estimated = []
    analyse = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda *a: estimated.append(a) or analyse(*a))
    newer = next_start_waveforms(root, drums_song)
    assert len(estimated) == 1 and newer.cues == cues  # analysed again, the cues kept


@pytest.fixture
def four_win(qtbot, settings_store, monkeypatch):
    window = drums_window(qtbot, settings_store, monkeypatch, FourStems, "four")
    yield window
    window.controller.shutdown()


def test_the_rows_of_a_song_in_four_stems_and_two_share_its_cues(qtbot, four_win, tmp_path):
    from stemgui.ui.stem_cache_size import entry_of, stem_cache_of

    win, song = four_win, rock_song(tmp_path)
    four = shown(qtbot, win, song)
    qtbot.waitUntil(lambda: bool(four.stem_entry), timeout=TIMEOUT_MS)
    win.menus.two_stems_action.trigger()  # on: vocals and no vocals
    (two,) = win.add_paths([song])
    qtbot.waitUntil(lambda: two.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert entry_of(two) == four.stem_entry
    _set(win, 3, 6.0)  # on a beat: where it snaps or not
    assert two.waveforms.cues == four.waveforms.cues  # at once, not at the next start only
    win.select(two)
    qtbot.waitUntil(lambda: win.shown_job is two, timeout=TIMEOUT_MS)
    assert win.timeline.cues == {3: round(four.waveforms.cues.at(3) * RATE)}
    win.menu_bar.cues.clear_all_action.trigger()  # from the row of two: the four's too
    assert four.waveforms.cues.numbers() == [] and win.timeline.cues == {}
    _set(win, 2, 9.0)
    root = stem_cache_of(win).root
    win.controller.shutdown()
    assert next_start_waveforms(root, song).cues == two.waveforms.cues == four.waveforms.cues
