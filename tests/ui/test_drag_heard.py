"""A stem dragged out of the window as an export would write it: the part of the song and the
speed and key the export dialog was last ticked for (``stemgui.ui.drag_out``)."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from stemgui.export.pace import Pace
from stemgui.ui import settings as S
from stemgui.ui.export_choices import ExportChoices
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.song_window import NAMES, RATE
from tests.ui.test_stems_playback import _done_job, _null_window


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
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
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
