"""Training recipes: a TOML file per recipe, merged over the defaults below and validated.

Sections: ``data``, ``model``, ``optim``, ``schedule``, ``augment``, ``eval``. Unknown sections or
keys are refused so that a typo never trains the wrong thing silently.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stemgui.audio.files import NOT_REGULAR_FILE
from stemgui.separation import (
    MAX_OVERLAP,
    MAX_SAMPLERATE,
    MAX_SEGMENT,
    MIN_SAMPLERATE,
    MIN_SEGMENT,
    registry,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {
        "roots": [],  # folders of .stem.mp4 files or stem folders; relative to the config file
        "validation": "musdb",  # "musdb" (the 14 standard tracks) or a list of track names
        "samplerate": 44100,
        "segment": 4.0,  # seconds per training excerpt
        "shift": 0.5,  # seconds of random shift (excerpts are drawn this much longer)
        "cache": "",  # decoded-track cache folder; default: <run>/../cache
        "max_tracks": 0,  # 0: all
    },
    "model": {"architecture": "Demucs", "kwargs": {}},
    "optim": {
        "lr": 3e-4,
        "beta2": 0.999,
        "weight_decay": 0.0,
        "batch_size": 8,
        # Micro-batches per step: the batch goes through the network in this many equal parts
        # whose gradients add up before the step (the same step in about 1/accumulate of the
        # activation memory: htdemucs_gpu.toml's batch of 32 needs over 22 GB on a CPU).
        "accumulate": 1,
        "clip_grad": 0.0,  # 0: no clipping
        "ema": 0.0,  # 0: no EMA; else the decay per step (e.g. 0.999)
        # One loss weight per source ([] = all equal): [0, 0, 1, 0] trains a specialist of
        # "other" (as htdemucs_ft's members are); the best checkpoint is then chosen by the
        # same weighted mean of the validation SDRs.
        "source_weights": [],
    },
    "schedule": {
        "steps": 1000,
        "eval_every": 200,
        "checkpoint_every": 50,
        "log_every": 10,
        # The last fraction of the run over which every learning rate falls linearly to zero
        # (0: constant rates). The run ends at its step count or, when time-boxed
        # (--max-minutes), at its deadline, whichever comes first.
        "anneal": 0.0,
        # Steps over which every learning rate rises in a line to its value (0: none): Adam's
        # first steps, with no moments yet, move every weight by about the full rate, which
        # knocks fine-tuned (--init) weights off their optimum.
        "warmup": 0,
    },
    "augment": {
        "channel_flip": True,
        "sign_flip": True,
        "gain": [0.25, 1.25],  # [] for none
        "remix_group": 4,  # 0 or 1: no remix
        # Changed copies of every training track, made when the run starts (0: none): each
        # played up to repitch_percent faster or slower, pitch with tempo (training.repitch).
        "repitch": 0,
        "repitch_percent": 12,
        # How often each copy is drawn against its original: 1, as often (with 2 copies, 2 in
        # 3 excerpts changed); 0.125 with 2 copies, 1 in 5 (the official recipes' share).
        "repitch_weight": 1.0,
    },
    "quant": {
        "diffq": 0.0,  # 0: off; else quantization-aware training, penalty per MB of model
        "group_size": 8,  # weights sharing one learned bit depth
        "bits_lr": 1e-3,  # Adam learning rate of the bit depths
    },
    # best.stemgui: the weights with the best validation score, by "global" (the mean over
    # tracks of the global SDR) or "musdb" (MUSDB's median over 1 s frames, then over tracks:
    # training.bsseval, the README's table). Every evaluation logs both.
    "eval": {"segment": 0.0, "overlap": 0.25, "max_tracks": 0, "metric": "global"},
    "seed": {"value": 42},
}


def _merge(base: dict, override: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in base:
            raise ValueError(f"unknown setting {where}{key}; known: {', '.join(sorted(base))}")
        if isinstance(base[key], dict) and key != "kwargs":
            if not isinstance(value, dict):
                raise ValueError(f"setting {where}{key!r} must be a table")
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def _whole(value: Any) -> bool:
    """An int and not a bool (``true`` in a recipe is not one copy or one step)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    """A finite int or float (TOML also writes inf and nan)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(low: int) -> Callable[[Any], bool]:
    return lambda v: _whole(v) and v >= low


def _within(
    low: float, high: float = float("inf"), *, above: bool = False, below: bool = False
) -> Callable[[Any], bool]:
    """A number from ``low`` (or above it) to ``high`` (or below it)."""
    return lambda v: (
        _number(v) and (v > low if above else v >= low) and (v < high if below else v <= high)
    )


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _loss_weights(value: Any) -> bool:
    weights_ok = isinstance(value, list) and all(_number(w) and w >= 0 for w in value)
    # a sum past the largest float (1e308 each) made every weight NaN, and the run trained on it
    return weights_ok and (not value or 0 < sum(value) < math.inf)


def _gain(value: Any) -> bool:
    if value == []:
        return True
    pair = isinstance(value, list) and len(value) == 2 and all(map(_number, value))
    return pair and 0 < value[0] <= value[1]


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


# What every setting may hold: a test, and the words an error says it with. A recipe is checked
# whole when it is read, so a mistyped value is refused before any data are decoded.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data.roots": (_names, "a list of folders"),
    "data.validation": (lambda v: v == "musdb" or _names(v), '"musdb" or a list of track names'),
    # as stemgui-separate --samplerate: 1e9 (every track resampled to it) was killed for memory
    "data.samplerate": (
        lambda v: _whole(v) and MIN_SAMPLERATE <= v <= MAX_SAMPLERATE,
        f"a whole number of Hz from {MIN_SAMPLERATE} to {MAX_SAMPLERATE}",
    ),
    # the network runs one excerpt when the recipe is read, before any data: 1e6 s (a length in
    # frames, say) asked 64 GB there and was said as [model.kwargs] that cannot run; the
    # model's segment, which a model file must hold within these (below 0.1 s: days a song)
    "data.segment": (
        _within(MIN_SEGMENT, MAX_SEGMENT),
        f"a number of seconds from {MIN_SEGMENT:g} to {MAX_SEGMENT:g}",
    ),
    "data.shift": (_within(0), "a number of seconds from 0"),
    "data.cache": (lambda v: isinstance(v, str), 'a folder ("": beside the run folder)'),
    "data.max_tracks": (_count(0), "a whole number of tracks from 0 (0: all)"),
    "model.architecture": (
        lambda v: v in registry.names(),
        "one of " + ", ".join(registry.names()),
    ),
    "model.kwargs": (lambda v: isinstance(v, dict), "a table of the network's arguments"),
    "optim.lr": (_within(0, above=True), "a learning rate above 0"),
    "optim.beta2": (_within(0, 1, below=True), "a number from 0 to below 1"),
    "optim.weight_decay": (_within(0), "a number from 0"),
    "optim.batch_size": (_count(1), "a whole number of excerpts from 1"),
    "optim.accumulate": (_count(1), "a whole number of micro-batches from 1"),
    "optim.clip_grad": (_within(0), "a gradient norm from 0 (0: no clipping)"),
    "optim.ema": (_within(0, 1, below=True), "a decay per step from 0 to below 1 (0: no EMA)"),
    "optim.source_weights": (
        _loss_weights,
        "[] or one weight per source, non-negative, not all zero, with a finite sum",
    ),
    "schedule.steps": (_count(0), "a whole number of steps from 0"),
    "schedule.eval_every": (_count(1), "a whole number of steps from 1"),
    "schedule.checkpoint_every": (_count(1), "a whole number of steps from 1"),
    "schedule.log_every": (_count(1), "a whole number of steps from 1"),
    "schedule.anneal": (_within(0, 1), "a fraction of the run from 0 to 1"),
    "schedule.warmup": (_count(0), "a whole number of steps from 0"),
    "augment.channel_flip": (_flag, "true or false"),
    "augment.sign_flip": (_flag, "true or false"),
    "augment.gain": (_gain, "[] or [low, high] with 0 < low <= high"),
    "augment.remix_group": (_count(0), "a whole number of tracks from 0 (0 or 1: no remix)"),
    "augment.repitch": (_count(0), "a whole number of copies from 0"),
    "augment.repitch_percent": (  # -50 %: an octave down; -99 % made copies 100 times as long
        lambda v: _whole(v) and 0 < v <= 50,
        "a whole percent from 1 to 50",
    ),
    "augment.repitch_weight": (_within(0, above=True), "a number above 0"),
    "quant.diffq": (_within(0), "a penalty per MB from 0 (0: off)"),
    "quant.group_size": (_count(1), "a whole number of weights from 1"),
    "quant.bits_lr": (_within(0, above=True), "a learning rate above 0"),
    "eval.segment": (
        lambda v: v == 0 or _within(0.1, 60)(v),  # as segment --seconds: one chunk at once
        "0 (the model's own) or a number of seconds from 0.1 to 60",
    ),
    # as eval --overlap and stemgui-separate --overlap: 0.99999 steps a frame at a time, for days
    "eval.overlap": (_within(0, MAX_OVERLAP), f"a fraction from 0 to {MAX_OVERLAP:g}"),
    "eval.max_tracks": (_count(0), "a whole number of tracks from 0 (0: all)"),
    "eval.metric": (lambda v: v in ("global", "musdb"), '"global" or "musdb"'),
    # drawn from by numpy and torch (seed * 1_000_003 + step must stay a 64-bit number)
    "seed.value": (lambda v: _whole(v) and 0 <= v < 2**32, "a whole number from 0 to 2**32 - 1"),
}


def from_dict(values: dict[str, Any]) -> dict[str, Any]:
    """Defaults overridden by ``values``, checked against ``RULES``.

    Raises:
        ValueError: an unknown setting, a value its rule refuses, or settings that conflict.
    """
    config = _merge(DEFAULTS, values, "")
    for section, settings in config.items():
        for key, value in settings.items():
            test, words = RULES[f"{section}.{key}"]
            if not test(value):
                raise ValueError(f"{section}.{key} must be {words}, got {value!r}")
    if config["quant"]["diffq"] > 0 and config["optim"]["ema"] > 0:
        # The bits are learned on the trained weights; an average of them is never quantized.
        raise ValueError("quant.diffq (quantization-aware training) needs optim.ema = 0")
    optim = config["optim"]
    if optim["batch_size"] % optim["accumulate"]:
        raise ValueError(
            f"optim.accumulate must divide the batch size {optim['batch_size']} into equal "
            f"micro-batches, got {optim['accumulate']!r}"
        )
    return config


class RecipeError(ValueError):
    """A recipe's settings that cannot train, found when the run is set up; ``python -m
    training fit`` puts the recipe file's name in front."""


