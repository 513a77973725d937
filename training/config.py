"""Training recipes: a TOML file per recipe, merged over the defaults below and validated.

Sections: ``data``, ``model``, ``optim``, ``schedule``, ``augment``, ``eval``. Unknown sections or
keys are refused so that a typo never trains the wrong thing silently.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

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
    "eval": {"segment": 0.0, "overlap": 0.25, "max_tracks": 0},
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


def from_dict(values: dict[str, Any]) -> dict[str, Any]:
    """Defaults overridden by ``values``; ``ValueError`` for unknown keys or a bad mix."""
    config = _merge(DEFAULTS, values, "")
    if config["quant"]["diffq"] > 0 and config["optim"]["ema"] > 0:
        # The bits are learned on the trained weights; an average of them is never quantized.
        raise ValueError("quant.diffq (quantization-aware training) needs optim.ema = 0")
    optim = config["optim"]
    parts = optim["accumulate"]
    if not _whole(parts) or parts < 1 or optim["batch_size"] % parts:
        raise ValueError(
            f"optim.accumulate must be a whole number of micro-batches dividing the batch size "
            f"{optim['batch_size']}, got {parts!r}"
        )
    anneal = config["schedule"]["anneal"]
    if not 0 <= anneal <= 1:
        raise ValueError(f"schedule.anneal is a fraction of the run, from 0 to 1, got {anneal!r}")
    warmup = config["schedule"]["warmup"]
    if not (_whole(warmup) and warmup >= 0):
        raise ValueError(f"schedule.warmup is a number of steps, got {warmup!r}")
    augment = config["augment"]
    if not (_whole(augment["repitch"]) and augment["repitch"] >= 0):
        raise ValueError(f"augment.repitch is a number of copies, got {augment['repitch']!r}")
    if not (_whole(augment["repitch_percent"]) and 0 < augment["repitch_percent"] < 100):
        raise ValueError(
            f"augment.repitch_percent is a whole percent from 1 to 99, got "
            f"{augment['repitch_percent']!r}"
        )
    copy_weight = augment["repitch_weight"]
    if not (_whole(copy_weight) or isinstance(copy_weight, float)) or copy_weight <= 0:
        raise ValueError(f"augment.repitch_weight must be above 0, got {copy_weight!r}")
    weights = optim["source_weights"]
    if weights and (min(weights) < 0 or sum(weights) <= 0):
        raise ValueError("optim.source_weights must be non-negative and not all zero")
    return config


def load(path: str | Path) -> dict[str, Any]:
    """Read a recipe; relative data roots and cache are taken from the recipe's folder."""
    path = Path(path)
    with open(path, "rb") as handle:
        config = from_dict(tomllib.load(handle))
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
