"""The tiny recipe, tracks and trainer that the training-loop tests share, a data folder of
one silent validation track for the commands that take --data, the MUSDB validation names that
the ``musdb_like`` fixture's folders have, and the two members of a bag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from training import config as config_mod
from training.fit import Trainer

TINY = {
    "data": {"segment": 0.25, "shift": 0.05},
    "model": {
        "architecture": "Demucs",
        "kwargs": {
            "channels": 4,
            "depth": 2,
            "lstm_layers": 0,
            "dconv_mode": 0,
            "rewrite": False,
            "resample": False,
            "normalize": True,
        },
    },
    "optim": {"lr": 3e-3, "batch_size": 4, "ema": 0.9, "clip_grad": 5.0},
    "schedule": {"steps": 40, "eval_every": 20, "checkpoint_every": 5, "log_every": 1},
    "augment": {"remix_group": 2},
    "seed": {"value": 7},
}

# Two of the MUSDB validation names: the validation split of a data folder holding them.
VALID = ["Actions - One Minute Smile", "Leaf - Summerghost"]


def generated_tracks(count: int, seconds: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    """Tracks of four easy sources: low tone, noise bursts, mid tone, high tone."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * 44100)
    t = np.arange(frames) / 44100
    tracks = []
    for _ in range(count):
        drums = rng.standard_normal(frames) * (np.sin(2 * np.pi * 4 * t) > 0.8) * 0.3
        bass = 0.3 * np.sin(2 * np.pi * rng.uniform(50, 90) * t)
        other = 0.2 * np.sin(2 * np.pi * rng.uniform(400, 600) * t)
        vocals = 0.2 * np.sin(2 * np.pi * rng.uniform(1500, 2500) * t)
        stems = np.stack([np.stack([s, s]) for s in (drums, bass, other, vocals)])
        tracks.append(np.concatenate([stems.sum(0, keepdims=True), stems]).astype(np.float32))
    return tracks


def silent_valid_track(tmp_path, rate: int = 44100) -> list[str]:
    """One second of silence per stem at ``rate`` in tmp_path/data, under a MUSDB validation
    name: the --data and --cache arguments that read it."""
    import soundfile as sf

    song = tmp_path / "data" / "Leaf - Summerghost"
    song.mkdir(parents=True)
    for stem in ("drums", "bass", "other", "vocals"):
        sf.write(song / f"{stem}.wav", np.zeros((rate, 2), np.float32), rate)
    return ["--data", str(tmp_path / "data"), "--cache", str(tmp_path / "cache")]


def make(tmp_path, name="run", overrides=None, **kwargs):
    values = json.loads(json.dumps(TINY))
    for section, options in (overrides or {}).items():
        values.setdefault(section, {}).update(options)
    config = config_mod.from_dict(values)
    return Trainer(
        config,
        tmp_path / name,
        train_tracks=generated_tracks(4),
        valid_tracks=generated_tracks(2, seed=1),
        **kwargs,
    )


def script_scores(trainer, rows):
    """``trainer.evaluate`` returns, in turn, every source at (global, MUSDB) of ``rows``."""
    rows = iter(rows)

    def evaluate():
        scores = dict(zip(("global", "musdb"), next(rows)))
        return {k: {**dict.fromkeys(trainer.model.sources, v), "all": v} for k, v in scores.items()}

    trainer.evaluate = evaluate


def two_members(model: Path) -> list[str]:
    """``model`` and a copy of it beside it, n.stemgui: ``bag`` averages two models or more."""
    other = model.with_name("n.stemgui")
    shutil.copy(model, other)
    return [str(model), str(other)]
