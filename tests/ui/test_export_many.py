"""Exporting many songs: File ▸ Cancel export, the percent in the status bar, one question
(Replace / Skip existing / Cancel) about existing files, and the dialog's ticks kept."""

from __future__ import annotations

import re
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from stemgui.export import exporter
from stemgui.ui import settings as S
from stemgui.ui.export_targets import Existing, ask_existing
from tests.export.export_rig import everything_under
from tests.ui.export_all_rig import (
    accept_with,
    add_done,
    read,
    songs_with_a_file_each,
    wait_export,
)
from tests.ui.song_window import NAMES, null_window


@pytest.fixture
def win(qtbot, settings_store):
    """``null_window``'s, shown and active: its songs play through a ``NullOutput``."""
    return null_window(qtbot, settings_store, [])


@pytest.mark.parametrize(
    ("button", "answer"),
    [("Replace", Existing.REPLACE), ("Skip existing", Existing.SKIP), ("Cancel", Existing.CANCEL)],
)
def test_the_question_offers_replace_skip_existing_and_cancel(qtbot, button, answer):
    seen = []

    def click():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(([b.text() for b in box.buttons()], box.defaultButton().text()))
        next(b for b in box.buttons() if b.text() == button).click()

    QTimer.singleShot(0, click)
    assert ask_existing(None, "2 files exist already:\n/a\n/b") is answer
    texts, default = seen[0]
    assert sorted(texts) == ["Cancel", "Replace", "Skip existing"]
    assert default == "Skip existing"  # Return loses nothing


def test_skip_existing_keeps_those_files_and_writes_the_others(qtbot, win, tmp_path, monkeypatch):
    jobs, out = songs_with_a_file_each(win, tmp_path, monkeypatch)
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.SKIP
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(asked) == 1 and asked[0].startswith("2 files exist already")
    assert len(list(out.iterdir())) == 8
    assert (out / "a-bass.wav").read_bytes() == b"keep me"
    assert (out / "b-bass.wav").read_bytes() == b"keep me"
    assert (read(out / "b-vocals.wav") == jobs[1].stemset.data[3]).all()
    message = win.statusBar().currentMessage()
    assert message == "Exported 6 files of 2 songs; 2 existing files kept."
    win.menu_bar.export_all_action.trigger()  # all there now: asked again, nothing written
    wait_export(qtbot, win)
    assert len(asked) == 2 and len(list(out.iterdir())) == 8
    assert (out / "a-bass.wav").read_bytes() == b"keep me"
    assert win.statusBar().currentMessage() == "Exported 0 files of 2 songs; 8 existing files kept."


