"""A stem dragged out of the window as an export would write it: the part of the song and the
speed and key the export dialog was last ticked for (``stemgui.ui.drag_out``)."""

from __future__ import annotations

from stemgui.export.pace import Pace
from stemgui.ui import settings as S
from stemgui.ui.export_choices import ExportChoices
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.song_window import NAMES


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
