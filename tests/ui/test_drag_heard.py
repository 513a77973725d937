"""A stem dragged out of the window as an export would write it: the part of the song and the
speed and key the export dialog was last ticked for (``stemgui.ui.drag_out``)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stemgui.export.pace import Pace
from stemgui.ui import settings as S
from stemgui.ui.drag_out import DragFiles
from stemgui.ui.drag_part import DragPart
from stemgui.ui.export_choices import ExportChoices
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.drag_rig import dropped
from tests.ui.song_window import NAMES, RATE, done_job, make_stemset, null_window


def test_the_speed_and_key_heard_stay_ticked_for_the_session(qtbot, settings_store, tmp_path):
    """Every tick of the dialog stayed for the next one but "At the speed and key heard": a
    practice session exporting song after song at 75 % ticked it each time."""
    settings = S.Settings(settings_store)

    def dialog(pace: Pace | None) -> ExportDialog:
        made = ExportDialog(NAMES, settings, tmp_path, pace=pace)
        qtbot.addWidget(made)
        return made

    slower = dialog(Pace(0.75))
    assert not slower.at_pace.isChecked()
    slower.at_pace.setChecked(True)
    choices = ExportChoices.of(slower)
    assert choices.at_pace
    again = dialog(Pace(0.9, -2))
    choices.apply(again)
    assert again.at_pace.isChecked()
    as_is = dialog(None)  # a song heard as it is offers no pace: it says nothing about it
    choices.apply(as_is)
    assert as_is.at_pace is None and ExportChoices.of(as_is, choices).at_pace
    again.at_pace.setChecked(False)
    assert not ExportChoices.of(again, choices).at_pace


def _export_ticked(qtbot, win, monkeypatch, tmp_path, **ticks) -> None:
    """Export the song on screen with the dialog's ``ticks`` (``only_loop``, ``at_pace``)."""

    def exec_(dialog):
        for name, on in ticks.items():
            getattr(dialog, name).setChecked(on)
        dialog.folder.setText(str(tmp_path / "out"))
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)