def test_cancel_export_stops_at_a_block_and_keeps_the_songs_written(
    qtbot, win, tmp_path, monkeypatch
):
    """Three songs; cancelled while the second's second file is written: the first song's
    files stay, nothing of the second (not a temporary file), the third is not begun."""
    jobs = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b", "c")]
    real = exporter.export
    reached = threading.Event()

    def export(stemset, request, track, model, on_progress, cancel):
        blocks = []

        def progress(fraction):
            on_progress(fraction)
            blocks.append(fraction)
            # 4 blocks of the peak pass (the stems rescaled together), then a block a file
            if track == jobs[1].path and len(blocks) == 6:
                reached.set()
                assert cancel.wait(10)  # File ▸ Cancel export, on the GUI thread

        return real(stemset, request, track, model, progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    said = []
    win.exporter.progress.connect(said.append)
    assert not win.menu_bar.cancel_export_action.isEnabled()
    win.menu_bar.export_all_action.trigger()
    assert win.menu_bar.cancel_export_action.isEnabled()
    qtbot.waitUntil(reached.is_set, timeout=20_000)
    win.menu_bar.cancel_export_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4
    assert not (tmp_path / "b").exists()  # nor a hidden temporary file in it
    assert not (tmp_path / "c").exists()
    assert everything_under(tmp_path / "a") == [f"{n}.wav" for n in sorted(NAMES)]
    assert not list(tmp_path.rglob(".*"))  # no temporary file anywhere
    assert win.statusBar().currentMessage() == (
        "Export cancelled: 1 of 3 songs exported; b.wav and the rest left out."
    )
    assert not win.menu_bar.cancel_export_action.isEnabled()
    assert "Exporting 1 of 3: a.wav… 0%" in said and "Exporting 1 of 3: a.wav… 100%" in said
    assert "Exporting 2 of 3: b.wav… 0%" in said and not any("3 of 3" in m for m in said)


def test_the_status_bar_shows_the_percent_of_the_song_being_written(
    qtbot, win, tmp_path, monkeypatch
):
    add_done(win, tmp_path / "a.wav")
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    shown = []
    win.statusBar().messageChanged.connect(shown.append)
    job = win.controller.model.jobs[0]
    win.select_for_the_user(job)
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    percents = [int(m[1]) for m in map(re.compile(r"Exporting a\.wav… (\d+)%$").match, shown) if m]
    assert percents[0] == 0 and percents[-1] == 100
    assert percents == sorted(set(percents)) and len(percents) >= 5  # said as it changed
    assert shown[-1].startswith("Exported 4 files to")


def _at_each_block(monkeypatch, hook):
    """``exporter.export`` calling ``hook(cancel)`` as each block is written; returns the real
    one."""
    real = exporter.export

    def export(stemset, request, track, model, on_progress, cancel):
        def progress(fraction):
            hook(cancel)
            on_progress(fraction)

        return real(stemset, request, track, model, progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    return real


def test_one_song_cancelled_or_with_every_file_there_says_so(qtbot, win, tmp_path, monkeypatch):
    job = add_done(win, tmp_path / "a.wav")
    # the token File ▸ Cancel export sets, during the first block
    real = _at_each_block(monkeypatch, lambda cancel: cancel.set())
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.select_for_the_user(job)
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    assert win.statusBar().currentMessage() == "Export cancelled: no file was written."
    assert not (tmp_path / "a").exists() and not list(tmp_path.rglob(".*"))
    monkeypatch.setattr(exporter, "export", real)
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4
    win.exports.ask_existing = lambda message: Existing.SKIP
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    assert win.statusBar().currentMessage() == "Nothing exported: every file exists already."


def test_the_dialog_opens_with_the_ticks_of_the_last_one_accepted(
    qtbot, win, tmp_path, monkeypatch
):
    """Ticked once for the session, even when the question about existing files was then
    cancelled; the format and the rest are settings, as before."""
    add_done(win, tmp_path / "a.wav")
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "vocals.wav").write_bytes(b"keep me")
    opened = []

    def choose(dialog):
        opened.append(
            (
                {name: box.isChecked() for name, box in dialog.stem_boxes.items()},
                dialog.mix.isChecked(),
            )
        )
        dialog.folder.setText(str(out))
        dialog.template.setText("{track}/{stem}.{ext}")
        for name in ("drums", "bass"):
            dialog.stem_boxes[name].setChecked(False)
        dialog.mix.setChecked(True)

    accept_with(monkeypatch, choose)
    win.exports.ask_existing = lambda message: Existing.CANCEL
    win.menu_bar.export_all_action.trigger()
    assert not win.exporter.tasks
    win.menu_bar.export_all_action.trigger()
    ticked = {"drums": False, "bass": False, "other": True, "vocals": True}
    assert opened == [({name: True for name in ticked}, False), (ticked, True)]


def test_ticks_of_stems_or_a_loop_a_song_does_not_offer_are_kept_for_the_next(
    qtbot, settings_store, tmp_path
):
    from stemgui.ui.export_choices import ExportChoices
    from stemgui.ui.export_dialog import ExportDialog

    settings = S.Settings(settings_store)

    def dialog(stems, loop=None):
        made = ExportDialog(stems, settings, tmp_path, loop=loop)
        qtbot.addWidget(made)
        return made

    four = dialog(NAMES, loop=(1.0, 2.0))
    four.stem_boxes["drums"].setChecked(False)
    four.two_stems.setChecked(True)
    four.only_loop.setChecked(True)
    choices = ExportChoices.of(four)
    two = dialog(("vocals", "no_vocals"))  # in two stems already: no two-stem tick, no loop
    choices.apply(two)
    assert [box.isChecked() for box in two.stem_boxes.values()] == [True, True]
    two.stem_boxes["no_vocals"].setChecked(False)
    choices = ExportChoices.of(two, choices)
    again = dialog(NAMES, loop=(3.0, 4.0))
    choices.apply(again)
    assert {name: box.isChecked() for name, box in again.stem_boxes.items()} == {
        "drums": False,
        "bass": True,
        "other": True,
        "vocals": True,
    }
    assert again.two_stems.isChecked() and again.only_loop.isChecked()
    assert choices.stems["no_vocals"] is False


def test_an_export_of_files_an_export_still_running_writes_is_refused_at_once(
    qtbot, win, tmp_path, monkeypatch
):
    """Export stems pressed again (or Export all) while the song's files were being written:
    none of them was there yet to ask about, so both wrote them, and the second to finish
    failed at its end, saying another program wrote them."""
    job = add_done(win, tmp_path / "a.wav")
    real = exporter.export
    going = threading.Event()

    def export(stemset, request, track, model, on_progress, cancel):
        assert going.wait(10)
        return real(stemset, request, track, model, on_progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.select_for_the_user(job)
    win.menu_bar.export_action.trigger()
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.REPLACE
    win.menu_bar.export_action.trigger()  # the first still writing
    assert win.message == (
        f"Export failed: {tmp_path / 'a' / 'drums.wav'}: the export still running writes this "
        "file too; export again once it has ended"
    )
    going.set()
    wait_export(qtbot, win)
    assert win.statusBar().currentMessage() == f"Exported 4 files to {tmp_path / 'a'}"
    assert not asked and len(list((tmp_path / "a").iterdir())) == 4


def test_a_file_another_program_writes_meanwhile_is_said_in_the_app_s_words(
    qtbot, win, tmp_path, monkeypatch
):
    """It said to "allow overwriting", which nothing in the app is called: the question about
    existing files offers Replace."""
    job = add_done(win, tmp_path / "a.wav")

    def a_daw_writes(cancel):
        vocals = tmp_path / "a" / "vocals.wav"
        if vocals.parent.is_dir() and not vocals.exists():  # while the stems are written
            vocals.write_bytes(b"a DAW's")

    _at_each_block(monkeypatch, a_daw_writes)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.select_for_the_user(job)
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    assert win.message == (
        f"Export failed: {tmp_path / 'a' / 'vocals.wav'}: could not be written: another program "
        "or export wrote this file meanwhile; export again and choose Replace"
    )
    assert (tmp_path / "a" / "vocals.wav").read_bytes() == b"a DAW's"


def test_a_failure_said_while_another_export_runs_stays_when_that_one_ends(
    qtbot, win, tmp_path, monkeypatch
):
    """Two songs exported one after the other, the second failing (a full disk) while the
    first still wrote: the first's success took the second's failure out of the banner, and
    nothing said any more that its files were never written."""
    from stemgui.errors import ExportError

    first, second = add_done(win, tmp_path / "a.wav"), add_done(win, tmp_path / "b.wav")
    real = exporter.export
    going = threading.Event()

    def export(stemset, request, track, model, on_progress, cancel):
        if track == second.path:
            raise ExportError(request.folder, "could not be written: the disk is full")
        assert going.wait(10)
        return real(stemset, request, track, model, on_progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.select_for_the_user(first)
    win.menu_bar.export_action.trigger()
    win.select_for_the_user(second)
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: len(win.exporter.tasks) == 1, timeout=20_000)
    said = f"Export failed: {tmp_path}: could not be written: the disk is full"
    assert win.banner.isVisibleTo(win) and win.banner.text() == said
    going.set()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4
    assert win.banner.isVisibleTo(win) and win.banner.text() == said  # still said
    win.select_for_the_user(first)  # an export begun after it, that succeeds, mends it
    monkeypatch.setattr(exporter, "export", real)
    win.exports.ask_existing = lambda message: Existing.REPLACE
    win.menu_bar.export_action.trigger()
    wait_export(qtbot, win)
    assert not win.banner.isVisibleTo(win)


def test_a_song_an_export_all_has_written_already_can_be_exported_again_meanwhile(
    qtbot, win, tmp_path, monkeypatch
):
    """An album exported with Export all; while its last song was written, its first song
    (done already) exported again was refused: "the export still running writes this file
    too", as if the batch were still to write it."""
    first, last = add_done(win, tmp_path / "a.wav"), add_done(win, tmp_path / "b.wav")
    real = exporter.export
    going, reached = threading.Event(), threading.Event()

    def export(stemset, request, track, model, on_progress, cancel):
        if track == last.path and not going.is_set():
            reached.set()
            assert going.wait(10)
        return real(stemset, request, track, model, on_progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    qtbot.waitUntil(reached.is_set, timeout=20_000)
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.REPLACE
    win.select_for_the_user(first)
    win.menu_bar.export_action.trigger()  # a.wav's files are there: asked about, replaced
    qtbot.waitUntil(lambda: len(win.exporter.tasks) == 1, timeout=20_000)
    assert "the export still running" not in win.message
    assert len(asked) == 1 and str(tmp_path / "a" / "drums.wav") in asked[0]
    going.set()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4
    assert len(list((tmp_path / "b").iterdir())) == 4


def test_a_batch_cancelled_in_its_last_song_names_no_rest(qtbot, win, tmp_path, monkeypatch):
    """It said "b.wav and the rest left out" when b.wav was the last song: there was no rest."""
    last = [add_done(win, tmp_path / f"{name}.wav") for name in ("a", "b")][-1]
    real = exporter.export

    def export(stemset, request, track, model, on_progress, cancel):
        if track == last.path:
            cancel.set()  # as File ▸ Cancel export does, once its first block is read
        return real(stemset, request, track, model, on_progress, cancel)

    monkeypatch.setattr(exporter, "export", export)
    accept_with(monkeypatch, lambda dialog: dialog.template.setText("{track}/{stem}.{ext}"))
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(list((tmp_path / "a").iterdir())) == 4 and not (tmp_path / "b").exists()
    assert win.statusBar().currentMessage() == (
        "Export cancelled: 1 of 2 songs exported; b.wav left out."
    )
