"""The network a recipe describes, and the weights a fine-tuning (``--init``) starts from.

``build_model`` refuses, in one line naming the recipe's setting, a network that cannot be made
or cannot run, before any data are decoded; ``start_from`` loads a stemgui checkpoint or an
official file into it, choosing from a bag the member closest to the recipe's loss weights.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from training import config as config_mod
from training import data as data_mod

log = logging.getLogger(__name__)


def build_model(config: dict[str, Any]) -> nn.Module:
    """The network a recipe describes; sources and samplerate come from the data section."""
    kwargs = dict(config["model"]["kwargs"])
    sources = list(kwargs.setdefault("sources", list(data_mod.SOURCES)))
    if sources != list(data_mod.SOURCES):  # the loss pairs outputs and stems by position
        raise config_mod.RecipeError(
            f"[model.kwargs] sources = {sources}: the training data's stems are "
            f"{list(data_mod.SOURCES)}, in that order; leave sources out of the recipe"
        )
    rate = config["data"]["samplerate"]
    if kwargs.setdefault("samplerate", rate) != rate:  # 0 trained, then failed at validation
        raise config_mod.RecipeError(
            f"[model.kwargs] samplerate = {kwargs['samplerate']!r}: the network runs at the "
            f"data's rate (data.samplerate = {rate}); leave samplerate out of [model.kwargs]"
        )
    if kwargs.get("audio_channels", 2) != 2:  # every track is decoded to stereo
        raise config_mod.RecipeError(
            f"[model.kwargs] audio_channels = {kwargs['audio_channels']!r}: the network takes the "
            "data's 2 channels (every track is decoded to stereo); leave audio_channels out of "
            "[model.kwargs]"
        )
    architecture = config["model"]["architecture"]
    # A network that cannot be made or run is refused in one line: torch's warnings about its
    # empty layers, said on the way, are dropped then (they hid that line), and said otherwise.
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            model = registry.build(architecture, kwargs)
        # an argument it does not take, or a value it cannot use (stride = 0: ZeroDivisionError)
        except (TypeError, ValueError, RuntimeError, ArithmeticError) as error:
            raise config_mod.RecipeError(
                f"[model.kwargs] do not make a {architecture}: {error}"
            ) from None
        # One excerpt through it, before any data are decoded: arguments it takes may still
        # make a network that cannot run (channels = 4: layers of no channels).
        frames = round(config["data"]["segment"] * config["data"]["samplerate"])
        try:
            with torch.no_grad():
                model(torch.zeros(1, model.audio_channels, frames))
        except (RuntimeError, ArithmeticError) as error:
            reason = str(error).strip().splitlines()[0] or type(error).__name__
            raise config_mod.RecipeError(
                f"[model.kwargs] make a {architecture} that cannot run: {reason}"
            ) from None
    for warning in said:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def start_from(
    model: nn.Module, path: str | Path, architecture: str, source_weights: Sequence[float]
) -> str:
    """Load the weights of ``path`` (a stemgui checkpoint or an official file) into ``model``;
    of a bag, the member closest to ``source_weights`` (``closest_member``). Returns what the
    weights started from, as provenance records it: the file's name, and the member of a bag.

    Raises:
        ValueError: ``path`` holds another architecture, or weights that do not fit ``model``.
    """
    from stemgui.separation.official import load_any  # an official .th file too

    start = load_any(path)
    origin = Path(path).name
    if isinstance(start, BagOfModels):
        index = closest_member(start.weights, source_weights)
        log.info("starting from member %d of the bag %s", index, path)
        start = start.models[index]
        origin = f"{Path(path).name} (member {index})"  # what provenance records
    if registry.name_of(start) != architecture:
        raise ValueError(
            f"{path}: a {registry.name_of(start)}, the recipe's a {architecture}; start from a "
            "model of the recipe's network"
        )
    # weights of the same shapes: each output would start from those of another stem
    mine, theirs = (list(model.sources), model.samplerate), (list(start.sources), start.samplerate)
    if theirs != mine:
        raise ValueError(
            f"{path}: it separates {theirs[0]} at {theirs[1]} Hz, the recipe's network "
            f"{mine[0]} at {mine[1]} Hz; start from a model of the recipe's stems and rate"
        )
    try:
        model.load_state_dict(start.state_dict())
    except RuntimeError as error:  # the same network with other arguments (channels, ...)
        first = str(error).splitlines()[-1].strip()
        raise ValueError(
            f"{path}: its weights do not fit the recipe's [model.kwargs] ({first})"
        ) from None
    log.info("starting from the weights of %s", path)
    return origin


def closest_member(bag_weights: Sequence[Sequence[float]], weights: Sequence[float]) -> int:
    """Index of the bag member whose per-source weights point most nearly the way ``weights``
    do (cosine): the general model for equal weights, the specialist for a one-source recipe."""

    def direction(vector: Sequence[float]) -> np.ndarray:
        # over its largest weight first: the norm of [0, 0, 1e308, 0] overflowed, every
        # similarity was NaN and the first member was taken
        vector = np.asarray(vector, dtype=float)
        largest = np.abs(vector).max()
        return vector / largest if largest > 0 else vector

    target = direction(weights)
    similarity = [
        np.dot(member, target) / (np.linalg.norm(member) * np.linalg.norm(target))
        for member in map(direction, bag_weights)
    ]
    return int(np.argmax(similarity))