def load(path: str | Path) -> dict[str, Any]:
    """Read a recipe; relative data roots and cache are taken from the recipe's folder.

    Raises:
        ValueError: it is not there, not a regular file, not TOML, or ``from_dict`` refuses it;
            the message names the file.
    """
    path = Path(path)
    if not path.is_file():  # a named pipe was read for ever, waiting for a writer
        if path.is_dir():
            what = "is a folder"
        elif path.exists():
            what = f"is {NOT_REGULAR_FILE}"
        else:  # said as "[Errno 2] No such file or directory: '...'"
            what = "no such file"
        raise ValueError(
            f"{path}: {what}; name a recipe, such as training/configs/htdemucs_cpu.toml"
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror})") from None
    try:  # utf-8-sig: a byte order mark (Windows Notepad) is no "invalid statement"
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # a song or a model given for the recipe
        raise ValueError(
            f"{path}: is not text, so no recipe; name a .toml recipe (training/configs/*.toml)"
        ) from None
    try:
        config = from_dict(tomllib.loads(text))
    except ValueError as error:  # tomllib.TOMLDecodeError is one too
        raise ValueError(f"{path}: {error}") from None
    data = config["data"]
    data["roots"] = [str((path.parent / root).resolve()) for root in data["roots"]]
    if data["cache"]:
        data["cache"] = str((path.parent / data["cache"]).resolve())
    return config


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The settings two recipes set differently, as "section.key: old -> new" lines."""

    def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, dict):
                out.update(flat(value, f"{prefix}{key}."))
            else:
                out[prefix + key] = value
        return out

    def shown(values: dict[str, Any], key: str) -> str:
        return repr(values[key]) if key in values else "unset"

    old, new = flat(before), flat(after)
    keys = list(old) + [key for key in new if key not in old]
    return [
        f"{key}: {shown(old, key)} -> {shown(new, key)}"
        for key in keys
        if shown(old, key) != shown(new, key)
    ]


def dumps(config: dict[str, Any]) -> str:
    """The config as TOML (what a run folder keeps beside its weights)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    def table(name: str, values: dict[str, Any]) -> None:
        scalars = {k: v for k, v in values.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {value(v)}" for k, v in scalars.items())
        lines.append("")
        for key, sub in tables.items():
            table(f"{name}.{key}", sub)

    for section, values in config.items():
        table(section, values)
    return "\n".join(lines)
