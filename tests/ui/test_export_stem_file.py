"""The export dialog's "Stems file for DJ software (.stem.mp4)": one file per song with every
stem, what it turns off while chosen, refused for a song not in four stems, and File ▸ Export
all separated songs writing one per song."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from stemgui.audio.stem_mp4 import StemFileFormat
from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from stemgui.ui.export_stem_file import NOTE
from tests.ui.export_all_rig import accept_with, add_done, wait_export
from tests.ui.song_window import NAMES, null_window


@pytest.fixture
def win(qtbot, settings_store):
    return null_window(qtbot, settings_store, [])


def _dialog(qtbot, settings, folder, stems=NAMES, **extra) -> ExportDialog:
    dialog = ExportDialog(stems, settings, folder, track="My Song", model="tiny", **extra)
    qtbot.addWidget(dialog)
    return dialog


def test_chosen_it_turns_off_what_it_does_not_use_and_writes_one_file(
    qtbot, settings_store, tmp_path
):
    dialog = _dialog(qtbot, S.Settings(settings_store), tmp_path)
    dialog.stem_boxes["drums"].setChecked(False)
    dialog.mix.setChecked(True)
    index = dialog.format.findData("stem")
    assert dialog.format.itemText(index) == "Stems file for DJ software (.stem.mp4)"
    dialog.format.setCurrentIndex(index)
    assert not any(check.isEnabled() for check in dialog.stem_boxes.values())
    assert not dialog.mix.isEnabled() and not dialog.two_stems.isEnabled()
    assert not dialog.rate.isEnabled() and not dialog.bitrate.isEnabled()
    assert dialog.stem_file_note.isVisibleTo(dialog) and dialog.stem_file_note.text() == NOTE
    request = dialog.request(mixer=SimpleNamespace(mix_gains=[1.0] * 4))  # mix ticked
    assert request.fmt == StemFileFormat()
    assert (request.stems, request.two_stems, request.mix_gains) == (None, None, None)
    assert dialog.example.text() == f"e.g. {tmp_path / 'tiny/My Song/stems.stem.mp4'}"
    assert dialog.export_button.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("wav16"))  # the ticks as they were
    assert all(check.isEnabled() for check in dialog.stem_boxes.values())
    assert dialog.mix.isEnabled() and dialog.rate.isEnabled()
    assert not dialog.stem_file_note.isVisibleTo(dialog)
    assert dialog.request(mixer=None).stems == ["bass", "other", "vocals"]


def test_a_song_in_two_stems_cannot_choose_it_and_says_why(qtbot, settings_store, tmp_path):
    settings = S.Settings(settings_store)
    settings.set(S.EXPORT_FORMAT, "stem")  # the last song's export
    dialog = _dialog(qtbot, settings, tmp_path, stems=("vocals", "no_vocals"))
    index = dialog.format.findData("stem")
    assert not dialog.format.model().item(index).isEnabled()
    tip = dialog.format.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("A Stems file holds four stems; this song is separated into 2")
    assert dialog.format.currentData() == "wav16"
    assert all(check.isEnabled() for check in dialog.stem_boxes.values())


def test_the_format_is_remembered(qtbot, settings_store, tmp_path):
    settings = S.Settings(settings_store)
    dialog = _dialog(qtbot, settings, tmp_path)
    dialog.format.setCurrentIndex(dialog.format.findData("stem"))
    dialog.remember()
    assert settings.get(S.EXPORT_FORMAT) == "stem"
    again = _dialog(qtbot, settings, tmp_path)
    assert again.format.currentData() == "stem" and not again.mix.isEnabled()


def test_export_all_writes_one_file_per_song_and_names_a_song_in_two_stems(
    qtbot, win, tmp_path, monkeypatch
):
    add_done(win, tmp_path / "One.wav")
    add_done(win, tmp_path / "Two.wav")
    two = add_done(win, tmp_path / "Duet.wav", two_stem=True)

    def choose(dialog):
        dialog.stem_boxes["vocals"].setChecked(False)  # not used: every stem goes in
        dialog.format.setCurrentIndex(dialog.format.findData("stem"))
        dialog.template.setText("{track}.{ext}")

    accept_with(monkeypatch, choose)
    win.menu_bar.export_all_action.trigger()
    wait_export(qtbot, win)
    written = sorted(p.name for p in tmp_path.glob("*.stem.mp4"))
    assert written == ["One.stem.mp4", "Two.stem.mp4"]
    assert win.message == (
        "Export failed: 1 of 3 songs could not be exported. Duet.wav: "
        f"{tmp_path}: a Stems file (.stem.mp4) holds four stems, and this song is separated "
        "into 2 (vocals, no_vocals); separate it into four stems or choose another format"
    )
    assert not (tmp_path / "Duet.stem.mp4").exists() and two.export_folder is None
