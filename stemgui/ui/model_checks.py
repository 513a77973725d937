"""Whether a model can be used: a model file is loaded on a thread before it is chosen
(``check_loads``), and the chosen model that did not load on the worker, cannot separate or is
missing holds the songs while ``ModelWatch`` looks every 2 s for a change that may mend it.

A chosen model file that is gone (a drive unplugged) is looked for, so that the songs waiting
for it start when it is back; one that does not load, to see whether it (or a bag's member)
changed (mended: downloaded or exported again); a model of the store that is missing (or none),
to list the store again once its folders change (a model put there, the folder put back). Which
files to look at is worked out once; each look only stats them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from stemgui.errors import sentence
from stemgui.separation.spec import names_a_file
from stemgui.ui import settings as S
from stemgui.ui.models import display_name, is_model_file
from stemgui.ui.restore import ModelStamps, file_stamp

if TYPE_CHECKING:
    from stemgui.ui.separation_menus import SeparationMenus

logger = logging.getLogger(__name__)

# The engine's own advice to choose another model or file, closing its message: a network that
# cannot separate ("; choose another model"), an unknown architecture ("update stemgui, or
# choose another model"), a name the store does not know ("; choose one of those, or a model
# file"), a file of another kind ("; choose a model file (…)"). The banner says it once.
_CHOOSING = re.compile(r"(?:;|,? or) choose [^;]*$")


def choice_apart(message: str) -> tuple[str, str]:
    """(``message`` without its closing advice to choose another model or file, that advice);
    (``message``, "") when it gives none."""
    found = _CHOOSING.search(message)
    if found is None:
        return message, ""
    return message[: found.start()], found.group()


def check_loads(path: str, done: Callable[[str, str], None]) -> None:
    """Load the model file ``path`` on a thread; ``done(path, error)`` from that thread once it
    ended: ``error`` is "" when it loads, else why it does not, in one line."""
    from stemgui.errors import one_line

    def load() -> None:
        from stemgui.errors import StemguiError
        from stemgui.ui.models import load_model

        try:
            load_model(path)
        except StemguiError as error:
            done(path, one_line(error))
        except Exception as error:  # anything torch raises on a file that is no model
            logger.warning("model file %s does not load", path, exc_info=True)
            done(path, f"{path}: does not load as a model ({one_line(error)})")
        else:
            done(path, "")

    threading.Thread(target=load, name="stemgui-model-check", daemon=True).start()


class ModelWatch(QTimer):
    """The chosen model of ``menus`` that holds the songs (``held``), and a look every 2 s, while
    it is held or missing, for a change that may mend it: then ``menus.availability_changed``,
    or ``probe`` where the store changed (the worker's answer says whether it is there now)."""

    def __init__(self, menus: SeparationMenus, probe: Callable[[], None]) -> None:
        super().__init__(menus)
        self.menus = menus
        self._probe = probe  # asks the worker to list the models and devices again
        # the chosen model that did not load (or loaded and cannot separate: ``loads``) on the
        # worker: (spec, why, its files' stamps then, loads)
        self.held: tuple[str, str, ModelStamps, bool] | None = None
        self._store_seen: ModelStamps = ()  # the store's folders when the watch started
        self.setInterval(2000)
        self.timeout.connect(self._look)
        menus.availability_changed.connect(self.follow)

    def hold(self, spec: str, message: str, loads: bool) -> None:
        """Hold the songs for the model ``spec`` (``message``: why it does not load, or why it
        cannot separate when it ``loads``) until its files change."""
        self.held = (spec, message, _stamps(_mending_files(spec)), loads)

    def fault(self) -> str:
        """What is wrong with the chosen model that holds the songs, in a few words."""
        loads = self.held is not None and self.held[3]
        return "cannot separate" if loads else "does not load"

    def problem(self) -> str | None:
        """Why the songs are held, in words; None when they are not."""
        if self.held is None:
            return None
        spec, message, _stamp, _loads = self.held
        named = f" “{display_name(spec)}”" if spec else ""  # "": the store's default
        said, _choose = choice_apart(message)  # where to choose is said here, once
        return (
            f"The chosen model{named} {self.fault()}, so the songs wait: "
            f"{sentence(said)} Choose another model in the Model menu or a model file (or "
            "mend this one): the queue goes on with it."
        )

    def follow(self) -> None:
        """Look while the chosen model is missing or held, else not."""
        if self.menus.has_model() is False or self.held is not None:
            if not self.isActive():  # start() again would put off its next look
                self._store_seen = self._store_stamps()
                self.start()
        else:
            self.stop()

    def _look(self) -> None:
        menus = self.menus
        spec = menus.settings.get(S.MODEL)
        if self.held is not None:
            spec, _message, stamps, _loads = self.held
            if _stamps(path for path, _stamp in stamps) != stamps:
                logger.info("the model file %s changed: it is tried again", spec)
                self.held = None
                if not names_a_file(spec):  # the store changed: listed again too
                    self._probe()
                menus.availability_changed.emit()
        elif is_model_file(spec):
            menus.availability_changed.emit()  # which stops the watch
        elif menus.has_model() is False:
            # the store is read once (its manifest, a bag's file); each look only stats
            if not self._store_seen:  # the store not listed when the watch started
                self._store_seen = self._store_stamps()
            elif _stamps(path for path, _stamp in self._store_seen) != self._store_seen:
                logger.info("the model store changed: its models are listed again")
                self._store_seen = self._store_stamps()
                self._probe()  # its answer says whether the model is there now

    def _store_stamps(self) -> ModelStamps:
        """The stamps of the store's folders and of the chosen model of the store's files; ()
        for a model file, or before the worker listed the store (the store imports torch)."""
        spec = self.menus.settings.get(S.MODEL)
        if names_a_file(spec) or self.menus.store_models is None:
            return ()
        return _stamps(_store_files(spec))


def _mending_files(spec: str) -> list[str]:
    """The files whose change may mend the model ``spec`` that does not load: its file; for a
    bag, also the folder its members are looked for in (one put there or renamed) and the
    members there now (one replaced). A model of the store, by its name (or "", its default):
    the store's folders (a model or a bag's member put there, the folder made again) and the
    files it is read from now. The bag is read here, once: the watch only stats them."""
    if not names_a_file(spec) and not is_model_file(spec):
        return _store_files(spec)
    path = Path(spec)
    if path.suffix.lower() not in (".yaml", ".yml"):
        return [spec]
    from stemgui.errors import ModelLoadError
    from stemgui.separation.official import find_signature, read_bag_file

    try:
        members = [find_signature(path.parent, s) for s in read_bag_file(path)["models"]]
    except (ModelLoadError, OSError):  # the .yaml itself is at fault: its own stamp says
        return [spec]
    return [spec, str(path.parent), *(str(member) for member in members if member)]


def _store_files(name: str) -> list[str]:
    """The model store's folders and the files the model ``name`` of the store is read from
    now (``model_files``: none while a bag's member is missing)."""
    from stemgui.separation.model_identity import model_files
    from stemgui.separation.store import ModelStore

    store = ModelStore()
    files = model_files(name, store)
    found = [] if files is None else [str(path) for path in files.paths]
    return [str(store.bundled_dir), str(store.user_dir), str(store.official_dir), *found]


def _stamps(paths: Iterable[str]) -> ModelStamps:
    return tuple((path, file_stamp(path)) for path in paths)
