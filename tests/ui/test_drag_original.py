"""The original mix row dragged out drops the song file itself, beside its stems: nothing is
written (a song file that is gone drags out as decoded: ``test_drag_mix_gone``)."""

from __future__ import annotations

from tests.ui.drag_rig import drag_row, dropped
from tests.ui.song_window import done_job, null_window


def test_the_original_mix_drags_out_as_the_song_file(qtbot, settings_store, tmp_path, monkeypatch):
    """A DAW user wanting the full track beside its stems could not drag the top row."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    drag_row(qtbot, win.stems.mix_row)
    assert drops == [[job.path]]  # the song's own file, as it is
    assert not (tmp_path / "cache" / "stemgui" / "drag").exists()  # nothing written
    drag_row(qtbot, win.stems.rows["bass"])  # the stems still drag out as files
    assert drops[1] == [tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"]
    win.close()
