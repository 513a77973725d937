"""Text is readable on what is behind it, in the light and the dark theme: a contrast of at least
4.5 to 1 (WCAG's AA for text of normal size), measured on what is drawn where it can be."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from stemgui.ui import theme as T
from stemgui.ui.banner import Banner
from stemgui.ui.queue import Job, JobState, QueueModel

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


def test_a_colour_is_made_readable_by_as_little_as_it_takes():
    green, white, dark = QColor("#3fa45b"), QColor("white"), QColor("#1e1f22")
    darker = T.readable(green, white)
    assert 4.5 <= T.contrast(darker, white) < 4.8 and darker.lightness() < green.lightness()
    assert T.readable(green, dark) == green  # 5.2 to 1 already
    assert T.contrast(T.readable(white, white), white) >= 4.5  # white on white: a grey


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


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_queue_s_state_lines_are_readable_on_the_list(qtbot, theme):
    """done in green, failed in red, cancelled in grey: on the light theme's white list they
    read at 3.2, 4.0 and 3.5 to 1, the failed red at 4.2 on the dark one."""
    from stemgui.ui.queue_view import QueuePanel

    T.Theme(theme)
    model = QueueModel()
    states = [JobState.DONE, JobState.FAILED, JobState.CANCELLED]
    model.append(
        [
            Job(Path(f"/music/{state.value}.wav"), state=state, model_name="htdemucs", error="x")
            for state in states
        ]
    )
    panel = QueuePanel(model)
    qtbot.addWidget(panel)
    panel.resize(300, 400)
    panel.show()
    view = panel.view
    image = view.viewport().grab().toImage()
    background = view.palette().base().color()
    line = view.fontMetrics().height()
    for row, state in enumerate(states):
        rect = view.visualRect(model.index(row))
        # the second of the row's two lines: the state, under the bold title
        status = rect.adjusted(8, 3 + line + 2, -8, 0)
        status.setHeight(line - 2)
        assert _most_contrast(image.copy(status), background) >= READABLE, state


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_what_is_wrong_in_the_export_dialog_is_readable(qtbot, settings_store, tmp_path, theme):
    """Its red was 3.4 to 1 on the dialog, light or dark: what stops the export, hard to read."""
    from stemgui.ui import settings as S
    from stemgui.ui.export_dialog import ExportDialog

    T.Theme(theme)
    dialog = ExportDialog(["drums", "vocals"], S.Settings(settings_store), tmp_path, track="x")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.template.setText("{track}/{song}.{ext}")
    assert dialog.problem.isVisible()
    image = dialog.problem.grab().toImage()
    assert _most_contrast(image, dialog.palette().window().color()) >= READABLE
