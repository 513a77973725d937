"""File ▸ Export all separated songs: one choice for every separated song of the queue."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

from stemgui.errors import ExportError
from stemgui.stems.mixer import StemControl
from stemgui.ui import settings as S
from stemgui.ui.export_targets import Existing
from stemgui.ui.queue import Job, JobState
from tests.ui.export_all_rig import accept_with, add_done, read, songs_with_a_file_each, wait_export
from tests.ui.song_window import NAMES, RATE, make_stemset, null_window


@pytest.fixture
def win(qtbot, settings_store):
    """``null_window``'s, shown and active: its songs play through a ``NullOutput``."""
    return null_window(qtbot, settings_store, [])


def test_every_separated_song_is_exported_beside_itself_with_its_own_mix(
    qtbot, win, tmp_path, monkeypatch
):
    first = add_done(win, tmp_path / "cd1" / "One.wav")
    second = add_done(win, tmp_path / "cd2" / "Two.wav", scale=2.0)
    waiting = Job(tmp_path / "Three.wav")  # not separated: not exported
    win.controller.model._jobs.append(waiting)
    win.show_job(first)
    win.stems.rows["drums"].mute.click()  # the first song's mix, as heard
    second.strips = {"vocals": StemControl(mute=True)}  # never shown: as its session left it
    assert win.menu_bar.export_all_action.isEnabled()

    def choose(dialog):
        assert dialog.windowTitle() == "Export the stems of 2 songs"
        assert dialog.folder.text() == "" and dialog.folder.placeholderText() == "beside each song"
        for name in ("drums", "bass", "other"):
            dialog.stem_boxes[name].setChecked(False)
        dialog.mix.setChecked(True)
        dialog.format.setCurrentIndex(dialog.format.findData("wav32f"))
        dialog.template.setText("{track}/{stem}.{ext}")

    dialogs = accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(dialogs) == 1
    for job, heard in ((first, (1, 2, 3)), (second, (0, 1, 2))):
        folder = job.path.parent / job.path.stem
        assert sorted(p.name for p in folder.iterdir()) == ["mix.wav", "vocals.wav"]
        np.testing.assert_array_equal(read(folder / "vocals.wav"), job.stemset.data[3])
        mix = job.stemset.data[list(heard)].sum(axis=0)
        np.testing.assert_allclose(read(folder / "mix.wav"), mix, atol=1e-5)
    assert not (tmp_path / "Three").exists()
    assert "Exported 4 files of 2 songs." in win.statusBar().currentMessage()
    assert win.settings.get(S.EXPORT_FOLDER) == ""  # still "beside each song" next time


def test_each_song_is_exported_at_its_own_rate(qtbot, win, tmp_path, monkeypatch):
    rates = {"a": 48000, "b": 22050, "gone": None}  # the last one's file moved since
    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in rates]
    for job in jobs[:2]:
        sf.write(job.path, np.zeros((100, 2), np.float32), rates[job.path.stem])
    jobs[2].path.unlink()

    def choose(dialog):
        assert dialog.rate.currentText() == "Each song's own"
        dialog.template.setText("{track}/{stem}.{ext}")

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    for name, rate in rates.items():
        info = sf.info(tmp_path / name / "drums.wav")
        assert info.samplerate == (rate or RATE)
        assert info.frames == 4 * (rate or RATE)  # 4 s


def test_existing_files_of_every_song_are_asked_about_once(qtbot, win, tmp_path, monkeypatch):
    jobs, out = songs_with_a_file_each(win, tmp_path, monkeypatch)
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.CANCEL
    win.menu_bar.export_all_action.trigger()
    assert len(asked) == 1 and asked[0].startswith("2 files exist already")
    assert not win.exporter.tasks
    assert sorted(p.name for p in out.iterdir()) == ["a-bass.wav", "b-bass.wav"]
    assert (out / "a-bass.wav").read_bytes() == b"keep me"
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.REPLACE
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(asked) == 2 and len(list(out.iterdir())) == 8
    np.testing.assert_array_equal(read(out / "b-bass.wav"), jobs[1].stemset.data[1])


