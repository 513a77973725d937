"""The original mix row drags out the song file itself only where a DAW takes it as it is (WAV,
AIFF, FLAC, MP3, the whole song as it is); else a WAV of the song as decoded, written as a
stem's is: from the press, once, of the part and at the pace the stems take
(``stemgui.ui.drag_song``)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from stemgui.audio.decode import decode
from stemgui.export.pace import Pace
from stemgui.stems.stemset import StemSet
from stemgui.ui.drag_out import DragFiles
from stemgui.ui.drag_part import DragPart
from stemgui.ui.export_dialog import ExportDialog
from tests.audio.media import av_write, tone
from tests.ui.drag_rig import drag_row, dropped
from tests.ui.song_window import NAMES, RATE, done_job, make_stemset, null_window, show_song


@pytest.mark.parametrize(("song", "video"), [("My Song.m4a", None), ("My Song.mp4", "mpeg4")])
def test_a_song_daws_cannot_import_drags_out_as_a_wav_of_its_decoded_mix(
    qtbot, settings_store, tmp_path, monkeypatch, song, video
):
    """The row dragged the .m4a or the video itself: a DAW that imports neither (most take no
    video's sound) dropped nothing, or the picture alone."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import stemgui.audio.stream as stream

    writes = []
    real = stream.write_blocks
    monkeypatch.setattr(
        stream, "write_blocks", lambda *a, **k: writes.append(a[0]) or real(*a, **k)
    )
    made = av_write(tmp_path / "made", tone(RATE), RATE, "aac", "mp4", video=video)
    mix = decode(made, RATE, 2).samples  # the song as the app decodes it
    stems = np.stack([mix / 4] * 4).astype(np.float32)
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = show_song(win, tmp_path / song, StemSet(NAMES, RATE, stems, mix=mix))
    made.replace(job.path)  # its file, read for its rate and tags
    row = win.stems.mix_row
    start = row.label.geometry().center()
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song - mix.wav"
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    qtbot.waitUntil(path.is_file, timeout=20_000)  # written ahead, from the press
    qtbot.mouseMove(row, start + QPoint(QApplication.startDragDistance() + 5, 0))
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton)
    assert drops == [[path]] and writes == [path]
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    np.testing.assert_array_equal(samples.T, mix)  # every sample as decoded
    with sf.SoundFile(path) as read:
        assert read.title == "My Song (Mix)"
    drag_row(qtbot, row)  # dropped again, not written again
    assert drops[1] == [path] and writes == [path]
    win.close()


def test_a_click_on_the_mix_row_leaves_nothing_written(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """The press writes the mix's WAV ahead of a drag that may not come, as a stem's: a click
    deletes it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    show_song(win, tmp_path / "My Song.ogg")
    row, start = win.stems.mix_row, win.stems.mix_row.label.geometry().center()
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song - mix.wav"
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    qtbot.waitUntil(path.is_file, timeout=20_000)  # written ahead
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton, pos=start)
    assert not path.exists() and drops == []
    win.close()


def test_a_wav_song_drags_out_its_mix_s_loop_region_as_the_stems_do(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """With "Only the loop region" ticked, the stems dropped the loop and the mix row the
    whole song: not what an export of the part, nor the stems beside it, hold."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def exec_(dialog):
        dialog.only_loop.setChecked(True)
        dialog.folder.setText(str(tmp_path / "out"))
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    drops = dropped(monkeypatch)
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    drag_row(qtbot, win.stems.mix_row)
    assert drops == [[job.path]]  # the whole song as it is: its own file
    win.player.set_loop(RATE, RATE * 5 // 2)  # 1.0-2.5 s
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    drag_row(qtbot, win.stems.mix_row)
    (path,) = drops[1]
    assert path.name == "My Song 0m01.00s-0m02.50s - mix.wav"
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, job.stemset.mix[:, RATE : RATE * 5 // 2])
    win.close()


def test_the_mix_at_a_pace_goes_through_the_stretcher_alone(tmp_path, monkeypatch):
    """The stems at a pace are written together; the mix is none of them: written alone."""
    from stemgui.ui.drag_out import MIX

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stemset, files = make_stemset(), DragFiles()
    path = files.file(stemset, "My Song", MIX, None, part=DragPart(pace=Pace(0.8)))
    assert path.name == "My Song 80% - mix.wav"
    assert sf.info(path).frames == round(4 * RATE / 0.8)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_the_mix_drags_out_while_the_song_is_separating(tmp_path, monkeypatch):
    """The song is decoded whole before it is separated: its mix is there, its stems not yet."""
    from stemgui.errors import ExportError
    from stemgui.ui.drag_out import MIX

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stemset, files = make_stemset(ready=RATE), DragFiles()
    with pytest.raises(ExportError, match="once the whole song is separated"):
        files.file(stemset, "My Song", "bass", None)
    path = files.file(stemset, "My Song", MIX, None)
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, stemset.mix)
