"""Text is readable on what is behind it, in the light and the dark theme: a contrast of at least
4.5 to 1 (WCAG's AA for text of normal size), measured on what is drawn where it can be."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from stemgui.ui import theme as T
from stemgui.ui.banner import Banner

READABLE = 4.5


@pytest.fixture(autouse=True)
def _back_to_light(qapp):
    yield
    T.Theme("light")


def _most_contrast(image: QImage, background: QColor) -> float:
    """The highest contrast of any pixel of ``image`` with ``background``: that of the text's
    own colour, where the text is drawn in one."""
    return max(
        T.contrast(image.pixelColor(x, y), background)
        for x in range(image.width())
        for y in range(image.height())
    )


def test_contrast_is_wcag_s_ratio():
    assert T.contrast(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert T.contrast(QColor("#777777"), QColor("#777777")) == pytest.approx(1.0)
    assert T.contrast(QColor("#767676"), QColor("white")) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_banner_s_close_button_is_readable_on_the_banner(qtbot, theme):
    """The × was drawn in the palette's button text: black on the banner's dark brown in the
    light theme (2.5 to 1), hard to find to close a message."""
    T.Theme(theme)
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_message("Song.wav could not be decoded")
    banner.resize(400, 40)
    image = banner.grab().toImage()
    background = image.pixelColor(4, image.height() // 2)  # in the margin left of the text
    close = banner.close_button.geometry()
    assert _most_contrast(image.copy(close), background) >= READABLE
