"""Exporting many songs: one question (Replace / Skip existing / Cancel) about existing files."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from stemgui.playback.output import NullOutput
from stemgui.ui import settings as S
from stemgui.ui.export_targets import Existing, ask_existing
from stemgui.ui.window import MainWindow
from tests.ui.test_export_all import accept_with, add_done, read, wait_export


@pytest.fixture
def win(qtbot, settings_store):
    def output(stemset, mixer, transport):
        return NullOutput(stemset, mixer, transport, blocksize=256)

    window = MainWindow(S.Settings(settings_store), output_factory=output, probe=False)
    qtbot.addWidget(window)
    yield window
    window.close()


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
    jobs = [add_done(win, tmp_path / name) for name in ("a.wav", "b.wav")]
    out = tmp_path / "out"

    def choose(dialog):
        dialog.folder.setText(str(out))
        dialog.template.setText("{track}-{stem}.{ext}")
        dialog.format.setCurrentIndex(dialog.format.findData("wav32f"))

    accept_with(monkeypatch, choose)
    out.mkdir()
    for job in jobs:
        (out / f"{job.path.stem}-bass.wav").write_bytes(b"keep me")
    asked = []
    win.exports.ask_existing = lambda message: asked.append(message) or Existing.SKIP
    win.export_all_action.trigger()
    wait_export(qtbot, win)
    assert len(asked) == 1 and asked[0].startswith("2 files exist already")
    assert len(list(out.iterdir())) == 8
    assert (out / "a-bass.wav").read_bytes() == b"keep me"
    assert (out / "b-bass.wav").read_bytes() == b"keep me"
    assert (read(out / "b-vocals.wav") == jobs[1].stemset.data[3]).all()
    message = win.statusBar().currentMessage()
    assert message == "Exported 6 files of 2 songs; 2 existing files kept."
    win.export_all_action.trigger()  # all there now: asked again, nothing written
    wait_export(qtbot, win)
    assert len(asked) == 2 and len(list(out.iterdir())) == 8
    assert (out / "a-bass.wav").read_bytes() == b"keep me"
    assert win.statusBar().currentMessage() == "Exported 0 files of 2 songs; 8 existing files kept."
