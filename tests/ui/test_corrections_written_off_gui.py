"""Double, Halve, Move the beat grid, Reset and the key items keep the song's corrections in its
stem cache entry on the corrections' writing thread (``correction_writes``), as the taps' are: each
rewrote and synced the entry on the GUI thread (about 12 ms, more on a slow disk). The writes of
a song land in the order made, the last one wins, and those not written yet are written as the
window closes."""

from __future__ import annotations

import threading

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import BEAT_AT_FIELD, FACTOR_FIELD, KEY_FIELD
from stemgui.stems.key import Key
from tests.stems.drumkit import RATE
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import entry_info, shown

F_SHARP_MINOR, A_MAJOR = Key(6, "minor"), Key(9, "major")


def _held_writes(monkeypatch) -> tuple[list[tuple[dict, bool]], threading.Event]:
    """The fields of every write to a stem cache entry, and whether it was on the GUI thread;
    the writes off it wait for the event (a slow disk)."""
    writes: list[tuple[dict, bool]] = []
    release = threading.Event()
    update_info = StemCache.update_info

    def held(cache, key, fields):
        on_gui = threading.current_thread() is threading.main_thread()
        writes.append((dict(fields), on_gui))
        if not on_gui:
            release.wait(TIMEOUT_MS / 1000)
        return update_info(cache, key, fields)

    monkeypatch.setattr(StemCache, "update_info", held)
    return writes, release


def _kept(fields: dict) -> tuple:
    return fields[KEY_FIELD], fields[FACTOR_FIELD], fields[BEAT_AT_FIELD] is not None


def test_corrections_are_written_off_the_gui_thread_in_the_order_made(
    qtbot, drums_win, drums_song, monkeypatch
):
    win, tempo, key = drums_win, drums_win.menu_bar.tempo, drums_win.menu_bar.key
    job = shown(qtbot, win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    writes, release = _held_writes(monkeypatch)
    try:
        key.update()  # as the Playback menu opens
        key.key_actions[F_SHARP_MINOR].trigger()  # its write waits for the disk
        tempo.actions[2.0].trigger()
        qtbot.waitUntil(lambda: not tempo.busy, timeout=TIMEOUT_MS)
        key.key_actions[A_MAJOR].trigger()
        win.player.seek(round(2.3 * RATE))
        tempo.beat_action.trigger()
        tempo.reset_action.trigger()
        assert job.analysis.key == A_MAJOR and not job.analysis.tempo_corrected  # at once
    finally:
        release.set()
    tempo.writes.wait()
    assert [on_gui for _fields, on_gui in writes] == [False] * 5
    assert [_kept(fields) for fields, _on_gui in writes] == [
        ([6, "minor"], 1, False),
        ([6, "minor"], 2, False),
        ([9, "major"], 2, False),
        ([9, "major"], 2, True),
        ([9, "major"], 1, False),
    ]
    assert _kept(entry_info(win, job)) == ([9, "major"], 1, False)  # the last one wins


def test_corrections_not_written_yet_are_written_as_the_window_closes(
    qtbot, drums_win, drums_song, monkeypatch
):
    win, key = drums_win, drums_win.menu_bar.key
    job = shown(qtbot, win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    writes, release = _held_writes(monkeypatch)
    menu_writes = win.menu_bar.tempo.writes
    wait = menu_writes.wait

    def waited(timeout: float | None = None) -> list:  # the slow disk is done only once the
        release.set()  # close waits for it
        return wait(timeout)

    monkeypatch.setattr(menu_writes, "wait", waited)
    try:
        key.update()
        key.key_actions[F_SHARP_MINOR].trigger()  # being written, slowly
        key.key_actions[A_MAJOR].trigger()  # waiting for it
        assert [on_gui for _fields, on_gui in writes] == [False]
        win.close()
        assert entry_info(win, job, wait=False)[KEY_FIELD] == [9, "major"]
        assert [on_gui for _fields, on_gui in writes] == [False, False]
    finally:
        release.set()
