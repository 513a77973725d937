"""Export from the window writes files: the chosen stems and the heard mix, never over a
file without asking nor over the song itself, errors in words; the dialog's example
name, template checks, loop region and folders; a close waits for the files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from stemgui.ui.export_targets import Existing
from tests.ui.song_window import NAMES, RATE, click, done_job, null_window


def run_export(qtbot, win, job, request):
    task = win.export_job(job, request)
    assert task is not None
    qtbot.waitUntil(lambda: task not in win.exporter.tasks, timeout=20_000)
    return win.exports.last_export


def test_export_writes_the_chosen_stems_and_the_heard_mix(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    click(qtbot, win.stems.rows["drums"].mute)
    click(qtbot, win.stems.rows["bass"].mute)
    win.transport_bar.volume.setValue(-20)  # the listening volume is not part of the mix
    assert job.mixer.gains[2] == pytest.approx(0.1)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.stem_boxes["drums"].setChecked(False)
    dialog.stem_boxes["bass"].setChecked(False)
    dialog.mix.setChecked(True)
    dialog.format.setCurrentIndex(dialog.format.findData("wav32f"))
    dialog.template.setText("{track}/{stem}.{ext}")
    job.stemset.data[3] *= 20  # vocals over full scale: 32-bit float keeps them as they are
    assert np.abs(job.stemset.data[3]).max() > 1
    written = run_export(qtbot, win, job, dialog.request(job.mixer))
    folder = tmp_path / "out" / "My Song"
    assert written == [folder / "other.wav", folder / "vocals.wav", folder / "mix.wav"]
    assert sorted(p.name for p in folder.iterdir()) == ["mix.wav", "other.wav", "vocals.wav"]
    vocals, rate = sf.read(folder / "vocals.wav", dtype="float32", always_2d=True)
    assert rate == RATE
    np.testing.assert_array_equal(vocals.T, job.stemset.data[3])
    mix, _ = sf.read(folder / "mix.wav", dtype="float32", always_2d=True)
    np.testing.assert_allclose(mix.T, job.stemset.data[2] + job.stemset.data[3], atol=1e-5)
    assert job.export_folder == folder
    win.close()


def test_export_never_overwrites_without_asking(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    for name in ("drums", "bass", "other"):
        dialog.stem_boxes[name].setChecked(False)
    dialog.template.setText("{stem}.{ext}")
    target = tmp_path / "out" / "vocals.wav"
    target.parent.mkdir()
    target.write_bytes(b"keep me")
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.CANCEL
    assert win.export_job(job, dialog.request()) is None
    assert target.read_bytes() == b"keep me"
    assert "vocals.wav" in asked[0]
    win.exports.ask_existing = lambda message: Existing.REPLACE
    assert run_export(qtbot, win, job, dialog.request()) == [target]
    assert sf.info(target).frames == job.stemset.frames
    win.close()


def test_an_export_over_the_song_itself_is_refused_not_offered(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.path.write_bytes(b"the song")
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path)
    qtbot.addWidget(dialog)
    for name in ("drums", "bass", "other"):
        dialog.stem_boxes[name].setChecked(False)
    dialog.template.setText("{track}.{ext}")  # vocals as "My Song.wav", beside the song
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.REPLACE
    assert win.export_job(job, dialog.request()) is None
    assert asked == []  # was "1 file(s) exist already ... Replace them?", and Yes lost the song
    assert f"{job.path}: is the song itself" in win.message
    assert job.path.read_bytes() == b"the song"
    win.close()


def test_export_error_is_shown_in_words(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.template.setText("{song}.{ext}")
    assert win.export_job(job, dialog.request()) is None
    assert "unknown key {song}" in win.message
    dialog.template.setText("{stem}.{ext}")
    dialog.folder.setText(str(tmp_path / "file"))
    (tmp_path / "file").write_bytes(b"not a folder")
    assert win.export_job(job, dialog.request()) is None  # refused before any writing
    assert f"{tmp_path / 'file'}: is a file where the export needs a folder" in win.message
    assert win.banner.isVisibleTo(win)
    dialog.folder.setText(str(tmp_path / "out"))
    assert len(run_export(qtbot, win, job, dialog.request())) == 4
    assert not win.banner.isVisibleTo(win)  # the failure no longer stands
    win.close()


def test_export_dialog_shows_an_example_name_and_template_errors(qtbot, settings_store, tmp_path):
    dialog = ExportDialog(
        NAMES, S.Settings(settings_store), tmp_path, track="My Song", model="htdemucs"
    )
    qtbot.addWidget(dialog)
    assert dialog.example.text() == f"e.g. {tmp_path / 'htdemucs' / 'My Song' / 'drums.wav'}"
    dialog.format.setCurrentIndex(dialog.format.findData("mp3"))
    assert dialog.example.text().endswith("drums.mp3") and dialog.bitrate.isEnabled()
    dialog.template.setText("{stem")
    assert "template" in dialog.problem.text() and not dialog.export_button.isEnabled()
    assert dialog.example.text() == "" and dialog.example.isHidden()
    dialog.template.setText("{stem}.{ext}")
    for name in NAMES:
        dialog.stem_boxes[name].setChecked(False)
    assert "Nothing to export" in dialog.problem.text() and not dialog.export_button.isEnabled()
    dialog.mix.setChecked(True)  # the first file is the one the export writes first
    assert dialog.example.text() == f"e.g. {tmp_path / 'mix.mp3'}"
    assert dialog.problem.text() == "" and dialog.problem.isHidden()
    assert dialog.export_button.isEnabled()
    dialog.two_stems.setChecked(True)
    assert dialog.example.text() == f"e.g. {tmp_path / 'vocals.mp3'}"


def test_the_loop_region_can_be_exported_alone(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    assert win.exports._loop_seconds() is None
    win.player.set_loop(RATE, RATE * 5 // 2)
    assert win.exports._loop_seconds() == (1.0, 2.5)
    dialog = ExportDialog(
        NAMES, S.Settings(settings_store), tmp_path, track="My Song", model="m", loop=(1.0, 2.5)
    )
    qtbot.addWidget(dialog)
    assert dialog.only_loop.text() == (
        "Only the loop region: 0:01.00–0:02.50 (1.50 s), named 0m01.00s-0m02.50s"
    )
    assert not dialog.only_loop.isChecked() and dialog.request().span is None
    dialog.only_loop.setChecked(True)
    assert dialog.request().span == (1.0, 2.5)
    assert (
        dialog.example.text()
        == f"e.g. {tmp_path / 'm' / 'My Song 0m01.00s-0m02.50s' / 'drums.wav'}"
    )
    win.close()


def test_export_dialog_refuses_a_template_that_puts_two_stems_in_one_file(
    qtbot, settings_store, tmp_path
):
    (tmp_path / "a.wav").write_bytes(b"")  # exists: the export asks about it, not the dialog
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="a", model="m")
    qtbot.addWidget(dialog)
    dialog.template.setText("{track}.{ext}")
    assert "the same file; put {stem} in it" in dialog.problem.text()
    assert not dialog.export_button.isEnabled()
    for name in ("drums", "bass", "other"):  # vocals alone: one file, no clash
        dialog.stem_boxes[name].setChecked(False)
    assert dialog.example.text() == f"e.g. {tmp_path / 'a.wav'}"
    assert dialog.export_button.isEnabled()


def test_export_folders_are_the_songs_unless_another_is_chosen(qtbot, settings_store, tmp_path):
    settings = S.Settings(settings_store)
    first, second = tmp_path / "A", tmp_path / "B"

    def dialog_for(folder):
        dialog = ExportDialog(NAMES, settings, folder, track="s", model="m")
        qtbot.addWidget(dialog)
        dialog.template.setText("{stem}.{ext}")
        return dialog

    dialog = dialog_for(first)
    assert dialog.request().folder == first
    dialog.remember_folder()  # exported beside the first song
    assert settings.get(S.EXPORT_FOLDER) == ""
    dialog = dialog_for(second)
    assert dialog.folder.text() == str(second) and dialog.request().folder == second
    for typed in ("", "   "):  # blank: beside the song, not the app's working folder
        dialog.folder.setText(typed)
        assert dialog.example.text() == f"e.g. {second / 'drums.wav'}"
    dialog.folder.setText("stems")  # relative: in the song's folder
    assert dialog.example.text() == f"e.g. {second / 'stems' / 'drums.wav'}"
    dialog.remember_folder()
    assert settings.get(S.EXPORT_FOLDER) == "stems"
    assert dialog_for(first).request().folder == first / "stems"  # beside each song
    chosen = tmp_path / "All stems"
    dialog.folder.setText(str(chosen))
    dialog.remember_folder()
    assert dialog_for(second).request().folder == chosen


def test_closing_during_an_export_hides_the_window_then_finishes_the_files(
    qtbot, settings_store, tmp_path, monkeypatch
):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    task = win.export_job(job, dialog.request())
    seen = []
    real = win.exporter.wait_all
    monkeypatch.setattr(win.exporter, "wait_all", lambda: seen.append(win.isVisible()) or real())
    win.close()
    assert seen == [False]  # gone from the screen while the export finishes
    assert task.wait(0) and len(list((tmp_path / "out").rglob("*.wav"))) == 4
