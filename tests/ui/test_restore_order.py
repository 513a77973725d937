"""The song on screen at the close comes back first: the window shows its hint at once
(without waiting for torch), the queue awaits that song until it comes or is removed, and
the songs read from the stem cache are queued together, not told to the views row by row."""

from __future__ import annotations

import pytest

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.fresh_window import fresh_process_says
from tests.ui.restore_rig import start


def test_the_hint_shown_while_the_song_left_on_screen_comes_does_not_wait_for_torch():
    """Restoring selects the song shown at the close, and the hint shows until its stems come;
    the hint's demo button asked where the demo lies of the model store's module, which imports
    torch: the window stayed blank 1.1-1.4 s, until the worker's thread had imported it."""
    said = fresh_process_says(
        "w = MainWindow(probe=False); w.show(); w.screen.show_hint(); app.processEvents();"
        "print(w.demo_button.isVisibleTo(w), 'torch' in sys.modules); w.close()"
    )
    assert said == "True False"


@pytest.fixture
def two_songs_session(qtbot, settings_store, songs, tiny_model_file, tmp_path):
    """Both songs separated and stored; the second on screen at the close."""
    options = SeparationOptions(model=str(tiny_model_file), device="cpu")
    settings, root = S.Settings(settings_store), tmp_path / "stemcache"
    ctl, _, _ = start(root, options)
    try:
        jobs = ctl.add(songs)
        qtbot.waitUntil(lambda: all(job.kept is not None for job in jobs), timeout=TIMEOUT_MS)
        session.save(settings, ctl.model.jobs, shown=jobs[1])
    finally:
        ctl.shutdown()
    return settings, root, options


def test_the_song_shown_at_the_close_comes_back_first_and_is_awaited_until_then(
    qtbot, two_songs_session
):
    settings, root, options = two_songs_session
    ctl, factory, _ = start(root, options)
    try:
        jobs, shown, _, _ = session.load(settings)
        assert shown is jobs[1]
        started = []
        ctl.job_started.connect(started.append)
        ctl.restore(jobs, shown)
        assert ctl.awaited is shown  # no other song takes the screen before it
        qtbot.waitUntil(lambda: all(job.state is JobState.DONE for job in jobs), timeout=TIMEOUT_MS)
        assert started == [jobs[1], jobs[0]] and factory.calls == 0  # from the cache, it first
        assert ctl.awaited is None  # it came
    finally:
        ctl.shutdown()


def test_songs_read_from_the_cache_are_queued_so_not_told_row_by_row(qtbot, two_songs_session):
    """Each was queued waiting, then changed to being read, a change told to every view row by
    row: each asked the whole queue again (the window's buttons), 0.4 s of the GUI thread
    before the window painted for 500 songs."""
    settings, root, options = two_songs_session
    ctl, _, _ = start(root, options)
    try:
        jobs, shown, _, _ = session.load(settings)
        inserted, changed = [], []
        ctl.model.rowsInserted.connect(lambda *_: inserted.append([j.state for j in jobs]))
        ctl.model.dataChanged.connect(lambda *_: changed.append(1))
        ctl.restore(jobs, shown)
        assert inserted == [[JobState.DECODING] * 2] and changed == []
        qtbot.waitUntil(lambda: all(job.state is JobState.DONE for job in jobs), timeout=TIMEOUT_MS)
    finally:
        ctl.shutdown()


def test_the_song_shown_at_the_close_removed_before_it_comes_is_awaited_no_more(
    qtbot, two_songs_session
):
    settings, root, options = two_songs_session
    ctl, _, _ = start(root, options)
    try:
        jobs, shown, _, _ = session.load(settings)
        ctl.restore(jobs, shown)
        ctl.remove(shown)
        assert ctl.awaited is None
        qtbot.waitUntil(lambda: jobs[0].state is JobState.DONE, timeout=TIMEOUT_MS)
        assert ctl.model.jobs == [jobs[0]]
    finally:
        ctl.shutdown()
