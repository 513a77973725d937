"""The original mix row of a WAV, AIFF, FLAC or MP3 song whose file is gone (on a drive unplugged
since it was separated) drags out the song as decoded, kept in memory (``StemSet.mix``), as a
WAV written as a stem's is (``stemgui.ui.drag_song``): not "plug its drive back in"."""

from __future__ import annotations

import threading

import numpy as np
import soundfile as sf

from tests.ui.drag_rig import drag_row, dropped
from tests.ui.song_window import done_job, null_window


def test_the_mix_of_a_song_file_gone_drags_out_as_decoded(
    qtbot, settings_store, tmp_path, monkeypatch
):
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writes: list[str] = []  # the thread of each write
    real = stream.write_blocks
    monkeypatch.setattr(
        stream,
        "write_blocks",
        lambda *a, **k: writes.append(threading.current_thread().name) or real(*a, **k),
    )
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.path.unlink()
    drag_row(qtbot, win.stems.mix_row)
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song - mix.wav"
    assert drops == [[path]]
    assert writes == ["stemgui-drag-ahead"]  # from the press, off the window's thread
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, job.stemset.mix)  # every sample as decoded
    win.close()
