"""The Quality menu: the separation presets (how much chunks overlap, how many shifted passes)
and two-stem mode, kept in the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from stemgui.ui import settings as S
from stemgui.ui.mnemonics import with_mnemonic


def fill_quality_menu(
    menu: QMenu, settings: S.Settings, choose: Callable[[S.Setting, Any], None]
) -> QAction:
    """Put the presets (one checked: the setting's) and two-stem mode in ``menu``; ``choose``
    (setting, value) saves a choice. Returns the two-stem mode's action."""
    group = QActionGroup(menu)
    current = settings.get(S.QUALITY)
    taken = {"t"}  # Two stems
    for key, preset in S.QUALITY_PRESETS.items():
        action = menu.addAction(with_mnemonic(preset.label, taken))
        action.setCheckable(True)
        action.setChecked(key == current)
        passes = f"; {preset.shifts} passes at random delays, averaged" if preset.shifts else ""
        action.setToolTip(f"chunks overlap {preset.overlap:.0%}{passes}")
        action.triggered.connect(lambda _=False, k=key: choose(S.QUALITY, k))
        group.addAction(action)
    menu.addSeparator()
    two_stems = menu.addAction("&Two stems: vocals and no vocals (the instrumental)")
    two_stems.setCheckable(True)
    two_stems.setChecked(settings.get(S.TWO_STEMS) != "off")
    two_stems.triggered.connect(lambda on: choose(S.TWO_STEMS, "vocals" if on else "off"))
    return two_stems
