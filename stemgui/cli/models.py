"""The models of ``stemgui-separate`` (``-n``, ``--list-models``): a model named by the user (a
store name or a model file) loaded, an official one downloaded first if need be, and the store's
models listed. The app loads the model a queue names through ``load_model`` too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from stemgui.separation.spec import file_model_name, names_a_file

# The front end's logger: its INFO lines (a download starting) reach the console without -v
# (stemgui.logs.CONSOLE_INFO_LOGGERS).
logger = logging.getLogger("stemgui.cli")


def load_model(name: str | None, *, download: bool = True) -> tuple[Any, str]:
    """The model named ``name`` (None: the store's default) and its name for ``{model}``.

    ``name`` is a model name (``--list-models``) or a path to a file: our checkpoint, an
    official Demucs ``.th`` file, or a bag ``.yaml`` (whose models are looked up in its folder).
    An official model (``htdemucs``...) that is not downloaded yet is downloaded first, with a
    progress bar, as the Demucs command line does; with ``download=False`` (the app, whose
    downloads go through Get models…, with progress and Cancel) it is refused instead.

    Raises:
        ModelLoadError: the model is missing, unknown, fails its sha256 check or its download.
    """
    from stemgui.errors import ModelLoadError
    from stemgui.separation.official_models import OFFICIAL_MODELS
    from stemgui.separation.store import ModelStore

    store = ModelStore()
    if name is not None and os.path.isfile(name):  # the store's models are not read: a
        return store.load(Path(name)), file_model_name(name)  # damaged manifest stopped it
    if name is None:
        name = store.default_name()
        if name is None:
            raise ModelLoadError(
                store.bundled_dir,
                "no model is installed; choose one with -n: a model file, or an official "
                "name such as htdemucs (downloaded on first use)",
            )
    path = Path(name)
    local = {entry.name for entry in store.list_models() if entry.origin != "official"}
    named = len(path.parts) == 1 and (name in local or name in OFFICIAL_MODELS)
    if os.path.isdir(path) and not named:  # a folder named like a model is not one: the model is
        raise ModelLoadError(path, "is a folder; name a model file in it (.stemgui, .th, .yaml)")
    # os.path's tests: Path.is_file raises on a name too long for the disk
    if os.path.isfile(path) or names_a_file(path):
        if not os.path.isfile(path):
            raise ModelLoadError(path, "no such model file; check the path")
        return store.load(path), file_model_name(path)
    if name in OFFICIAL_MODELS and name not in local:
        if not download and store.missing_files(name):
            raise ModelLoadError(
                store.official_dir,
                f"model {name} is not downloaded (or its files were deleted since); get it "
                "with Model ▸ Get models…, or choose another model",
            )
        _download_official(store, name)
    return store.load(name), name


def said(error: Exception) -> str:
    """``error`` on one line; a bundled manifest that cannot be read (damaged) with what to do
    here, as the app says it its own way."""
    from stemgui.errors import ModelLoadError, one_line
    from stemgui.separation.store import MANIFEST

    if isinstance(error, ModelLoadError) and error.path.name == MANIFEST:
        return f"{one_line(error)}; to separate without it, name a model file with -n"
    return one_line(error)


def _download_official(store: Any, name: str) -> None:
    """Fetch the missing files of official model ``name`` into the store, with progress bars."""
    from stemgui.cli.progress import tqdm_progress
    from stemgui.separation.download import download_file
    from stemgui.separation.official_models import OFFICIAL_MODELS

    for url, dest in store.to_download(name):
        file = OFFICIAL_MODELS[name].numbered(dest.name)
        logger.info("downloading model %s, %s: %s", name, file, url)
        with tqdm_progress(file) as on_progress:
            try:
                download_file(url, dest, name=name, on_progress=on_progress)
            except KeyboardInterrupt as stop:  # Ctrl-C or a kill: said by ``cli.main``
                stop.left = (  # not "files being written were discarded": they are kept
                    f"the download of model {name} stopped; what came so far is kept: run "
                    "the same command again to resume it"
                )
                raise


def list_models() -> list[str]:
    """One line per model the store knows: name, origin, default mark, description."""
    from stemgui.separation.store import ModelStore

    store = ModelStore()
    default = store.default_name()
    rows = []
    for entry in store.list_models():
        state = "" if entry.available else "(downloaded on first use)"
        if entry.name == default and entry.available:
            state = "(default)"
        rows.append((entry.name, entry.origin, state, entry.description or ""))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]  # aligned columns
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0])).rstrip()
        for row in rows
    ]
