"""Architecture registry: maps the name stored in a checkpoint to the class that rebuilds it.

Checkpoints never carry code. They carry an architecture name (``"HTDemucs"``) and the keyword
arguments of its constructor; this registry is the only place that turns a name into a class.
The names are those of the reference Demucs classes, so an official checkpoint's class reference
(``demucs.htdemucs.HTDemucs``) maps onto ours by its last component.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> "module:attribute"; imported on first use so that loading the registry stays cheap.
_BUILTIN = {
    "Demucs": "stemgui.separation.nets.demucs:Demucs",
    "HDemucs": "stemgui.separation.nets.hdemucs:HDemucs",
    "HTDemucs": "stemgui.separation.nets.htdemucs:HTDemucs",
}
_EXTRA: dict[str, type] = {}


def names() -> list[str]:
    """Every architecture name a checkpoint may use."""
    return sorted({*_BUILTIN, *_EXTRA})


def register(name: str, cls: type) -> None:
    """Add an architecture (tests register tiny networks this way)."""
    _EXTRA[name] = cls


def unregister(name: str) -> None:
    _EXTRA.pop(name, None)


def get_class(name: str) -> type:
    """The class registered under ``name``; ``KeyError`` naming the known ones otherwise."""
    if name in _EXTRA:
        return _EXTRA[name]
    if name not in _BUILTIN:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(names())}")
    module_name, attribute = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def build(name: str, kwargs: dict[str, Any]) -> Any:
    """Instantiate architecture ``name`` with constructor arguments ``kwargs``."""
    return get_class(name)(**kwargs)


def name_of(model: Any) -> str:
    """The registry name of a model instance (its class name, which must be registered)."""
    name = type(model).__name__
    get_class(name)
    return name
