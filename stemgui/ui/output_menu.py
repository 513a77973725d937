"""Playback ▸ Output device: the sound device to play on, chosen by its name and kept.

The submenu lists "System default" and every output PortAudio has, radio-checked, read afresh
when it opens, at most every few seconds (``output_devices.FRESH_S``). PortAudio lists its
devices once when it is initialised and initialising it again closes every stream, so with a
song paused the menu closes the song's stream, lists the devices afresh and opens it again where
it was (``Player.switch_output``); while one plays the list is PortAudio's as it stands, and the
menu says to pause for a device plugged in since.
A device chosen plays at once, where the song is, and is kept by its label
(``settings.OUTPUT_DEVICE``: PortAudio's numbers change between runs); ``chosen_output`` makes
the player's output factory that opens it, which says once in the banner when the device kept is
not connected or does not open (the system default plays meanwhile, and the device again once it
is back or let go).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from stemgui.playback.output_devices import (
    ChosenOutput,
    OutputDevice,
    find_output,
    fresh_due,
    list_outputs,
)
from stemgui.playback.sounddevice_output import (
    CHOSEN_DEVICE_ADVICE,
    AudioDeviceError,
    import_sounddevice,
)
from stemgui.ui import settings as S
from stemgui.ui.mnemonics import with_mnemonic

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

logger = logging.getLogger(__name__)

DEFAULT = "System default"
PAUSE_TO_LIST = "Pause to list devices plugged in since"


def not_connected(label: str) -> str:
    """What the banner says when the device kept is not connected at an open."""
    return (
        f"The output device {label} chosen in Playback ▸ Output device is not connected: the "
        "system default plays instead. Connect it and choose it there again, or choose another."
    )


def not_opening(label: str) -> str:
    """What the banner says when the device kept is listed but does not open at an open."""
    return (
        f"The output device {label} chosen in Playback ▸ Output device could not be opened: "
        f"the system default plays instead. {CHOSEN_DEVICE_ADVICE}"
    )


def chosen_output(window: MainWindow) -> ChosenOutput:
    """The player's output factory: the device kept in ``window``'s settings, its absence, or
    its not opening, said once in the banner (once the open is done: a "Playback off" it mends
    goes first)."""

    def say(message: str) -> None:
        QTimer.singleShot(0, window, lambda: window.messages.say_once(message, "output"))

    return ChosenOutput(
        window.settings.get(S.OUTPUT_DEVICE),
        lambda label: say(not_connected(label)),
        lambda label: say(not_opening(label)),
    )


class OutputMenu(QObject):
    """Fills ``menu`` with the output devices each time it opens; plays on the one chosen.

    Attributes:
        devices: the outputs listed when the menu last opened.
        problem: why none could be listed (no PortAudio), else "".
    """

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.menu = menu
        self.group = QActionGroup(self)  # exclusive: one radio checked
        self.devices: list[OutputDevice] = []
        self.problem = ""
        menu.aboutToShow.connect(self.fill)

    def read(self) -> None:
        """Read PortAudio's outputs, afresh unless a song plays (its stream would close) or
        they were read afresh (here or by an output opened) less than ``FRESH_S`` ago."""
        try:
            sd = import_sounddevice()
        except AudioDeviceError as error:
            self.devices, self.problem = [], str(error)
            return
        self.problem = ""
        player = self.window.player
        playing = player.loaded and player.transport.playing
        fresh = not playing and fresh_due()
        if fresh and player.can_play:  # the paused song's stream closed meanwhile

            def listing() -> None:
                self.devices = list_outputs(sd)

            player.switch_output(listing)
        else:
            self.devices = list_outputs(sd, fresh=fresh)

    def fill(self) -> None:
        """The menu's items: the system default, each output, the one kept if not connected."""
        self.read()
        for action in self.group.actions():
            self.group.removeAction(action)
        self.menu.clear()
        chosen = self.window.settings.get(S.OUTPUT_DEVICE)
        found = find_output(self.devices, chosen) if chosen else None
        taken: set[str] = set()  # the letters of the mnemonics given
        self._item(with_mnemonic(DEFAULT, taken), "", not chosen)
        for device in self.devices:
            self._item(with_mnemonic(device.label, taken), device.label, device is found)
        if chosen and found is None:  # checked, greyed: it plays again once it is back
            text = with_mnemonic(f"{chosen} (not connected)", taken)
            self._item(text, chosen, True).setEnabled(False)
        notes = [self.problem.split(". ", 1)[0]] if self.problem else []
        if self.window.player.loaded and self.window.player.transport.playing:
            notes.append(PAUSE_TO_LIST)
        if notes:
            self.menu.addSeparator()
        for note in notes:  # greyed, with a mnemonic as every item has
            self.menu.addAction(with_mnemonic(note, taken)).setEnabled(False)

    def _item(self, text: str, label: str, checked: bool) -> QAction:
        action = QAction(text, self.menu)
        action.setCheckable(True)
        action.setChecked(checked)
        action.triggered.connect(lambda _=False: self.choose(label))
        self.group.addAction(action)
        self.menu.addAction(action)
        return action

    def choose(self, label: str) -> None:
        """Play on the output labelled ``label`` ("": the system default) from now on, from
        where the song is, and at the next start."""
        window = self.window
        window.settings.set(S.OUTPUT_DEVICE, label)
        factory = window.player.output_factory
        if isinstance(factory, ChosenOutput):
            factory.label = label
        window.messages.clear("output")
        logger.info("output device chosen: %s", label or "the system default")
        if window.player.switch_output() or not window.player.loaded:  # else the banner says
            window.statusBar().showMessage(f"Sound goes to {label or 'the system default'}.", 6000)
