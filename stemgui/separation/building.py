"""Building the network a model file describes, refusing what no network can be built of.

The class comes from ``registry`` by its architecture name; the constructor arguments are
checked first (``build_network``: whole numbers, ranges, stem names, each fault named), and the
tensors must be finite (``check_finite``). ``checkpoint`` builds each entry of our files here
(``build_entry``, dequantizing a diffq state on the way); ``official`` builds the networks of
the Demucs authors' files with the same checks; ``rewrite`` checks a changed entry still builds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from pathlib import Path
from typing import Any

import torch
from torch import nn

from stemgui.errors import ModelLoadError
from stemgui.separation import (
    MAX_SAMPLERATE,
    MAX_SEGMENT,
    MIN_SAMPLERATE,
    MIN_SEGMENT,
    registry,
)
from stemgui.separation.plain_values import decode_plain


def architecture_class(path: Path, name: str) -> type:
    """The registered class for a model file's architecture ``name``, or ``ModelLoadError``."""
    try:
        return registry.get_class(name)
    except KeyError as exc:
        raise ModelLoadError(
            path,
            f"unknown architecture {name!r} is not supported by this stemgui (known: "
            f"{', '.join(registry.names())}); update stemgui, or choose another model",
        ) from exc
    except ImportError as exc:
        raise ModelLoadError(
            path, f"architecture {name!r} is not available ({exc}); reinstall stemgui"
        ) from exc


# Arguments every network of the Demucs family names, and the values a network can be built of:
# a file edited by hand (channels -1, stride 0, segment 0) was built, or half built, and then
# failed with a traceback or ran chunks of no length for ever.
_POSITIVE_WHOLE = (
    "channels",
    "channels_time",
    "depth",
    "kernel_size",
    "stride",
    "time_stride",
    "nfft",
    "norm_groups",
    "t_heads",
)
_WHOLE = ("t_layers", "lstm_layers", "context", "context_enc", "bottom_channels")  # 0: none
_POSITIVE = ("growth",)
# Within the ranges a model may use (training's data.samplerate and data.segment): a samplerate
# of 1e9 or a segment of 1e6 s loaded, then asked for gigabytes at the first song (every song
# resampled to that rate, every chunk padded to that length) and failed for memory; a segment
# of 0.001 s ran a forward every 44 samples, days for a song.
_RANGES = {
    # a song is decoded to mono or stereo only: a model of 3 channels loaded, then every song
    # failed, said as the song's fault ('cannot be converted to 3 channels')
    "audio_channels": (
        lambda v: v in (1, 2) and not isinstance(v, float),
        "1 (mono) or 2 (stereo)",
    ),
    "samplerate": (
        lambda v: isinstance(v, int) and MIN_SAMPLERATE <= v <= MAX_SAMPLERATE,
        f"a whole number of Hz from {MIN_SAMPLERATE} to {MAX_SAMPLERATE}",
    ),
    "segment": (
        lambda v: isinstance(v, Real) and MIN_SEGMENT <= v <= MAX_SEGMENT,  # nan too
        f"a number of seconds from {MIN_SEGMENT:g} to {MAX_SEGMENT:g}",
    ),
}


def _argument_fault(kwargs: Mapping[str, Any]) -> str | None:
    """What is wrong with the common constructor arguments in ``kwargs``, or None.

    An argument left out (the class's default) or None (``channels_time``, a Demucs ``segment``)
    is not checked here.
    """
    sources = kwargs.get("sources")
    if sources is not None and (
        not isinstance(sources, list | tuple)
        or not sources
        or not all(isinstance(source, str) and source for source in sources)
    ):
        return f"sources must be a list of stem names, not {sources!r}"
    if sources is not None and len({source.casefold() for source in sources}) < len(sources):
        # two stems of one name: every song failed once separated, in the app ('stem names must
        # be unique') and the CLI (their files the same), Drums and drums too where case is ignored
        return f"sources must name each stem once, not {list(sources)!r}"
    for key in (*_POSITIVE_WHOLE, *_WHOLE, *_POSITIVE, *_RANGES):
        value = kwargs.get(key)
        if value is None:
            continue
        if key in _RANGES:
            test, wanted = _RANGES[key]
            valid = test(value)
        elif key in _POSITIVE:
            valid = isinstance(value, Real) and 0 < value < math.inf  # nan too
            wanted = "a number above 0"
        else:
            least = 1 if key in _POSITIVE_WHOLE else 0
            valid = isinstance(value, int) and value >= least
            wanted = "a positive whole number" if least else "a whole number, 0 or more"
        if isinstance(value, bool) or not valid:
            return f"{key} must be {wanted}, not {value!r}"
    return None


