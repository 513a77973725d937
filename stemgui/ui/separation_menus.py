"""The Model, Device and Quality menus: how songs are separated, kept in the settings.

``SeparationMenus`` knows which models exist (the worker's probe answers, since listing them
loads torch), whether one can be used, and turns the settings into ``SeparationOptions``. It
says "no model" in plain words (``availability_changed``, ``problem()``) rather than pretend,
and holds the songs while the chosen model does not load or cannot separate (``model_failed``;
``stemgui.ui.model_checks`` checks a model file before it is chosen and watches the chosen one).
The Quality menu's items are ``stemgui.ui.quality_menu``'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from stemgui.errors import sentence
from stemgui.ui import settings as S
from stemgui.ui.get_models import ModelsDialog
from stemgui.ui.mnemonics import with_mnemonic
from stemgui.ui.model_checks import ModelWatch, check_loads
from stemgui.ui.models import MODEL_FILE_FILTER, NO_MODEL_MESSAGE, display_name, is_model_file
from stemgui.ui.quality_menu import fill_quality_menu
from stemgui.ui.separation_options import SeparationOptions

logger = logging.getLogger(__name__)

# what to do when the models cannot be listed (a damaged bundled manifest)
_UNLISTED_HELP = "Reinstall stemgui, or choose a model file (Model ▸ Choose model file…)."


class SeparationMenus(QObject):
    """The three menus and the model state behind them.

    Args:
        settings: where the choices are kept.
        window: parent of the menus and dialogs.
        probe: asks the worker to list the models and devices again.

    Signals:
        availability_changed(): ``has_model()`` or ``problem()`` may have changed.
        device_text(label): the device the settings choose, for the status bar.
        downloaded(name): an official model was downloaded and can be used.
        catalogue_changed(catalogue): ``catalogue`` changed (the worker answered, a model was
            downloaded, or its files were deleted since the last look); the Get models dialog
            shows it.
        option_changed(): the model, device, quality or two-stem mode was set.
        checking(path): a chosen model file is being loaded, to see that it is one.
        checked(path, message): the check ended: "" and the file is the model now, or why
            it does not load (the model in use stays).
    """

    availability_changed = Signal()
    device_text = Signal(str)
    downloaded = Signal(str)
    catalogue_changed = Signal(list)
    option_changed = Signal()
    checking = Signal(str)
    checked = Signal(str, str)
    _checked = Signal(str, str)  # from the checking thread: path, error ("" when it loads)

    def __init__(self, settings: S.Settings, window: QWidget, probe: Callable[[], None]) -> None:
        super().__init__(window)
        self.settings = settings
        self.window = window
        self._probe = probe
        self.store_models: list[str] | None = None  # None until the worker answered
        self.descriptions: dict[str, str] = {}  # name -> what the store says of it
        self.store_files: dict[str, str] = {}  # name -> its file (bundled, the user's)
        self.catalogue: list[tuple[str, str, bool]] = []  # official: name, text, downloaded
        self.devices: list[str] | None = None  # what this machine has, once the worker said
        self.root_url: str | None = None  # where official models download from
        self.dialog: ModelsDialog | None = None
        self.probing = False  # the worker has been asked and has not answered yet
        self.list_error = ""  # why the worker could not list the models (a damaged manifest)
        self._checking: str | None = None  # the model file last sent to be checked
        self._checked.connect(self._model_file_checked)
        self._watch = ModelWatch(self, probe)  # the chosen model that holds the songs

        self.model_menu = QMenu("&Model", window)
        self.model_menu.setToolTipsVisible(True)  # each model's description
        self.model_group = QActionGroup(self)
        self.model_menu.aboutToShow.connect(self.fill_model_menu)
        self.fill_model_menu()
        self.device_menu = QMenu("&Device", window)
        self.device_group = QActionGroup(self)
        self.fill_device_menu([("auto", "Automatic"), ("cpu", "CPU")])
        self.quality_menu = QMenu("&Quality", window)
        self.quality_menu.setToolTipsVisible(True)  # what each preset asks of the separator
        self.two_stems_action = fill_quality_menu(self.quality_menu, settings, self._set)

    # -- settings ---------------------------------------------------------------------------

    def options(self) -> SeparationOptions:
        """What the next song is separated with."""
        quality = self.settings.quality()
        two = self.settings.get(S.TWO_STEMS)
        return SeparationOptions(
            model=self.settings.get(S.MODEL),
            device=self.device(),
            segment=quality.segment,
            overlap=quality.overlap,
            shifts=quality.shifts,
            two_stems=None if two == "off" else two,
        )

    def device(self) -> str:
        """The chosen device, or "auto" while it is not there (a GPU gone since it was chosen:
        every song failed on it, as if the app had a bug); the setting stays for its return."""
        chosen = self.settings.get(S.DEVICE)
        return "auto" if self.devices is not None and chosen not in self.devices else chosen

    def _set(self, setting: S.Setting, value: Any) -> None:
        self.settings.set(setting, value)
        logger.info("setting %s = %r", setting.key, value)
        self.option_changed.emit()

    # -- menus ------------------------------------------------------------------------------

    def fill_model_menu(self) -> None:
        menu = self.model_menu
        menu.clear()
        for action in self.model_group.actions():
            self.model_group.removeAction(action)
        current = self._store_name(self.settings.get(S.MODEL))
        names = list(self.store_models or [])
        if current and current not in names:
            names.append(current)
        if not names:
            looking = self.store_models is None
            empty = menu.addAction("&Looking for models…" if looking else "&No model installed yet")
            empty.setEnabled(False)
        missing = current if self.has_model() is False else None  # chosen, and not there
        taken = {"g", "c"}  # Get models…, Choose model file…
        for name in names:
            chosen = name == current or (not current and name == names[0])  # "": the default
            broken = chosen and self._watch.held is not None  # the one chosen, as it is
            fault = f" ({self._watch.fault()})" if broken else ""
            mark = " (missing)" if name == missing else fault
            action = QAction(with_mnemonic(display_name(name) + mark, taken), self)
            action.setToolTip(self.descriptions.get(name) or name)
            action.setCheckable(True)
            action.setChecked(chosen)
            action.triggered.connect(lambda _=False, n=name: self.choose_model(n))
            self.model_group.addAction(action)
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction("&Get models…").triggered.connect(self.get_models)
        menu.addAction("&Choose model file…").triggered.connect(self.choose_model_file)

    def _store_name(self, spec: str) -> str:
        """The store's name of the model whose file ``spec`` is (the bundled file chosen by
        file showed twice in the Model menu, under one name), else ``spec``."""
        if is_model_file(spec):
            for name in self.store_models or []:
                path = self.store_files.get(name)
                try:
                    if path and os.path.samefile(spec, path):
                        return name
                except OSError:  # gone since the worker listed it
                    continue
        return spec

    def fill_device_menu(self, devices: list[tuple[str, str]]) -> None:
        self.device_menu.clear()
        for action in self.device_group.actions():
            self.device_group.removeAction(action)
        current = self.settings.get(S.DEVICE)
        if current not in [name for name, _ in devices]:
            # said missing once the worker has said which devices there are
            missing = " (missing: Automatic is used)" if self.devices is not None else ""
            devices = [*devices, (current, current + missing)]
        taken: set[str] = set()
        for name, label in devices:
            action = QAction(with_mnemonic(label, taken), self)
            action.setCheckable(True)
            action.setChecked(name == current)
            action.triggered.connect(lambda _=False, n=name, t=label: self._choose_device(n, t))
            self.device_group.addAction(action)
            self.device_menu.addAction(action)

    def _choose_device(self, name: str, label: str) -> None:
        self._set(S.DEVICE, name)
        self.device_text.emit(label)

    # -- models -----------------------------------------------------------------------------

    def choose_model(self, spec: str) -> None:
        self._checking = None  # a choice made now wins over a file still being checked
        self._watch.held = None  # the same one again: tried again
        self._set(S.MODEL, spec)
        self.availability_changed.emit()

    def choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Choose a model file", "", MODEL_FILE_FILTER
        )
        if path:
            self.check_model_file(path)

    def check_model_file(self, path: str) -> None:
        """Load the model file ``path`` on a thread and choose it if it loads (``checked``).

        A damaged file or one of another kind was taken on its extension before, and every
        song then failed on it in turn.
        """
        self._checking = path
        self.checking.emit(path)
        check_loads(path, self._checked.emit)

    def _model_file_checked(self, path: str, error: str) -> None:
        """A file checked: chosen if it loads, unless the user chose another model (or file)
        since; a big bag takes seconds, and the check that ended last used to win."""
        if not error and path != self._checking:
            logger.info("model file %s loads, but another model was chosen since", path)
            return
        if not error:
            self.choose_model(path)
        self.checked.emit(path, error)

    def get_models(self) -> ModelsDialog:
        """Open the dialog that downloads official models (it stays open while it works); the
        one already open, or still ending a download, comes to the front instead of a second
        one that would download the same file at the same time. The worker looks at the store
        again; the dialog shows its answer (``catalogue_changed``)."""
        if self.dialog is not None and (self.dialog.isVisible() or self.dialog.task is not None):
            self.dialog.show()
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        if self.dialog is not None:  # closed: it is not told of the catalogue any more
            self.catalogue_changed.disconnect(self.dialog.show_catalogue)
            self.dialog.deleteLater()
        self.dialog = ModelsDialog(self.catalogue, self.root_url, self.window)
        self.dialog.downloaded.connect(self._model_downloaded)
        self.catalogue_changed.connect(self.dialog.show_catalogue)
        self._say_list_error()
        self.dialog.show()
        self._probe()  # a model's files deleted since the last look: "not downloaded" again
        return self.dialog

    def _say_list_error(self) -> None:
        """The Get models dialog says why it lists no model when the worker could not list
        them (it said that the list shows once it is loaded, for good)."""
        if self.dialog is None or not self.list_error or self.catalogue:
            return
        self.dialog.status.setText(
            "The list of official models could not be loaded: "
            f"{sentence(self.list_error)} {_UNLISTED_HELP}"
        )

    def _set_catalogue(self, catalogue: list[tuple[str, str, bool]]) -> None:
        if catalogue != self.catalogue:
            self.catalogue = catalogue
            self.catalogue_changed.emit(catalogue)

    def _model_downloaded(self, name: str) -> None:
        self.store_models = list(dict.fromkeys([*(self.store_models or []), name]))
        self._set_catalogue([(n, text, here or n == name) for n, text, here in self.catalogue])
        self.descriptions[name] = next((text for n, text, _ in self.catalogue if n == name), "")
        # none chosen, or the one chosen is gone or does not load (the banner sent them here)
        spec = self.settings.get(S.MODEL)
        chosen = not spec or self.has_model() is False or self._watch.held is not None
        if chosen:
            self.choose_model(name)
        if self.dialog is not None:  # it said "it is selected" even when another model was
            use = "the next songs use it" if chosen else "choose it in the Model menu to use it"
            self.dialog.status.setText(f"{name} is downloaded and verified; {use}.")
        self.downloaded.emit(name)
        self._probe()

    def probed(self, models: list, catalogue: list, devices: list, error: str = "") -> None:
        """Take in the worker's answer: the models that load now (name, description, file), the
        catalogue, the devices, and why it could not list them ("" when it could)."""
        self.probing = False
        self.list_error = error
        self.store_models = [name for name, _text, _file in models]
        self.descriptions = {name: text for name, text, _file in models if text}
        self.store_files = {name: path for name, _text, path in models if path}
        if catalogue:  # none: the worker could not look (its error is said)
            self._set_catalogue([tuple(entry) for entry in catalogue])
        self._say_list_error()
        if devices:
            devices = [tuple(d) for d in devices]
            self.devices = [name for name, _ in devices]
            self.fill_device_menu(devices)
            labels = dict(devices)
            current = self.settings.get(S.DEVICE)
            if current in labels:
                self.device_text.emit(labels[current])
            else:
                logger.warning(
                    "the device %s chosen earlier is not here: Automatic is used", current
                )
                self.device_text.emit(f"{labels.get('auto', 'Automatic')} ({current} is missing)")
        self.fill_model_menu()
        self.availability_changed.emit()

    def model_failed(self, spec: str, message: str, loads: bool = False) -> None:
        """The model ``spec`` did not load on the worker (``message`` says why: damaged since it was
        chosen, say), or loaded and its network cannot separate (``loads``). While it is the one
        chosen, songs wait (``wait_reason``) and ``problem`` says why, until a model is chosen (the
        same one too: tried again) or its file changes (mended; for a bag, a member put beside it or
        replaced too; for a model of the store, a file put in the store's folders or the folder made
        again). Nothing is held for a model chosen before the one of now, or a file gone (that is
        said and watched as missing). No model in the store at all (``NoModelError``, none chosen)
        is said as such: the store has none now, as if listed again."""
        if message == NO_MODEL_MESSAGE:  # not "the chosen model does not load": none is chosen
            self.store_models = []
            self.fill_model_menu()
            self.availability_changed.emit()
            return
        if spec != self.settings.get(S.MODEL) or self.has_model() is False:
            return
        self._watch.hold(spec, message, loads)
        self.availability_changed.emit()

    def has_model(self) -> bool | None:
        """Whether a model can be used (None while the worker is still looking)."""
        spec = self.settings.get(S.MODEL)
        if spec and (is_model_file(spec) or (self.store_models and spec in self.store_models)):
            return True
        if self.store_models is None:
            return None
        if spec and spec not in self.store_models:
            return False
        return bool(self.store_models)

    def wait_reason(self) -> str | None:
        """Why songs cannot start yet, in a few words; None when they can."""
        if self.has_model() is False:
            if self.list_error:  # as problem() says
                return "the models could not be listed (see the banner)"
            if self.settings.get(S.MODEL):  # as problem() says, installed ones or not
                # gone since it was chosen (a drive unplugged while the app runs): looked for
                # every 2 s from now on, or the songs waited for it for good
                self._watch.follow()
                return "the chosen model is missing (see the Model menu)"
            return "no model yet (see Model ▸ Get models…)"
        if self._watch.held is not None:
            return f"the chosen model {self._watch.fault()} (see the Model menu)"
        # the devices too: a song given at the start ran on a device gone since (``device``)
        if self.probing and (self.has_model() is None or self.devices is None):
            return "looking for models…"
        return None

    def problem(self) -> str | None:
        """Why no song can be separated now, in words; None when a model is there (or unknown)."""
        if self.has_model() is not False:
            return self._watch.problem()
        spec = self.settings.get(S.MODEL)
        if self.list_error:  # none listed: "no model installed" said nothing of the cause
            return (
                "The models could not be listed, so the songs wait: "
                f"{sentence(self.list_error)} {_UNLISTED_HELP}"
            )
        if not spec:
            return NO_MODEL_MESSAGE
        if self.store_models:
            choose = "Choose one in the Model menu (installed: " + ", ".join(self.store_models)
            if any(name == spec for name, _text, _here in self.catalogue):  # never, or no more
                where = "is not downloaded; Model ▸ Get models… downloads it."
            else:
                where = f"is missing ({spec})."
            return f"The chosen model “{display_name(spec)}” {where} {choose})."
        return (
            f"The chosen model “{display_name(spec)}” is not available ({spec}). "
            "Download one (Model ▸ Get models…) or choose a model file (Model ▸ Choose model "
            "file…)."
        )