def test_a_stem_drags_out_as_the_loop_region_after_an_export_of_it(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """A producer who exported the loop region alone dragged the bass into the DAW and got the
    whole song: the drag followed the dialog's rate, not its "Only the loop region"."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    win.player.set_loop(RATE, RATE * 5 // 2)  # 1.0-2.5 s
    whole = win.stems.drag_file("bass")  # before any export: the whole song
    assert whole.name == "My Song - bass.wav" and sf.info(whole).frames == 4 * RATE
    _export_ticked(qtbot, win, monkeypatch, tmp_path, only_loop=True)
    part = win.stems.drag_file("bass")
    assert part.name == "My Song 0m01.00s-0m02.50s - bass.wav"  # as the export names it
    samples, rate = sf.read(part, dtype="float32", always_2d=True)
    assert rate == RATE and samples.shape == (3 * RATE // 2, 2)  # 12,000 frames of 1.5 s
    np.testing.assert_array_equal(samples.T, job.stemset.data[1][:, RATE : RATE * 5 // 2])
    with sf.SoundFile(part) as read:
        assert read.title == "My Song (Bass, 0m01.00s-0m02.50s)"  # as an export's title
    win.player.set_loop(2 * RATE, 3 * RATE)  # another loop: another file, the first kept
    other = win.stems.drag_file("bass")
    assert other.name == "My Song 0m02.00s-0m03.00s - bass.wav" and sf.info(other).frames == RATE
    win.player.set_loop(RATE, RATE * 5 // 2)
    assert win.stems.drag_file("bass") == part  # dropped again, not written a second time
    win.player.clear_loop()  # no loop: the whole song's file
    assert win.stems.drag_file("bass") == whole and sf.info(whole).frames == 4 * RATE
    win.close()


@pytest.mark.parametrize(("pace", "label"), [(Pace(0.8), "80%"), (Pace(1.0, -2), "100% -2st")])
def test_stems_dragged_at_a_pace_are_the_files_an_export_of_them_all_writes(
    tmp_path, monkeypatch, pace, label
):
    """Stems dragged at a pace go through the stretcher together, as an export of every stem
    does: dragged one by one, each through it alone, they would not add up to the song at that
    pace (its windows are cut where what it stretches continues best)."""
    import stemgui.audio.stream as stream
    from stemgui.audio.encode import AudioFormat
    from stemgui.export.exporter import ExportRequest, export

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writes = []
    real = stream.write_blocks
    monkeypatch.setattr(
        stream, "write_blocks", lambda *a, **k: writes.append(a[0]) or real(*a, **k)
    )
    stemset, files = make_stemset(), DragFiles()
    part = DragPart(pace=pace)
    bass = files.file(stemset, "My Song", "bass", None, part=part)
    assert bass.name == f"My Song {label} - bass.wav" and len(writes) == 4  # every stem, at once
    assert files.file(stemset, "My Song", "drums", None, part=part).name == (
        f"My Song {label} - drums.wav"
    )
    assert len(writes) == 4  # written with the bass
    exact = AudioFormat("wav", 32, float=True, clip="none")
    request = ExportRequest(tmp_path / "out", fmt=exact, template="{stem}.{ext}", pace=pace)
    export(stemset, request, "My Song", "m")
    for name in NAMES:
        dragged, rate = sf.read(bass.parent / f"My Song {label} - {name}.wav", dtype="float32")
        exported, _ = sf.read(tmp_path / "out" / f"{name} {label}.wav", dtype="float32")
        assert rate == RATE and len(dragged) == round(4 * RATE / pace.speed)  # 40,000 at 80 %
        np.testing.assert_array_equal(dragged, exported)
    assert DragPart(pace=Pace()) == DragPart()  # the song as it is: its own file
    assert files.file(stemset, "My Song", "bass", None, part=DragPart(pace=Pace())).name == (
        "My Song - bass.wav"
    )


def test_a_stem_at_a_pace_is_written_off_the_window_s_thread_then_dragged(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """A DJ who exported a track at 80 % and dragged its bass into the DAW got it as the song
    is; written at 80 % on the window's thread it would hold the window up for seconds."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    held = [Qt.MouseButton.LeftButton]
    monkeypatch.setattr(QApplication, "mouseButtons", staticmethod(lambda: held[0]))
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.player.set_speed(0.8)
    _export_ticked(qtbot, win, monkeypatch, tmp_path, at_pace=True)
    win.stems.drag_out("bass")
    assert drops == []  # not written yet: the window goes on
    assert win.statusBar().currentMessage() == "Writing the stems of My Song 80% to drag them…"
    qtbot.waitUntil(lambda: bool(drops), timeout=20_000)  # the button still held: dragged
    ((bass,),) = drops
    assert bass.name == "My Song 80% - bass.wav" and sf.info(bass).frames == 40_000
    win.stems.drag_out("drums")  # written with the bass: dragged at once
    assert drops[1][0].name == "My Song 80% - drums.wav"
    held[0] = Qt.MouseButton.NoButton
    win.player.set_speed(0.9)
    win.stems.drag_out("bass")
    written = "My Song 90% - bass.wav is written: drag Bass again to drop it"
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == written, timeout=20_000)
    assert len(drops) == 2  # let go meanwhile: not dragged
    win.stems.drag_out("bass")
    assert drops[2][0].name == "My Song 90% - bass.wav"
    assert sf.info(drops[2][0]).frames == round(4 * RATE / 0.9)
    win.close()


def test_a_stem_at_a_pace_that_cannot_be_written_is_said_in_the_banner(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """Written on a thread, its failure must still reach the window, with what to do."""
    import errno

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    win.player.set_speed(0.8)
    _export_ticked(qtbot, win, monkeypatch, tmp_path, at_pace=True)

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    win.stems.drag_out("bass")
    qtbot.waitUntil(lambda: win.stems.drags.writing is None, timeout=20_000)
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song 80% - bass.wav"
    assert win.message == (
        f"{path}: could not be written: the disk is full; free some space or export it to "
        "another folder with File ▸ Export stems…"
    )
    assert win.banner.isVisibleTo(win) and win.statusBar().currentMessage() == ""
    win.close()
