"""Every menu and menu item has a keyboard mnemonic (Alt+letter, underlined), unique within its
menu, and a menu item is worded as the tooltips word the same thing: most of the Playback, Model,
Device and Quality items had none, and the menu said "Normal speed" and "Original key" where the
transport bar said "normal" and "the song's key"."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from stemgui.ui import settings as S
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.playback.output_rig import SoundCards

pytestmark = pytest.mark.usefixtures("device_list")  # PortAudio's list, this test's own


def _walk(menu: QMenu, where: str, problems: list[str]) -> None:
    keys: dict[str, str] = {}
    for action in menu.actions():
        if action.isSeparator():
            continue
        key = QKeySequence.mnemonic(action.text()).toString()
        if not key:
            problems.append(f"{where} ▸ {action.text()}: no mnemonic")
        elif key in keys:
            problems.append(f"{where} ▸ {action.text()}: {key} is {keys[key]}'s too")
        keys[key] = action.text()
        if action.menu() is not None:
            _walk(action.menu(), f"{where} ▸ {action.text()}", problems)


def test_every_menu_and_item_has_a_mnemonic_of_its_own(qtbot, settings_store, monkeypatch):
    """Model names and output devices too: named at run time, they had none."""
    cards = [("Built-in Output", "Core Audio", 2), ("Scarlett 2i2 USB", "Core Audio", 2)]
    monkeypatch.setitem(sys.modules, "sounddevice", SoundCards(cards))
    settings = S.Settings(settings_store)
    settings.set(S.OUTPUT_DEVICE, "USB Headphones")  # kept, not connected: listed too
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    models = [(name, "", "") for name in ("htdemucs", "htdemucs_ft", "mdx_extra", "cool model")]
    devices = [("auto", "Automatic (CPU)"), ("cuda:0", "CUDA 0"), ("cpu", "CPU")]
    win.menus.probed(models, [], devices)
    win.menu_bar.output_menu.menu.aboutToShow.emit()  # the devices listed as it opens
    named = [a.iconText() for a in win.menus.model_group.actions()]
    named += [a.iconText() for a in win.menu_bar.output_menu.group.actions()]
    assert named == [
        *("htdemucs", "htdemucs_ft", "mdx_extra", "cool model"),
        *("System default", "Built-in Output", "Scarlett 2i2 USB"),
        "USB Headphones (not connected)",
    ]
    problems: list[str] = []
    bar = QMenu()  # the menu bar's menus, walked as the items of one menu
    bar.addActions(win.menuBar().actions())
    _walk(bar, "menu bar", problems)
    assert problems == []
    win.close()


def test_a_menu_item_is_worded_as_its_tooltips(qtbot, settings_store):
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    by_keys = {a.shortcut().toString(): a.iconText() for a in win.actions()}
    bar = win.transport_bar
    assert by_keys["\\"] == "Normal speed" and "\\ normal speed)" in bar.speed.toolTip()
    assert by_keys["Ctrl+\\"] == "The song's key" and "Ctrl+\\ the song's key)" in bar.key.toolTip()
    win.close()
