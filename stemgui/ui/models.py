"""Which separation models the app can use, and loading one (on the worker thread).

The app never pretends to have a model: with none in the model store and no model file chosen,
loading raises ``NoModelError``, whose message tells the user what to do. A model is named by
the store (``"htdemucs"``) or by a file path: our checkpoint (``.stemgui``), an official Demucs
``.th`` file, or a bag ``.yaml`` whose models lie beside it. Everything here imports torch
lazily: call it from the worker thread, never at start-up.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from stemgui.errors import StemguiError

logger = logging.getLogger(__name__)

MODEL_FILE_FILTER = (
    "Separation models (*.stemgui *.th *.yaml *.yml);;stemgui checkpoints (*.stemgui);;"
    "Official Demucs checkpoints (*.th);;Bags of models (*.yaml *.yml);;All files (*)"
)
NO_MODEL_MESSAGE = (
    "No separation model is installed yet. Download an official Demucs model "
    "(Model ▸ Get models…), or choose a model file you have (Model ▸ Choose model file…): "
    "a stemgui checkpoint (.stemgui), an official Demucs checkpoint (.th) or a bag (.yaml)."
)


class NoModelError(StemguiError):
    """Neither the model store nor the settings offer a model."""

    def __init__(self) -> None:
        super().__init__(NO_MODEL_MESSAGE)


def make_store(official_root_url: str | None = None) -> Any:
    """The ``ModelStore`` of this user (imports torch); ``official_root_url`` for a mirror."""
    from stemgui.separation.store import ModelStore

    if official_root_url is None:
        return ModelStore()
    return ModelStore(official_root_url=official_root_url)


def store_names() -> list[str]:
    """Names of the models in the model store that can be loaded now, first the one used when
    none is chosen (``ModelStore.default_name``): the Model menu checks it then."""
    store = make_store()
    default = store.default_name()
    return sorted(store.names(), key=lambda name: name != default)


def model_descriptions() -> dict[str, str]:
    """{name: description} of every model the store lists (the one loaded by a name first)."""
    descriptions: dict[str, str] = {}
    for entry in make_store().list_models():
        descriptions.setdefault(entry.name, entry.description)
    return descriptions


def store_files() -> dict[str, str]:
    """{name: file} of the store's models in a file of their own (bundled, the user's) that
    load now: for each name, the file that loading by that name reads."""
    files: dict[str, str] = {}
    for entry in make_store().list_models():
        if entry.available:
            files.setdefault(entry.name, str(entry.path) if entry.path is not None else "")
    return {name: path for name, path in files.items() if path}


def official_catalogue() -> list[tuple[str, str, bool]]:
    """(name, description, downloaded) of every official Demucs model the store knows."""
    return [
        (entry.name, entry.description, entry.available)
        for entry in make_store().list_models()
        if entry.origin == "official"
    ]


def is_model_file(spec: str) -> bool:
    # os.path.isfile: Path.is_file raises on a folder that cannot be opened, a name too long
    return bool(spec) and os.path.isfile(spec)


def display_name(spec: str) -> str:
    """How a model spec is shown: a file by its name (as the queue and the command line name
    it: ``file_model_name``), a store name as is."""
    from stemgui.separation.spec import file_model_name, names_a_file

    return file_model_name(spec) if spec and names_a_file(spec) else spec


def load_model(spec: str) -> tuple[Any, str]:
    """The model for ``spec`` (store name, file path, or "" for the store's default).

    Returns:
        (model, display name). The model is an ``nn.Module`` (or a bag) on the CPU.

    Raises:
        NoModelError: ``spec`` is empty and the store has no model.
        ModelLoadError: the model is missing (an official one not downloaded too: in the app,
            Get models… downloads, with progress and Cancel, not a song's separation),
            unknown, tampered with or unreadable.
    """
    from stemgui.cli.models import load_model as load_named

    if not spec and not store_names():
        raise NoModelError()
    return load_named(spec or None, download=False)


def device_choices() -> list[tuple[str, str]]:
    """(name, label) of every device this machine has, "auto" first (imports torch)."""
    from stemgui.separation.device import available_devices

    return [(choice.name, choice.label) for choice in available_devices()]


def describe_device(device: Any) -> str:
    """A label for the ``torch.device`` (or device name) in use."""
    import torch

    from stemgui.separation.device import describe

    return describe(torch.device(device))
