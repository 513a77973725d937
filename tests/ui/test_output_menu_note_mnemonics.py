"""Playback ▸ Output device's notes, greyed ("Sound output is not available (...)", "Pause to
list devices plugged in since"), have a mnemonic of their own as every other menu item has
(``tests/ui/test_menu_mnemonics.py``, which opens the menu with neither note shown): they had
none, and an "&" in PortAudio's words would have been taken for one."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QKeySequence

from stemgui.ui.output_menu import PAUSE_TO_LIST
from tests.fakes import FakeOutput
from tests.ui.song_window import song_window

pytestmark = pytest.mark.usefixtures("device_list")


def test_the_notes_have_mnemonics_of_their_own(qtbot, settings_store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import sounddevice fails
    win, _job = song_window(qtbot, settings_store, tmp_path, FakeOutput)
    win.player.toggle()  # playing: the note to pause as well
    menu = win.menu_bar.output_menu.menu
    menu.aboutToShow.emit()
    items = [a for a in menu.actions() if not a.isSeparator()]
    texts = [a.iconText() for a in items]
    assert texts[0] == "System default" and texts[2] == PAUSE_TO_LIST
    assert texts[1].startswith("Sound output is not available (")
    assert [a.isEnabled() for a in items] == [True, False, False]
    keys = [QKeySequence.mnemonic(a.text()).toString() for a in items]
    assert all(keys) and len(set(keys)) == len(keys), keys
    win.close()


def test_an_ampersand_in_a_note_is_shown(qtbot, settings_store, tmp_path, monkeypatch):
    from stemgui.playback.sounddevice_output import AudioDeviceError
    from stemgui.ui import output_menu

    def refused():
        raise AudioDeviceError("Sound output is not available (R&B driver). Install PortAudio")

    monkeypatch.setattr(output_menu, "import_sounddevice", refused)
    win, _job = song_window(qtbot, settings_store, tmp_path, FakeOutput)
    menu = win.menu_bar.output_menu.menu
    menu.aboutToShow.emit()
    note = [a for a in menu.actions() if not a.isSeparator()][-1]
    assert note.iconText() == "Sound output is not available (R&B driver)"
    assert QKeySequence.mnemonic(note.text()).toString() == "Alt+O"  # S is System default's
    win.close()
