"""Resuming a run of ``training.fit.Trainer`` from its folder: ``last.pt`` saved, checked and
loaded, and what changed since the sessions before.

``last.pt`` holds the resumable state: model, optimizer, EMA, step, best score and the metric it
was measured by, history, and what the batches were drawn from (plain tensors, weights_only).
A folder is refused, before any data are decoded, when its recipe trained another network or
loss, or a run file is damaged; steps, learning rate, data and schedule may change between
sessions. A change that makes the scores before incomparable (the metric, the validation
tracks or how they are separated) chooses ``best.stemgui`` afresh, and says so; so does
training data that changed (the batches are no longer an uninterrupted run's) and an
``--init`` that a resumed run does not use.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from training.runfiles import error_line, read_provenance, read_recipe, save_tensors

log = logging.getLogger(__name__)

# The settings a validation score depends on (data.roots too: relative track names): scores
# before and after a change of one do not compare, so the best is chosen afresh.
_VALIDATION_SETTINGS = (
    ("data", "roots"),
    ("data", "validation"),
    ("data", "max_tracks"),
    ("eval", "max_tracks"),
    ("eval", "segment"),
    ("eval", "overlap"),
)

_RESULTS = ("best.stemgui", "history.json")  # a run's results, kept beside its last.pt


class ResumableState:
    """``last.pt`` and the checks of a resumed run, a part of ``training.fit.Trainer``."""

    config: dict[str, Any]
    run_dir: Path
    model: nn.Module
    optimizer: torch.optim.Optimizer
    ema: nn.Module | None
    step: int
    history: list[dict[str, Any]]
    best_sdr: float
    best_metric: str
    init: str | None
    data_print: list[int]  # (tracks, frames) the batches are drawn from
    saved_step: int | None  # the step of last.pt as on disk (None: none)
    _state: tuple[tuple[int, int, int], dict[str, Any]] | None  # last.pt read
    _provenance_before: dict[str, Any] | None  # provenance.json as resumed

    def save_state(self) -> None:
        """Write ``last.pt`` atomically: a kill or a full disk mid-write leaves the previous one
        intact, and the error names the file and the step the run resumes from."""
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "best_sdr": self.best_sdr,
            "best_metric": self.best_metric,  # what best_sdr was measured by
            "history": json.dumps(self.history),
            "data": self.data_print,
        }
        self._write_file(self.last_path, lambda part: save_tensors(state, part))
        self.saved_step = self.step

    def check_resumable(self) -> dict[str, Any] | None:
        """Refuse to continue a run folder whose recipe trained another network or loss, or
        whose saved state, recipe or provenance cannot be read (all before any data are decoded).

        The network (architecture and arguments), the per-source loss weights, diffq's penalty
        and group size must be those of the run it resumes; steps, learning rate, data and
        schedule may change between sessions. Returns the recipe the folder ran so far (None for
        a new run).

        Raises:
            ValueError: they differ, naming the setting and the run folder; or a run file is
                damaged, naming it; or the folder is inside another run's or holds one.
        """
        for parent in self.run_dir.resolve().parents:  # runs/a/b: b's files would be a's too
            held = [n for n in ("last.pt", *_RESULTS) if (parent / n).exists()]
            if held:
                raise ValueError(
                    f"{self.run_dir} is inside the folder of another run, {parent} (its "
                    f"{', '.join(held)}): train into a --run folder outside it"
                )
        if self.run_dir.is_dir():  # fit --run runs: the folder of the runs, not of one run
            inner = sorted(d.name for d in self.run_dir.iterdir() if (d / "last.pt").exists())
            if inner:
                raise ValueError(
                    f"{self.run_dir} holds the folders of other runs ({', '.join(inner)}): "
                    "train into a --run folder of this run's own, such as a new one in it"
                )
        recorded = self.run_dir / "config.toml"
        results = [n for n in _RESULTS if (self.run_dir / n).exists()]
        if results and not self.last_path.exists():
            raise ValueError(
                f"{self.run_dir} holds a run's results ({', '.join(results)}) but no last.pt to "
                "resume it from: train into another --run folder, or move them aside"
            )
        if not self.last_path.exists():
            return None
        self._read_state()
        if not recorded.exists():
            return None
        before = read_recipe(recorded)
        self._provenance_before = read_provenance(self.run_dir / "provenance.json")
        settings = [("model", None), ("optim", "source_weights"), ("quant", "diffq")]
        if self.config["quant"]["diffq"] > 0:  # the shape of the bits' logits in last.pt
            settings.append(("quant", "group_size"))
        for section, key in settings:
            old, new = before[section], self.config[section]
            if key is not None:
                old, new = old[key], new[key]
            if old != new:
                name = section if key is None else f"{section}.{key}"
                raise ValueError(
                    f"{self.run_dir} holds a run with another {name} ({old} there, {new} now): "
                    "resume it with its own recipe, or train into another --run folder"
                )
        return before

    def _read_state(self) -> dict[str, Any]:
        """``last.pt``, read on the CPU and checked against the recipe's network (kept until
        ``load_state`` takes it, unless the file changes).

        Raises:
            ValueError: it cannot be read or its weights do not fit the network, naming it.
        """
        stat = self.last_path.stat()
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._state is not None and self._state[0] == key:
            return self._state[1]
        try:
            state = torch.load(self.last_path, map_location="cpu", weights_only=True)
            int(state["step"])
            float(state["best_sdr"])
            json.loads(state["history"])
            saved = dict(state["model"])
            if not {"state", "param_groups"} <= dict(state["optimizer"]).keys():
                raise KeyError("optimizer state")
        except (
            OSError,  # a file cut short: torch's "[Errno 22] Invalid argument", naming nothing
            RuntimeError,
            EOFError,
            pickle.UnpicklingError,
            KeyError,
            TypeError,
            ValueError,
        ) as error:
            # torch's refusal of an unpickling says to load it unsafely: not for a damaged file
            unreadable = isinstance(error, pickle.UnpicklingError)
            reason = "damaged, or not a saved state" if unreadable else error_line(error)
            raise ValueError(
                f"{self.last_path}: this run's saved state cannot be read ({reason}); "
                "train into another --run folder, or move this one aside"
            ) from None
        for name, tensor in self.model.state_dict().items():  # diffq's logits come later
            if name not in saved or not isinstance(saved[name], torch.Tensor):
                mismatch = f"it has no {name}"
            elif saved[name].shape != tensor.shape:
                mismatch = f"{name} is {list(saved[name].shape)} there, {list(tensor.shape)} now"
            else:
                continue
            raise ValueError(
                f"{self.last_path}: this run's saved weights do not fit the recipe's network "
                f"({mismatch}); resume it with its own recipe, or train into another --run folder"
            )
        self._state = (key, state)
        self.saved_step = int(state["step"])
        return state

    def load_state(self) -> bool:
        """Continue from ``last.pt`` if the run folder has one; True when it did."""
        if not self.last_path.exists():
            return False
        state = self._read_state()
        self._state = None  # in the model and optimizer from here
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])  # with saved rates: self.rates
            if self.ema is not None:  # turned on by this session: it averages from here
                self.ema.load_state_dict(state["ema"] or state["model"])
        except (RuntimeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{self.last_path}: this run's saved state does not fit the recipe's network "
                f"({error_line(error)}); resume it with its own recipe, or train into another "
                "--run folder"
            ) from None
        self.step = int(state["step"])
        self.best_sdr = float(state["best_sdr"])
        if not (self.run_dir / "best.stemgui").exists():  # killed before writing it
            self.best_sdr = -math.inf
        self.best_metric = str(state.get("best_metric", "global"))  # before there were two
        self.history = json.loads(state["history"])
        drawn_from = state.get("data")  # (tracks, frames); not in runs before it was kept
        log.info("resumed %s at step %d", self.run_dir, self.step)
        if drawn_from is not None and list(drawn_from) != self.data_print:
            log.warning(
                "%s: the training data changed since step %d (%d tracks, %d frames; now %d, "
                "%d): the batches from here are not those of an uninterrupted run",
                self.run_dir,
                self.step,
                *drawn_from,
                *self.data_print,
            )
        return True

    def _compare_with_before(self, before: dict[str, Any] | None) -> None:
        """Of a resumed run: forget the best score when it was measured by another metric, or
        on a validation that changed since (``before``: the recipe the run ran so far), saying
        so; scores before and after do not compare."""
        metric = self.config["eval"]["metric"]
        if self.best_metric != metric:
            log.warning(
                "%s: best.stemgui was chosen by the %s SDR until step %d, by the %s SDR from now",
                self.run_dir,
                self.best_metric,
                self.step,
                metric,
            )
            self.best_sdr = -math.inf  # the scores of the two metrics do not compare
            self.best_metric = metric
        measured_by = [  # what the validation score depends on: changed, it compares no more
            f"{section}.{key}"
            for section, key in _VALIDATION_SETTINGS
            if before is not None and before[section][key] != self.config[section][key]
        ]
        if measured_by and self.best_sdr > -math.inf:
            log.warning(
                "%s: the validation changed (%s): best.stemgui is kept until the first "
                "validation by the new one, which takes its place",
                self.run_dir,
                ", ".join(measured_by),
            )
            self.best_sdr = -math.inf

    def _say_init_unused(self, given: str) -> None:
        """Of a resumed run given ``--init``: it continues from its last.pt, not from ``given``
        (said as a warning unless its weights did start from that file)."""
        # as provenance.json recorded it: self.init is still ``given`` for a finished run
        started = (self._provenance_before or {}).get("init")
        origin = str(started or "").split(" (member ")[0]  # the file, of a bag too
        log.log(
            logging.INFO if origin == given else logging.WARNING,
            "--init %s is not used: %s resumes from its last.pt at step %d (its weights "
            "started from %s)",
            given,
            self.run_dir,
            self.step,
            started or "scratch",
        )
