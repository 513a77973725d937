"""Themes: light and dark palettes on the whole app, "system" following the desktop."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from stemgui.stems.mixer import MixerState
from stemgui.ui import settings as S
from stemgui.ui import theme as T
from stemgui.ui.stemview import StemPanel
from stemgui.ui.timeline import Timeline
from tests.ui.song_window import NAMES, make_stemset, model_window


def _window_lightness() -> int:
    return QApplication.instance().palette().window().color().lightness()


@pytest.fixture(autouse=True)
def _back_to_light(qapp):
    yield
    T.Theme("light")


def test_light_and_dark_palettes_on_the_fusion_style(qapp):
    theme = T.Theme("dark")
    assert theme.dark and _window_lightness() < 80
    assert qapp.style().name().lower() == "fusion"
    text = qapp.palette().windowText().color().lightness()
    assert text - _window_lightness() > 150  # readable: light text on a dark window
    theme.apply("light")
    assert not theme.dark and _window_lightness() > 200
    with pytest.raises(ValueError, match="unknown theme 'purple'"):
        theme.apply("purple")


def test_system_theme_follows_the_desktop(qapp, monkeypatch):
    desktop = {"dark": False}
    monkeypatch.setattr(T, "system_is_dark", lambda: desktop["dark"])
    theme = T.Theme("system")
    assert not theme.dark and _window_lightness() > 200
    desktop["dark"] = True
    theme._system_changed(None)  # what QStyleHints.colorSchemeChanged calls
    assert theme.dark and _window_lightness() < 80
    theme.apply("light")  # a fixed choice does not follow
    theme._system_changed(None)
    assert not theme.dark


def test_theme_menu_sets_and_keeps_the_choice(qtbot, settings_store):
    win = model_window(qtbot, settings_store, None)
    assert win.menu_bar.theme_actions["system"].isChecked()
    win.menu_bar.theme_actions["dark"].trigger()
    assert win.theme.dark and _window_lightness() < 80
    assert S.Settings(settings_store).get(S.THEME) == "dark"
    win.close()
    again = model_window(qtbot, settings_store, None)
    assert again.menu_bar.theme_actions["dark"].isChecked() and again.theme.dark
    again.close()


@pytest.mark.parametrize("first, then", [("light", "dark"), ("dark", "light")])
def test_stem_rows_shown_before_a_theme_change_follow_it(qtbot, first, then):
    theme = T.Theme(first)
    panel = StemPanel(Timeline())
    qtbot.addWidget(panel)
    panel.show_song(make_stemset(), MixerState(NAMES))
    panel.show()
    theme.apply(then)
    QApplication.processEvents()  # the palette change reaches widgets as events
    text = QApplication.instance().palette().windowText().color().name()
    row = panel.rows["drums"]
    for widget in (row.label, row.solo, row.mute, row.gain_label):  # the first three: own sheets
        assert widget.palette().windowText().color().name() == text, widget.accessibleName()
        assert widget.palette().buttonText().color().name() == text, widget.accessibleName()


def test_the_transport_icons_take_the_theme_s_text_colour(qtbot, settings_store):
    """The style draws Play and Stop black: on the dark theme's buttons they hardly showed."""

    def lightest(button) -> int:
        image = button.icon().pixmap(16, 16).toImage()
        return max(
            image.pixelColor(x, y).lightness()
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        )

    win = model_window(qtbot, settings_store, None)
    win.menu_bar.set_theme("light")
    assert lightest(win.transport_bar.play) < 80 and lightest(win.transport_bar.stop) < 80
    win.menu_bar.set_theme("dark")
    qtbot.waitUntil(lambda: lightest(win.transport_bar.play) > 180, timeout=2000)
    assert lightest(win.transport_bar.stop) > 180
    win.close()


def test_disabled_transport_icons_take_the_disabled_text_colour(qtbot, settings_store):
    """Qt greyed the black Play and Stop of no song hardly at all: they looked enabled beside
    the greyed Loop. A theme chosen afterwards greys them in its own colour."""
    from PySide6.QtGui import QIcon, QPalette

    def colours(button, mode) -> set[str]:
        image = button.icon().pixmap(16, 16, mode).toImage()
        return {
            image.pixelColor(x, y).name()
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() == 255
        }

    win = model_window(qtbot, settings_store, None)
    bar = win.transport_bar
    for theme in ("light", "dark"):
        win.menu_bar.set_theme(theme)
        palette = QApplication.instance().palette()
        grey = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText).name()
        text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText).name()
        assert grey != text
        qtbot.waitUntil(lambda t=text: colours(bar.play, QIcon.Mode.Normal) == {t}, timeout=2000)
        for button in (bar.play, bar.stop):
            assert not button.isEnabled()  # no song
            assert colours(button, QIcon.Mode.Disabled) == {grey}, theme
            assert colours(button, QIcon.Mode.Normal) == {text}, theme
    win.close()