def build_network(
    path: Path, name: str, cls: type, kwargs: dict[str, Any], remedy: str
) -> nn.Module:
    """``cls(**kwargs)``, the network a model file ``path`` describes as architecture ``name``.

    Raises:
        ModelLoadError: an argument no network can be built of (naming it), or the network
            refusing its arguments; the message ends with ``remedy`` (what to do).
    """
    fault = _argument_fault(kwargs)
    if fault is not None:
        raise ModelLoadError(path, f"{name}: {fault}; {remedy}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, ArithmeticError, RuntimeError) as exc:
        raise ModelLoadError(
            path, f"{name} cannot be built from the stored arguments: {exc}; {remedy}"
        ) from exc


def check_finite(path: Path, name: str, state: Mapping[str, torch.Tensor], remedy: str) -> None:
    """Refuse the tensors ``state`` of the network ``name`` in the model file ``path`` when one
    holds a NaN or an infinite value: every stem the network makes would be NaN (the song's
    files written as silence, said only as a warning).

    Raises:
        ModelLoadError: naming the tensor; the message ends with ``remedy`` (what to do).
    """
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelLoadError(
                path, f"{name}: tensor {key} holds NaN or infinite values (damaged); {remedy}"
            )


def build_entry(path: Path, entry: Any) -> nn.Module:
    """The network of one stored model entry of the file ``path``: eval mode, float32, CPU.

    Raises:
        ModelLoadError: the entry is malformed, its architecture unknown, or its tensors do not
            fit the network built from its arguments.
    """
    required = ("architecture", "kwargs", "sources", "samplerate", "audio_channels", "state")
    if (  # each of another type (edited by hand) was a traceback: TypeError, AttributeError
        not isinstance(entry, dict)
        or any(key not in entry for key in required)
        or not isinstance(entry["architecture"], str)
        or not isinstance(entry["kwargs"], dict)
        or not isinstance(entry["sources"], list | tuple)
    ):
        raise ModelLoadError(path, "malformed stemgui model entry; export it again")
    name = entry["architecture"]
    cls = architecture_class(path, name)
    model = build_network(
        path, name, cls, decode_arguments(path, entry["kwargs"]), "download or export it again"
    )
    state = entry["state"]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in state.items()
    ):
        raise ModelLoadError(
            path, "malformed stemgui model entry (state is not tensors); export it again"
        )
    if entry.get("quantized") is not None:
        state = {**_dequantized(path, model, entry["quantized"]), **state}
    check_finite(path, name, state, "download or export it again")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(
            path,
            f"tensors do not fit the {name} architecture: {exc}; download or export it again",
        ) from exc
    for attribute in ("sources", "samplerate", "audio_channels"):
        stored = list(entry[attribute]) if attribute == "sources" else entry[attribute]
        built = getattr(model, attribute, None)
        built = list(built) if attribute == "sources" and built is not None else built
        if built != stored:
            raise ModelLoadError(
                path,
                f"{attribute} of the built {name} ({built!r}) differ "
                f"from the file's ({stored!r}); export it again",
            )
    return model.float().eval()


def decode_arguments(path: Path, stored: Any) -> Any:
    """``decode_plain(stored)``, the arguments stored in the model file ``path``, or
    ``ModelLoadError`` for a damaged one."""
    try:
        return decode_plain(stored)
    except ValueError as exc:
        raise ModelLoadError(
            path, f"malformed stemgui model entry ({exc}); export it again"
        ) from exc


def _dequantized(path: Path, model: nn.Module, stored: Any) -> dict[str, torch.Tensor]:
    from stemgui.separation.diffq_state import QuantizedStateError, dequantize_state

    if (
        not isinstance(stored, dict)
        or not isinstance(stored.get("quantizer"), str)
        or not isinstance(stored.get("init_kwargs", {}), dict)
    ):
        raise ModelLoadError(path, "malformed quantized state; export it again")
    meta = {
        "klass": stored["quantizer"],
        "init_kwargs": decode_arguments(path, stored.get("init_kwargs", {})),
        "packed": stored.get("packed", False),
        "torch_pack": stored.get("torch_pack", False),
    }
    lists = {key: stored.get(key) for key in ("quantized", "float16", "others")}
    try:
        return dequantize_state(model, {**lists, "meta": meta})
    except QuantizedStateError as exc:
        raise ModelLoadError(
            path, f"quantized state cannot be read: {exc}; download or export it again"
        ) from exc
