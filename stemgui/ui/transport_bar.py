"""The transport bar: play/pause, stop, loop, speed, key, position / duration and the master
volume."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStyle,
    QToolButton,
    QWidget,
)

from stemgui.playback.stretch import speed_percent
from stemgui.ui.clock import clock, loop_times
from stemgui.ui.dbslider import DbSlider
from stemgui.ui.elided import ElidedLabel
from stemgui.ui.player import Player
from stemgui.ui.stemview import native_keys

logger = logging.getLogger(__name__)

# a button that is on (the loop; a speed or key not the song's) seen at a glance in both themes
AMBER = "QToolButton:checked { background: #e0a020; color: black; }"


class TransportBar(QWidget):
    """Buttons and readouts for a ``Player``; keyboard shortcuts live on the window's actions."""

    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from stemgui.stems.mixer import MAX_DB, MIN_DB, slider_db

        self.player = player
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.play = self._button(None, "Play")
        self.stop = self._button(None, "Stop")
        self.stop.setToolTip(f"Stop ({native_keys('Ctrl+.')})")
        self.loop = self._button(None, "Loop")
        self.loop.setToolTip("Loop on / off (L; Shift+L clears the loop)")
        self.loop.setText("⟲ Loop")
        self.loop.setCheckable(True)
        # on or off at a glance in both themes (the dark one told them apart by a shade)
        self.loop.setStyleSheet(AMBER)
        self.loop.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.speed = self._speed_button(player)
        self.key = self._key_button(player)
        self.position = QLabel("0:00.0 / 0:00.0")
        self.position.setAccessibleName("Position and duration")
        # never cut (it was, "(wai" in a narrow window): the volume slider gives way instead
        self.position.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        # The loop region, where the waveforms may not show it. Shortened, then cut, short of
        # room: it made the window 164 px wider when set. Always there (empty without a loop)
        # and at the narrowest as wide as a region's times to the second (it was given no room
        # and showed nothing), which the Volume caption makes room for: the window's narrowest
        # is the same with a loop and without.
        self.loop_span = ElidedLabel(
            note="The loop region: drag across the waveforms for another, L turns it on or off"
        )
        self.loop_span.setAccessibleName("Loop region")
        self.loop_span.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.loop_span.setMinimumWidth(_widest(self.loop_span, "0:00–0:00"))  # a song's: below
        self.volume_label = QLabel()
        self.volume = DbSlider(int(MIN_DB), int(MAX_DB), self.volume_label)
        self.volume.setValue(int(slider_db(player.master_db)))  # a half up, as a stem's gain
        self.volume.setMinimumWidth(60)
        self.volume.setMaximumWidth(140)
        self.volume.setAccessibleName("Master volume in dB")
        self.volume.setToolTip("Listening volume in dB (double-click it or its value for 0 dB)")
        self.volume_label.setToolTip(self.volume.toolTip())
        self.volume_label.setFixedWidth(52)
        self._volume_changed(self.volume.value())
        widgets = (self.play, self.stop, self.loop, self.speed, self.key, self.position)
        for widget in (*widgets, self.loop_span):
            layout.addWidget(widget)
        layout.addStretch(4)  # with the slider's 1: it grows to its 140 px once there is room
        layout.addWidget(self._volume_box(layout.spacing()), 1)
        layout.addWidget(self.volume_label)

        self.play.clicked.connect(player.toggle)
        self.stop.clicked.connect(player.stop)
        self.loop.clicked.connect(lambda on: player.set_loop_enabled(on))
        self.volume.valueChanged.connect(self._volume_changed)
        player.state_changed.connect(self.refresh)
        player.position_changed.connect(self._show_position)
        self.refresh()

    def _volume_box(self, spacing: int) -> QWidget:
        """The Volume caption and the slider, the space between them the caption's own: it is
        the first to give way, hidden with that space (``_fit_caption``), and the bar's
        narrowest does not count it."""
        self.volume_caption = _Caption("Volume")
        self.volume_caption.setContentsMargins(0, 0, spacing, 0)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.volume_caption)
        row.addWidget(self.volume, 1)
        return box

    def _button(self, icon, text: str) -> QToolButton:
        button = QToolButton()
        if icon is not None:
            button.setIcon(icon)
        button.setToolTip(text)
        button.setAccessibleName(text)
        # Tab reaches it, Space presses it (keyboard_focus); a click leaves the focus be
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _menu_button(
        self, name: str, tip: str, choices: dict[Any, str], choose: Callable[[Any], None]
    ) -> tuple[QToolButton, dict[Any, QAction]]:
        """A button that opens a menu of ``choices`` (value -> text) at a click, each calling
        ``choose(value)``; amber while checked (not as the song is); no arrow: 20 px less of
        the window's narrowest. Returns it and its actions by value."""
        button = self._button(None, name)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setCheckable(True)
        button.setStyleSheet(AMBER + "QToolButton::menu-indicator { image: none; width: 0px; }")
        menu = QMenu(button)
        actions = {}
        for value, text in choices.items():
            action = menu.addAction(text)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, v=value: choose(v))
            actions[value] = action
        button.setMenu(menu)
        return button, actions

    def _speed_button(self, player: Player) -> QToolButton:
        """ "100 %": the speed songs play at, the pitch kept; a click offers the others.
        Amber, as Loop on is, while a song is not at its own pace."""
        from stemgui.playback.stretch import SPEEDS

        button, self.speed_actions = self._menu_button(
            "Playback speed",
            "Playback speed, the pitch kept ([ slower, ] faster, \\ normal speed)",
            {speed: f"{speed_percent(speed)} %" for speed in SPEEDS},
            player.set_speed,
        )
        return button

    def _key_button(self, player: Player) -> QToolButton:
        """ "Key 0": how many semitones songs are transposed by, at the same pace; a click
        offers the others. Amber while a song is not in its own key."""
        from stemgui.playback.pitch import SEMITONES

        button, self.key_actions = self._menu_button(
            "Transpose",
            "Transpose, the pace kept (Ctrl+] up, Ctrl+[ down, Ctrl+\\ the song's key)",
            {
                step: "0 (the song's key)" if step == 0 else f"{_signed(step)} semitones"
                for step in reversed(SEMITONES)
            },
            player.set_semitones,
        )
        return button

    def follow_in_tab_order(self, widget: QWidget) -> None:
        """Tab goes from ``widget`` (the last stem row's gain) to Play, Stop, Loop, the speed,
        the key, Volume."""
        chain = [widget, self.play, self.stop, self.loop, self.speed, self.key, self.volume]
        for before, after in pairwise(chain):
            QWidget.setTabOrder(before, after)

    def _icon(self, which: QStyle.StandardPixmap) -> QIcon:
        """The style's icon in the palette's button text colour: the style draws them black,
        which the dark theme's buttons hardly showed. Disabled (no song), in the disabled text
        colour: Qt's own disabled pixmap of a black icon looked enabled beside a greyed Loop."""
        source = self.style().standardIcon(which).pixmap(16, 16)
        icon = QIcon()
        palette, role = self.palette(), QPalette.ColorRole.ButtonText
        for mode, group in (
            (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
            (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
        ):
            icon.addPixmap(_tinted(source, palette.color(group, role)), mode)
        return icon

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme chosen: icons in its colour
            self.refresh()

    def _volume_changed(self, db: int) -> None:
        self.player.set_master_db(float(db))

    def _show_position(self, frame: int) -> None:
        transport = self.player.transport
        if transport is None:
            self.position.setText("–:–– / –:––")
            return
        rate = transport.samplerate
        # short: beside the volume, in a narrow window (the tooltip says why)
        waiting = "  waiting…" if self.player.waiting else ""
        length = clock(transport.frames / rate)
        self.position.setText(f"{clock(frame / rate)} / {length}{waiting}")
        # as wide as the song's widest time from the start: past 10:00 the clock gains a
        # digit, which widened the window's narrowest as it played
        self.position.setMinimumWidth(_widest(self.position, f"{length} / {length}{waiting}"))
        # the loop readout at the narrowest, loop or not: a region's times to the second
        seconds = clock(transport.frames / rate, 0)
        self.loop_span.setMinimumWidth(_widest(self.loop_span, f"{seconds}–{seconds}"))
        self.position.setToolTip(
            "Playing waits here for the separation to get further" if waiting else ""
        )

    def refresh(self) -> None:
        player = self.player
        loaded = player.loaded
        # Play too when playback is off: it opens the device again
        for widget in (self.play, self.stop, self.loop, self.speed, self.key):
            widget.setEnabled(loaded)
        playing = loaded and player.transport.playing
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play.setIcon(self._icon(pixmap))
        self.stop.setIcon(self._icon(QStyle.StandardPixmap.SP_MediaStop))
        if loaded and not player.can_play:
            self.play.setToolTip(f"Playback is off: {player.error}\nPlay tries again")
        else:
            self.play.setToolTip("Pause (Space)" if playing else "Play (Space)")
        self.loop.setChecked(loaded and player.transport.loop_enabled)
        self.speed.setText(f"{speed_percent(player.speed)} %")
        self.speed.setChecked(player.speed != 1.0)
        for speed, action in self.speed_actions.items():
            action.setChecked(abs(speed - player.speed) < 1e-9)
        self.key.setText(f"Key {_signed(player.semitones)}")
        self.key.setChecked(player.semitones != 0)
        for step, action in self.key_actions.items():
            action.setChecked(step == player.semitones)
        self._show_position(player.timeline.position if loaded else 0)  # the heard one
        self._show_loop()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_caption()

    def _fit_caption(self) -> None:
        """The Volume caption shown where the bar has room for all of it, hidden where not:
        its room goes to the loop readout at the window's narrowest. The slider and its
        readout say what they are in their tooltips."""
        caption = self.volume_caption
        hint = self.layout().sizeHint().width()
        if caption.isHidden():
            hint += caption.sizeHint().width()
        caption.setHidden(self.width() < hint)

    def _show_loop(self) -> None:
        """ "Loop 0:08.4–0:12.6 (4.2 s)": zoomed in, or looping what was on screen (L with no
        region), the waveforms do not say where the loop is; "off" when it is set aside."""
        transport = self.player.transport if self.player.loaded else None
        region = transport.loop if transport is not None else None
        if region is None:
            self.loop_span.clear()
            self._fit_caption()
            return
        rate = transport.samplerate
        start, end = region[0] / rate, region[1] / rate
        # under a second, to the hundredth: a 10 ms loop read "0:01.0–0:01.0 (0.0 s)"
        times, span = loop_times(start, end, decimals=1 if end - start >= 1 else 2)
        off = "" if transport.loop_enabled else ", off"
        # short of room, its times alone, then to the second; the whole in its tooltip
        seconds = loop_times(start, end, decimals=0)[0]
        short = (f"{times} ({span}{off})", times, seconds)
        self.loop_span.setText(f"Loop {times}", tail=f" ({span}{off})", shorter=short)
        self._fit_caption()  # a loop asks for more room


class _Caption(QLabel):
    """A caption that asks for no room of its own: ``TransportBar._fit_caption`` shows it only
    where everything fits whole."""

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())


def _widest(label: QLabel, text: str) -> int:
    """The width of ``text`` in ``label``'s font with every digit its widest, 8."""
    widest = "".join("8" if c.isdigit() else c for c in text)
    return label.fontMetrics().horizontalAdvance(widest)


def _signed(step: int) -> str:
    """+2, 0, −3 (a minus sign, as printed)."""
    return f"+{step}" if step > 0 else f"−{-step}" if step < 0 else "0"


def _tinted(source: QPixmap, colour: QColor) -> QPixmap:
    """``source``'s shape (its alpha) filled with ``colour``."""
    tinted = QPixmap(source.size())
    tinted.setDevicePixelRatio(source.devicePixelRatio())
    tinted.fill(Qt.GlobalColor.transparent)
    painter = QPainter(tinted)
    painter.drawPixmap(0, 0, source)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(tinted.rect(), colour)
    painter.end()
    return tinted
