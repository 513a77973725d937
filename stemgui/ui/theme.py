"""Light and dark themes: Qt's Fusion style with stemgui's own palettes.

The same look on every platform. ``"system"`` follows the desktop's colour scheme
(``QStyleHints.colorScheme``) and switches when the desktop does; ``"light"`` and ``"dark"``
stay put. Widgets that draw themselves (the waveforms, the queue) read the palette, so they
follow too.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

logger = logging.getLogger(__name__)

THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}

_ROLES = QPalette.ColorRole
_DARK = {
    _ROLES.Window: "#2b2d30",
    _ROLES.WindowText: "#e4e4e4",
    _ROLES.Base: "#1e1f22",
    _ROLES.AlternateBase: "#27292c",
    _ROLES.Text: "#e4e4e4",
    _ROLES.PlaceholderText: "#8c8c8c",
    _ROLES.Button: "#393b40",
    _ROLES.ButtonText: "#e4e4e4",
    _ROLES.BrightText: "#ff6b6b",
    _ROLES.Highlight: "#3d8fd1",
    _ROLES.HighlightedText: "#ffffff",
    _ROLES.Link: "#6cb4ee",
    _ROLES.ToolTipBase: "#393b40",
    _ROLES.ToolTipText: "#e4e4e4",
    _ROLES.Light: "#4e5157",
    _ROLES.Midlight: "#43464b",
    _ROLES.Mid: "#35373b",
    _ROLES.Dark: "#18191b",
    _ROLES.Shadow: "#000000",
}
_DARK_DISABLED = {
    _ROLES.WindowText: "#7d7d7d",
    _ROLES.Text: "#7d7d7d",
    _ROLES.ButtonText: "#7d7d7d",
    _ROLES.HighlightedText: "#a0a0a0",
    _ROLES.Highlight: "#4a4d52",
}


def palette(dark: bool) -> QPalette:
    """stemgui's palette: Fusion's own light one, or the dark one above."""
    if not dark:
        return QStyleFactory.create("Fusion").standardPalette()
    result = QPalette()
    for role, colour in _DARK.items():
        result.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return result


def system_is_dark() -> bool:
    """Whether the desktop asks for dark colours (unknown: light)."""
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


class Theme(QObject):
    """Applies a theme to the whole application and keeps ``"system"`` in step.

    Args:
        choice: a key of ``THEMES``.
    """

    def __init__(self, choice: str = "system", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.choice = "system"
        self.dark = False
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply(choice)

    def apply(self, choice: str) -> None:
        if choice not in THEMES:
            raise ValueError(f"unknown theme {choice!r}; the themes are {', '.join(THEMES)}")
        self.choice = choice
        self.dark = system_is_dark() if choice == "system" else choice == "dark"
        app = QApplication.instance()
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(palette(self.dark))
        # A widget with a style sheet keeps the palette it was first polished with (the stem
        # names stayed black on the dark window): setting its sheet again polishes it anew.
        for widget in app.allWidgets():
            sheet = widget.styleSheet()
            if sheet:
                widget.setStyleSheet("")
                widget.setStyleSheet(sheet)
        logger.debug("theme %s (%s)", choice, "dark" if self.dark else "light")

    def _system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.choice == "system":
            self.apply("system")


def contrast(one: QColor, other: QColor) -> float:
    """WCAG's contrast ratio of two colours: 1 (the same) to 21 (black on white); text of
    normal size reads well from 4.5."""

    def luminance(colour: QColor) -> float:
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(colour: QColor, background: QColor, ratio: float = 4.5) -> QColor:
    """``colour``, darkened on a light ``background`` or lightened on a dark one, as little as
    it takes to read on it at ``ratio`` (its hue kept): a state's colour on either theme."""
    towards = QColor("black") if background.lightnessF() > 0.5 else QColor("white")
    for step in range(21):  # 5 % of the way at a time; black or white at the end
        mixed = QColor.fromRgbF(
            *(
                a + (b - a) * step / 20
                for a, b in zip(colour.getRgbF()[:3], towards.getRgbF()[:3], strict=True)
            )
        )
        if contrast(mixed, background) >= ratio:
            return mixed
    return towards
