"""A correction whose write does not return (a hung disk, a network folder gone) no longer
holds the window's close: the close waits ``correction_writes.WRITE_WAIT_S`` for the writes,
then goes, and the log names each song whose correction was not written by then."""

from __future__ import annotations

import logging
import threading

from stemgui.stemcache import StemCache
from stemgui.stems.key import Key
from stemgui.ui import correction_writes
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import shown


def test_the_close_goes_without_a_write_that_does_not_return(
    qtbot, drums_win, drums_song, monkeypatch, caplog
):
    win, key = drums_win, drums_win.menu_bar.key
    job = shown(qtbot, win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    hung, release = threading.Event(), threading.Event()

    def never_returns(cache, entry, fields):
        hung.set()
        release.wait(TIMEOUT_MS / 1000)  # let go only once the test ends
        return True

    monkeypatch.setattr(StemCache, "update_info", never_returns)
    monkeypatch.setattr(correction_writes, "WRITE_WAIT_S", 0.2)
    try:
        key.update()  # as the Playback menu opens
        key.key_actions[Key(6, "minor")].trigger()
        assert hung.wait(TIMEOUT_MS / 1000)
        with caplog.at_level(logging.WARNING, logger="stemgui.ui.correction_writes"):
            win.close()  # returns: the write still hangs
        assert not release.is_set()
    finally:
        release.set()
    (record,) = [r for r in caplog.records if r.name == "stemgui.ui.correction_writes"]
    assert str(job.path) in record.getMessage()
    assert "was not written" in record.getMessage()
