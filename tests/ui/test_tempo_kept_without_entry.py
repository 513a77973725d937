"""A correction of the tempo of a song whose stems left the stem cache (cleared, or deleted to
stay under its size limit) holds for the session only: the status bar says so, and what to do
to keep it, once the writing thread finds it gone."""

from __future__ import annotations

from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import rock_song, shown


def test_a_correction_of_a_song_whose_stems_left_the_cache_says_what_to_do(
    qtbot, drums_win, tmp_path
):
    job = shown(qtbot, drums_win, rock_song(tmp_path))
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    drums_win.menu_bar.clear_stem_cache()  # on a thread: its "cleared" would replace what is said
    qtbot.waitUntil(drums_win.menu_bar.clear_action.isEnabled, timeout=TIMEOUT_MS)
    drums_win.menu_bar.tempo.beat_action.trigger()  # Move the beat grid to the playhead
    bar = drums_win.statusBar()
    qtbot.waitUntil(lambda: "holds" in bar.currentMessage(), timeout=TIMEOUT_MS)  # once written
    said = bar.currentMessage()
    assert said.startswith(f"{job.title}: a beat of the grid on the playhead now")
    assert "holds for this session only" in said
    assert said.endswith("add the song again to keep its stems, then make the correction again.")
