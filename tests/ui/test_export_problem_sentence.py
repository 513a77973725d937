"""What the export dialog says is wrong starts as a sentence does: the engine's reasons follow a
path and a colon ("Song.wav: the mix as heard is silent…", as the command line prints them),
and the dialog, which shows them alone, showed them starting with a small letter."""

from __future__ import annotations

from stemgui.stems.mixer import MixerState
from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.song_window import NAMES


def test_a_problem_shown_alone_is_a_sentence(qtbot, settings_store, tmp_path):
    mixer = MixerState(NAMES)
    for name in NAMES:
        mixer.set_mute(name)
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="demo", mixer=mixer)
    qtbot.addWidget(dialog)
    dialog.mix.setChecked(True)
    assert dialog.problem.text() == (
        "The mix of demo as heard is silent: every stem is muted or turned all the way down; "
        "unmute or turn up a stem, or export without the mix."
    )
    dialog.mix.setChecked(False)
    dialog.template.setText("{stem}.mp3")
    assert dialog.problem.text().startswith("File name template '{stem}.mp3' ends in .mp3")


def test_a_problem_about_a_file_starts_with_its_path(qtbot, settings_store, tmp_path):
    (tmp_path / "m" / "Song" / "drums.wav").mkdir(parents=True)  # a folder in a file's place
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="Song", model="m")
    qtbot.addWidget(dialog)
    assert dialog.problem.text().startswith(f"{tmp_path / 'm' / 'Song' / 'drums.wav'}: is a ")
