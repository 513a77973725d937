"""The gain slider: a focused one, the one the wheel turns, is seen in both themes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from stemgui.ui import theme as T
from stemgui.ui.dbslider import DbSlider


@pytest.fixture(autouse=True)
def _back_to_light(qapp):
    yield
    T.Theme("light")


def _highlighted(image, colour: QColor, row: int) -> int:
    """How many pixels of ``row`` of ``image`` are ``colour`` (within a shade)."""
    return sum(
        all(abs(a - b) <= 8 for a, b in zip(image.pixelColor(x, row).getRgb()[:3], colour.getRgb()))
        for x in range(image.width())
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_focused_slider_is_framed_in_the_highlight_colour(qtbot, theme):
    T.Theme(theme)
    window = QWidget()
    qtbot.addWidget(window)
    slider = DbSlider(-60, 12, parent=window)
    other = DbSlider(-60, 12, parent=window)  # to take the focus away
    slider.setGeometry(10, 10, 200, 16)
    other.setGeometry(10, 40, 200, 16)
    slider.setValue(-60)  # the handle at the left, the groove unfilled
    window.show()
    qtbot.waitExposed(window)
    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    plain = slider.grab().toImage()
    slider.setFocus()  # as a click or a Tab: the wheel now turns this one
    qtbot.waitUntil(slider.hasFocus)
    focused = slider.grab().toImage()
    highlight = slider.palette().color(QPalette.ColorRole.Highlight)
    assert focused != plain
    for row in (0, 1, slider.height() - 1):  # the frame's top and bottom edges
        assert _highlighted(plain, highlight, row) == 0
        assert _highlighted(focused, highlight, row) > slider.width() // 2


def test_the_readout_writes_every_minus_sign_alike(qtbot):
    """Gains read "-8 dB" (a hyphen) beside "−∞ dB" (U+2212): one minus sign, U+2212."""
    readout = QLabel()
    slider = DbSlider(-60, 12, readout)
    qtbot.addWidget(slider)
    qtbot.addWidget(readout)
    assert readout.text() == "+0 dB"
    slider.setValue(-8)
    assert readout.text() == "\u22128 dB"
    slider.setValue(3)
    assert readout.text() == "+3 dB"
    slider.setValue(-60)
    assert readout.text() == "\u2212\u221e dB"
