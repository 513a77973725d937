"""The original mix row dragged out drops the song file itself, beside its stems: nothing is
written; a song file that is gone is said in the status bar instead of a drag."""

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


def test_the_original_mix_of_a_song_file_gone_says_so(qtbot, settings_store, tmp_path, monkeypatch):
    """A song on a drive unplugged since it was separated: a drag of a path that is not there
    drops nothing in the DAW, without a word."""
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.path.unlink()
    drag_row(qtbot, win.stems.mix_row)
    assert drops == []
    assert win.statusBar().currentMessage() == (
        f"{job.path} is not there any more (on a drive unplugged?): plug its drive back in "
        "to drag the original mix, or drag its stems"
    )
    win.close()
