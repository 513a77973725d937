"""A halving (Halve tempo, worked out on a thread) or a fit of taps still being worked out as
the window closes is waited for, ``tempo_menu.RESULT_WAIT_S`` at most, and kept with the song's
stems (``TempoMenu.finish``): it was dropped, and lost at the next start. One that does not end
in time does not hold the close: the song keeps what is known (its tempo as it was; the taps'
grid), and the log names it."""

from __future__ import annotations

import logging
import threading

import numpy as np

from stemgui.stems import taps as taps_module
from stemgui.stems.analysis import FACTOR_FIELD, TAPPED_FIELD, Analysis
from stemgui.ui import tempo_menu
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import START, entry_info, shown, tap


def _held(monkeypatch, owner, name: str) -> threading.Event:
    """``owner.name`` made to wait for the event (set by the test) before it works."""
    release = threading.Event()
    real = getattr(owner, name)

    def held(*args, **kwargs):
        release.wait(TIMEOUT_MS / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return release


def _released_as_the_close_begins(monkeypatch, win, release: threading.Event) -> None:
    shutdown = win.controller.shutdown

    def released(*args, **kwargs):
        release.set()
        shutdown(*args, **kwargs)

    monkeypatch.setattr(win.controller, "shutdown", released)


def _separated(qtbot, win, song):
    job = shown(qtbot, win, song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    return job


def _tapped(win, bpm: float) -> None:
    """Four taps at ``bpm`` on the kicks from 10 s on: the song's tempo, its fit begun."""
    win.player.toggle()
    for seconds in START + 10.0 + 60 / bpm * np.arange(4):
        tap(win, seconds)


def _said(caplog) -> str:
    return " ".join(r.getMessage() for r in caplog.records if r.name == tempo_menu.__name__)


def test_a_halving_worked_out_as_the_window_closes_is_kept(
    qtbot, drums_win, drums_song, monkeypatch
):
    win, tempo = drums_win, drums_win.menu_bar.tempo
    job = _separated(qtbot, win, drums_song)
    release = _held(monkeypatch, Analysis, "scaled")
    _released_as_the_close_begins(monkeypatch, win, release)
    try:
        tempo.actions[0.5].trigger()
        assert tempo.busy
        win.close()
    finally:
        release.set()
    assert job.analysis.tempo.bpm == 60.0 and not tempo.busy
    assert entry_info(win, job, wait=False)[FACTOR_FIELD] == 0.5


def test_a_halving_that_does_not_end_does_not_hold_the_close(
    qtbot, drums_win, drums_song, monkeypatch, caplog
):
    win, tempo = drums_win, drums_win.menu_bar.tempo
    job = _separated(qtbot, win, drums_song)
    release = _held(monkeypatch, Analysis, "scaled")
    monkeypatch.setattr(tempo_menu, "RESULT_WAIT_S", 0.2)
    try:
        tempo.actions[0.5].trigger()
        with caplog.at_level(logging.WARNING, logger=tempo_menu.__name__):
            win.close()  # returns: the halving is still held
        assert not release.is_set() and job in tempo.busy
    finally:
        release.set()
    assert job.analysis.tempo.bpm == 120.0
    assert entry_info(win, job, wait=False).get(FACTOR_FIELD, 1) == 1
    assert f"{job.path}: the tempo's halving or doubling was not worked out" in _said(caplog)


def test_a_fit_of_taps_worked_out_as_the_window_closes_is_kept(
    qtbot, drums_win, drums_song, monkeypatch
):
    win, taps = drums_win, drums_win.menu_bar.tempo.taps
    job = _separated(qtbot, win, drums_song)
    release = _held(monkeypatch, taps_module, "refined")
    _released_as_the_close_begins(monkeypatch, win, release)
    try:
        _tapped(win, 120.5)
        tapped = job.analysis
        assert tapped.tempo.bpm == 120.5 and taps.fitting == {job}
        win.close()
    finally:
        release.set()
    fitted = job.analysis.tempo
    assert job.analysis is not tapped and fitted.bpm == 120.0 and not taps.fitting
    kept = entry_info(win, job, wait=False)[TAPPED_FIELD]
    assert kept == [fitted.bpm, fitted.first_beat, fitted.beat]


def test_a_fit_of_taps_that_does_not_end_leaves_the_taps_grid_kept(
    qtbot, drums_win, drums_song, monkeypatch, caplog
):
    win, taps = drums_win, drums_win.menu_bar.tempo.taps
    job = _separated(qtbot, win, drums_song)
    release = _held(monkeypatch, taps_module, "refined")
    monkeypatch.setattr(tempo_menu, "RESULT_WAIT_S", 0.2)
    try:
        _tapped(win, 120.5)
        tapped = job.analysis.tempo
        with caplog.at_level(logging.WARNING, logger=tempo_menu.__name__):
            win.close()  # returns: the fit is still held
        assert not release.is_set() and taps.fitting == {job}
    finally:
        release.set()
    kept = entry_info(win, job, wait=False)[TAPPED_FIELD]
    assert kept == [tapped.bpm, tapped.first_beat, tapped.beat]
    assert f"{job.path}: the taps were not fitted to the song" in _said(caplog)
