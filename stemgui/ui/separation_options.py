"""What a separation is asked for (``SeparationOptions``) and how the worker comes by its model:
a factory that loads the model and wraps it in a ``Separator``, and the identity of the model's
weights that the stem cache keys on. Both import torch when called, on the worker's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from stemgui.errors import CancelToken


@dataclass(frozen=True)
class SeparationOptions:
    """What a separation is asked for: the model spec and the ``Separator``'s arguments."""

    model: str = ""
    device: str = "auto"
    segment: float | None = None
    overlap: float = 0.25
    shifts: int = 0
    two_stems: str | None = None  # a stem name: keep it and sum the others as no_<stem>

    def separator_key(self) -> SeparationOptions:
        """The options that decide the ``Separator`` (two-stem mode only changes the result)."""
        return replace(self, two_stems=None)

    def stem_options(self) -> dict[str, Any]:
        """The options that change the separated stems, for the stem cache's key. Not the
        model (the cache keys on its identity), nor the device, nor two-stem mode (derived
        from the full stems, which are what the cache keeps)."""
        return {"segment": self.segment, "overlap": self.overlap, "shifts": self.shifts}


SeparatorFactory = Callable[[SeparationOptions], tuple[Any, str]]
"""options -> (a ``Separator``-like object, the model's display name)."""

ModelIdentity = Callable[[SeparationOptions, Any], "str | None"]
"""(options, cancel) -> what identifies the model's weights
(``separation.model_identity.model_identity``), or None when it cannot be told without loading
it (the stems are then neither looked up nor kept)."""


def default_separator_factory(options: SeparationOptions) -> tuple[Any, str]:
    """Load the model named by ``options`` and wrap it in a ``Separator`` (imports torch)."""
    from stemgui.separation.separator import Separator
    from stemgui.ui.models import load_model

    model, name = load_model(options.model)
    separator = Separator(
        model,
        device=options.device,
        segment=options.segment,
        overlap=options.overlap,
        shifts=options.shifts,
    )
    return separator, name


def default_model_identity(
    options: SeparationOptions, cancel: CancelToken | None = None
) -> str | None:
    """The identity of the model ``options`` names, as ``default_separator_factory`` would
    load it (imports torch; hashes the model's files once per process)."""
    from stemgui.separation.model_identity import model_identity
    from stemgui.ui.models import store_names

    if not options.model and not store_names():
        return None  # no model: loading says so
    return model_identity(options.model, cancel)
