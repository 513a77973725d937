"""A loop region set aside (looping off) is not the part a drag drops, nor the part the export
dialog offers: a drag drops what File ▸ Export stems… would write (``ExportCommands``)."""

from __future__ import annotations

import soundfile as sf

from stemgui.ui.export_dialog import ExportDialog
from tests.ui.song_window import RATE, done_job, null_window


def test_a_loop_turned_off_drags_and_exports_the_whole_song(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """With "Only the loop region" ticked once, a stem dragged after looping was turned off
    (L, to hear the whole song) still dropped the 1.5 s of the region set aside, while the
    transport bar said the loop was off."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    offered = []

    def exec_(dialog):
        offered.append(dialog.only_loop is not None)
        if dialog.only_loop is not None:
            dialog.only_loop.setChecked(True)
        dialog.folder.setText(str(tmp_path / "out"))
        offered.append(dialog.request().span)
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.player.set_loop(RATE, RATE * 5 // 2)  # 1.0-2.5 s, looping
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    assert offered == [True, (1.0, 2.5)]
    assert sf.info(win.stems.drag_file("bass")).frames == 3 * RATE // 2
    win.player.set_loop_enabled(False)  # the region kept, set aside
    assert win.player.transport.loop is not None
    assert sf.info(win.stems.drag_file("bass")).frames == 4 * RATE  # the whole song
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    assert offered[2:] == [False, None]  # the dialog exports the whole song too
    win.player.set_loop_enabled(True)  # the tick was kept: the region again
    assert sf.info(win.stems.drag_file("bass")).frames == 3 * RATE // 2
    win.close()