def test_a_song_whose_files_another_song_writes_is_refused_before_writing(
    qtbot, win, tmp_path, monkeypatch
):
    first = add_done(win, tmp_path / "cd1" / "01.wav")
    add_done(win, tmp_path / "cd2" / "01.wav")
    out = tmp_path / "out"

    def choose(dialog):
        dialog.folder.setText(str(out))  # the default template: {model}/{track}/{stem}.{ext}

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    np.testing.assert_allclose(
        read(out / "tiny" / "01" / "bass.wav"), first.stemset.data[1], atol=1e-4
    )
    assert win.message == (
        "Export failed: 1 of 2 songs could not be exported. 01.wav: "
        f"{out / 'tiny' / '01' / 'drums.wav'}: the stems of {first.path} would be written here "
        "too (songs of one name); export beside each song, or rename one of them"
    )
    assert win.statusBar().currentMessage() == "Exported 4 files of 1 of the 2 songs."


def test_a_song_in_the_queue_twice_is_exported_once(qtbot, win, tmp_path, monkeypatch):
    first = add_done(win, tmp_path / "a.wav")
    again = Job(first.path, state=JobState.DONE, stemset=first.stemset, model_name="tiny")
    win.controller.model._jobs.append(again)  # added again: it shares the first row's stems

    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4
    assert win.statusBar().currentMessage() == "Exported 4 files of 1 song."
    assert not win.banner.isVisibleTo(win)


def test_a_song_with_a_bad_target_is_named_and_the_others_are_written(
    qtbot, win, tmp_path, monkeypatch
):
    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b", "c")]
    (tmp_path / "b" / "drums.wav").mkdir(parents=True)  # a folder where a stem goes

    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4 and len(list((tmp_path / "c").iterdir())) == 4
    assert list((tmp_path / "b").iterdir()) == [tmp_path / "b" / "drums.wav"]
    assert win.message == (
        f"Export failed: 1 of 3 songs could not be exported. {jobs[1].title}: "
        f"{tmp_path / 'b' / 'drums.wav'}: is a folder; choose another folder or file name"
    )
    assert win.statusBar().currentMessage() == "Exported 8 files of 2 of the 3 songs."


def test_a_song_without_the_chosen_stems_is_left_out_and_said(qtbot, win, tmp_path, monkeypatch):
    add_done(win, tmp_path / "four.wav")
    two = add_done(win, tmp_path / "two.wav", two_stem=True)

    def choose(dialog):
        assert list(dialog.stem_boxes) == [*NAMES, "no_vocals"]
        assert not dialog.two_stems_name  # a song is in two stems already
        for name in ("bass", "other", "vocals", "no_vocals"):
            dialog.stem_boxes[name].setChecked(False)
        dialog.template.setText("{track}/{stem}.{ext}")

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert [p.name for p in (tmp_path / "four").iterdir()] == ["drums.wav"]
    assert not (tmp_path / "two").exists()
    message = win.statusBar().currentMessage()
    assert message == f"Exported 1 file of 1 song; left out, without the chosen stems: {two.title}."


def test_a_song_whose_mix_is_all_muted_is_named_and_the_others_are_written(
    qtbot, win, tmp_path, monkeypatch
):
    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b")]
    jobs[1].strips = {name: StemControl(mute=True) for name in NAMES}  # heard: nothing

    def choose(dialog):
        dialog.template.setText("{track}/{stem}.{ext}")
        dialog.mix.setChecked(True)

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 5
    assert not (tmp_path / "b").exists()  # was written, its mix.wav silence
    assert win.message == (
        "Export failed: 1 of 2 songs could not be exported. b.wav: "
        f"{jobs[1].path}: the mix as heard is silent: every stem is muted or turned all the way "
        "down; unmute or turn up a stem, or export without the mix"
    )


