"""The same song open as a row of four stems and a row of two (vocals and no vocals): both read
their stems and analysis from one stem cache entry, so a correction of one row's tempo, written
there, is the other row's too at once, as it is at the next start."""

from __future__ import annotations

from typing import ClassVar

import pytest

from stemgui.ui.queue import JobState
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import drums_window, next_start, rock_song, shown


class FourStems:
    """Gives the song as its drums, and silence as its bass, other and vocals."""

    sources: ClassVar[list[str]] = ["drums", "bass", "other", "vocals"]
    samplerate = RATE

    class model:
        audio_channels = 2

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        out[:] = 0.0
        out[0] = buffer
        return out


@pytest.fixture
def win(qtbot, settings_store, monkeypatch):
    window = drums_window(qtbot, settings_store, monkeypatch, FourStems, "four")
    yield window
    window.controller.shutdown()


def test_a_correction_of_one_row_is_the_other_rows_at_once(qtbot, win, tmp_path):
    from stemgui.ui.stem_cache_size import entry_of, stem_cache_of

    song = rock_song(tmp_path)
    four = shown(qtbot, win, song)
    qtbot.waitUntil(lambda: bool(four.stem_entry), timeout=TIMEOUT_MS)
    win.menus.two_stems_action.trigger()  # on: vocals and no vocals
    (two,) = win.add_paths([song])
    qtbot.waitUntil(lambda: two.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert list(two.stemset.names) == ["vocals", "no_vocals"] and entry_of(two) == four.stem_entry
    assert two.analysis == four.analysis
    win.player.seek(round(3.25 * RATE))  # the off-beat between two hits
    win.menu_bar.tempo.beat_action.trigger()
    moved = four.analysis.tempo
    assert moved.first_beat == pytest.approx(0.25, abs=0.001)
    assert two.analysis.tempo == moved  # at once, not at the next start only
    win.select(two)
    qtbot.waitUntil(lambda: win.shown_job is two, timeout=TIMEOUT_MS)
    assert win.timeline.beats == pytest.approx((moved.first_beat * RATE, moved.beat * RATE))
    assert "— 120 BPM — four" in win.song_title.text()
    root = stem_cache_of(win).root
    win.controller.shutdown()
    assert next_start(root, song).tempo == moved
