"""What the window says about models and devices.

The worker's answer to the start-up probe, a model downloaded or a model file checked, a
separation option changed, the device (the status bar's lasting label: "Device: CPU", and
"Separating on: CPU" while a song is being worked on; "CPU" for "Automatic (CPU)" too),
and the banner while no model can be used: songs wait for one, and start once there is.
``ModelStatus`` answers the signals of ``SeparationMenus`` and the ``QueueController``; it lives
on the GUI thread, a child of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from stemgui.errors import sentence
from stemgui.ui.model_checks import choice_apart
from stemgui.ui.models import display_name

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow


def runs_on(label: str) -> str:
    """The device a Device menu item's ``label`` separates on: "Automatic (CPU)" on the one in
    its parentheses, "CPU" (it said "Separating on: Automatic (CPU)" until the model loaded, then
    the worker's "CPU"); any other on itself."""
    return _parts(label)[0]


def _parts(label: str) -> tuple[str, str]:
    """(``runs_on(label)``, what follows it: " (cuda:0 is missing)", or "")."""
    head = "Automatic ("
    if not label.startswith(head):
        return label, ""
    depth = 1
    for end in range(len(head), len(label)):
        depth += {"(": 1, ")": -1}.get(label[end], 0)
        if depth == 0:  # its own closing parenthesis: "GPU 0: … (12 GB, CUDA)" holds one too
            return label[len(head) : end], label[end + 1 :]
    return label, ""


class ModelStatus(QObject):
    """Says in the window's status bar, device label and banner how models and devices stand.

    Args:
        window: the main window: its separation menus, its controller and where it says things.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._choice: str | None = None  # the Device menu's, as it says it (None: not known)
        self._chosen: str | None = None  # a choice made while a song runs: from the next one
        self._in_use: str | None = None  # the worker's word: the device the song runs on

    def probed(self, models: list, catalogue: list, devices: list, error: str) -> None:
        """The worker's answer: the models and devices it found (the menus list them)."""
        if error:
            self.window.show_error(f"Could not look for models and devices: {error}")
        self.window.menus.probed(models, catalogue, devices, error)

    def option_changed(self) -> None:
        """Say when a new setting takes effect (the song separating went on as it started)."""
        running = self.window.controller.current
        note = f"; {running.title} keeps the settings it started with" if running else ""
        self.window.statusBar().showMessage(
            f"Applies to the songs separated from now on{note}. To redo a separated song with "
            "it, add the song again.",
            8000,
        )

    def downloaded(self, name: str) -> None:
        self.window.statusBar().showMessage(f"Model {name} is ready.", 5000)

    def checking(self, path: str) -> None:
        self.window.statusBar().showMessage(f"Loading the model file {path}…", 10_000)

    def file_checked(self, path: str, error: str) -> None:
        """A model file the user chose was loaded, or why it cannot be used."""
        if error:
            self.window.statusBar().clearMessage()
            _said, choose = choice_apart(error)  # its own advice ("choose a model file (…)")
            advice = "" if choose else "; choose another file"
            self.window.show_error(f"{sentence(error)} The model in use stays{advice}.", "model")
        else:
            self.window.statusBar().showMessage(f"Model {display_name(path)} is ready.", 5000)

    def device_in_use(self, label: str) -> None:
        """The worker's word: the device the song separating runs on."""
        self._in_use = label
        self.show_device()

    def device_chosen(self, label: str) -> None:
        """The Device menu's choice; named once no song runs (until then the worker's word
        counts: the song running keeps its device)."""
        self._chosen = label
        self.show_device()

    def show_device(self) -> None:
        """Name the device: "Separating on: …" while a song is being worked on, else
        "Device: …" (it said "Separating on" with nothing in the queue), in one form: the
        device itself, "CPU" (idle, it said "Automatic (CPU)" at the start and the worker's
        "CPU" after the first song). Called as the queue changes."""
        running = self.window.controller.current is not None
        if not running and self._chosen is not None:
            self._choice, self._chosen, self._in_use = self._chosen, None, None
        if running:  # the device alone, as the worker names it once the model is loaded
            device = self._in_use or self._choice or "—"
            self.window.device_label.setText(f"Separating on: {runs_on(device)}")
        elif self._choice is not None:  # the choice, with what the menu adds ("… is missing")
            self.window.device_label.setText(f"Device: {''.join(_parts(self._choice))}")
        else:  # not probed: the worker's word, once a song ran
            self.window.device_label.setText(f"Device: {self._in_use or '—'}")

    def models_changed(self) -> None:
        """Say whether a model can be used; songs held for want of one may start now."""
        window = self.window
        window.controller.resume()
        problem = window.menus.problem()
        if problem is not None:
            window.messages.show(
                problem,
                "model",
                [
                    ("Get models…", window.menus.get_models),
                    ("Choose model file…", window.menus.choose_model_file),
                ],
            )
        else:
            window.messages.clear("model")
