"""How each session of a run is recorded in its folder: the recipe, the provenance, the commit.

``config.toml`` is the recipe as run (defaults filled in); a session that resumes at step N
with another recipe keeps the one before as ``config-until-step-N.toml``. ``provenance.json``
holds the git commit, software versions, data and start time of this session, and under
"earlier" the commit, start time and device of each session it resumed; ``best.stemgui``
carries the same record (``training.validation``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training import config as config_mod
from training import data as data_mod

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """The commit of the code that trains, with ``-dirty`` when the tree has local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


class SessionRecord:
    """The recipe and provenance each session writes, a part of ``training.fit.Trainer``."""

    config: dict[str, Any]
    device: torch.device
    run_dir: Path
    step: int
    world: int
    init: str | None  # the checkpoint the weights started from (fine-tuning), if any
    session: dict[str, Any]
    track_count: int
    valid_tracks: list[np.ndarray]
    _provenance_before: dict[str, Any] | None  # provenance.json as resumed

    def _write_run_files(self, before: dict[str, Any] | None) -> None:
        """The recipe and provenance of this session; a recipe that differs from ``before``,
        the one the resumed steps ran, keeps that one beside it as config-until-step-N.toml."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        recorded = self.run_dir / "config.toml"
        changes = [] if before is None else config_mod.differences(before, self.config)
        if changes:
            kept = recorded.with_name(f"config-until-step-{self.step}.toml")
            if not kept.exists():  # else a session that ran no step left config.toml changed
                # a copy: config.toml is never missing
                self._write_file(kept, lambda part: shutil.copyfile(recorded, part))
            log.warning(
                "%s resumes at step %d with another recipe (%s); the one before is kept in %s",
                self.run_dir,
                self.step,
                "; ".join(changes),
                kept.name,
            )
        text = config_mod.dumps(self.config)
        self._write_file(recorded, lambda part: part.write_text(text, encoding="utf-8"))
        earlier = []
        old = self._provenance_before if before is not None else None
        if old:  # a resumed run: keep who ran its steps so far
            session = {key: old.get(key) for key in ("git_commit", "started", "device")}
            earlier = [*old.get("earlier", []), {**session, "until_step": self.step}]
            self.init = old.get("init")  # what its weights started from, not this --init
        self.session = {**self.provenance(), "earlier": earlier}
        recorded_session = json.dumps(self.session, indent=2) + "\n"
        self._write_file(
            self.run_dir / "provenance.json",
            lambda part: part.write_text(recorded_session, encoding="utf-8"),
        )

    def provenance(self) -> dict[str, Any]:
        import stemgui

        return {
            "git_commit": git_commit(),
            "stemgui": stemgui.__version__,
            "torch": torch.__version__,
            "data_roots": self.config["data"]["roots"],  # as found on this machine
            "data": [data_mod.describe(root) for root in self.config["data"]["roots"]],
            "train_tracks": self.track_count,
            "valid_tracks": len(self.valid_tracks),
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "world_size": self.world,
            "device": str(self.device),
            "init": self.init,  # the checkpoint the weights started from (fine-tuning), if any
        }