def test_a_song_that_fails_is_named_and_the_others_are_written(qtbot, win, tmp_path, monkeypatch):
    from stemgui.export import exporter

    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b", "c")]
    real = exporter.export

    def export(stemset, request, track, model, *progress_and_cancel):
        if track == jobs[1].path:
            raise ExportError(request.folder, "No space left on device")
        return real(stemset, request, track, model, *progress_and_cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4 and len(list((tmp_path / "c").iterdir())) == 4
    assert not (tmp_path / "b").exists()
    assert win.message == (
        "Export failed: 1 of 3 songs could not be exported. "
        f"b.wav: {tmp_path}: No space left on device"
    )
    assert win.banner.isVisibleTo(win)


def test_when_every_song_fails_the_status_bar_says_none_was_exported(
    qtbot, win, tmp_path, monkeypatch
):
    """It read "Exported 0 files of 0 of the 2 songs." under the banner naming the failures."""
    from stemgui.export import exporter

    def export(stemset, request, *args):
        raise ExportError(request.folder, "No space left on device")

    for name in ("a", "b"):
        add_done(win, tmp_path / f"{name}.wav")
    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: None)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert win.message.startswith("Export failed: 2 of 2 songs could not be exported.")
    assert win.statusBar().currentMessage() == "None of the 2 songs was exported."


def test_closing_the_window_finishes_the_song_being_written_and_skips_the_rest(
    qtbot, win, tmp_path, monkeypatch
):
    from stemgui.export import exporter

    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b")]
    writing, go_on = threading.Event(), threading.Event()
    real = exporter.export

    def export(*args):
        writing.set()
        go_on.wait(10)
        return real(*args)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    assert writing.wait(10)
    threading.Timer(0.2, go_on.set).start()
    win.close()
    assert len(list((tmp_path / "a").iterdir())) == 4
    assert not (tmp_path / "b").exists()
    assert jobs[1].path.exists()


def test_export_all_needs_a_separated_song(qtbot, win, tmp_path):
    win.controller.model._jobs.append(Job(tmp_path / "waiting.wav"))
    win.update_buttons()
    assert not win.menu_bar.export_all_action.isEnabled()
    win.exports.export_all_dialog()  # as if from a shortcut while it changed
    assert win.message == "No song is separated yet: there is nothing to export."


def test_a_link_to_nothing_is_among_the_files_asked_about(tmp_path):
    """A dangling symbolic link at a target: exists() follows it and said no, so it was found
    only by the rename, after every file of the song was written."""
    from stemgui.export.exporter import ExportRequest
    from stemgui.ui.export_targets import check_targets

    job = Job(tmp_path / "song.wav", state=JobState.DONE, stemset=make_stemset(), model_name="m")
    link = tmp_path / "out" / "m" / "song" / "vocals.wav"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "nowhere.wav")
    request = ExportRequest(folder=tmp_path / "out", stems=["vocals"])
    assert check_targets([(job, request)]) == ([(job, request)], [link], [])


def test_each_song_at_the_speed_and_key_it_was_last_heard_at(qtbot, win, tmp_path, monkeypatch):
    """The player's pace was the shown song's: a batch gave it to every song."""
    slow = add_done(win, tmp_path / "Slow.wav")
    plain = add_done(win, tmp_path / "Plain.wav")
    high = add_done(win, tmp_path / "High.wav")
    win.show_job(slow)
    win.player.set_speed(0.5)
    win.show_job(plain)  # as it is: the slow song keeps its pace with its place
    win.show_job(high)
    win.player.set_semitones(3)  # on screen: the player's own
    offered = []

    def choose(dialog):
        offered.append(dialog.at_pace.text())
        dialog.at_pace.setChecked(True)
        dialog.folder.setText(str(tmp_path / "out"))
        dialog.template.setText("{track}/{stem}.{ext}")

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert offered == ["At the speed and key each song was last heard at (named after them)"]
    folders = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert folders == ["High 100% +3st", "Plain", "Slow 50%"]
    frames = slow.stemset.frames
    assert sf.info(tmp_path / "out" / "Slow 50%" / "bass.wav").frames == 2 * frames
    assert sf.info(tmp_path / "out" / "High 100% +3st" / "bass.wav").frames == frames


@pytest.mark.parametrize("shown", [True, False])
def test_export_all_goes_off_with_the_last_separated_song_removed(win, tmp_path, shown):
    """It stayed on with the queue empty: only a song's state changing updated it."""
    job = add_done(win, tmp_path / "One.wav")
    if shown:
        win.show_job(job)
    assert win.menu_bar.export_all_action.isEnabled()
    win.remove_job(job)
    assert not win.menu_bar.export_all_action.isEnabled()
