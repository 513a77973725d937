"""The training loop: L1 on waveforms, Adam, optional EMA and gradient clipping, resumable runs.

With ``[schedule] anneal = f`` the learning rates fall in a straight line to zero over the last
fraction f of the run (of its steps, or of its time when time-boxed): the weights settle at the
end of a short fine-tuning instead of stopping wherever the last full-rate step left them.

With ``[quant] diffq = penalty`` the run is quantization-aware (diffq): the loss gains
``penalty * model size (MB)``, every bit depth is learned, validation sees the truly quantized
model and ``best.stemgui`` stores it packed (``training.quantize.QuantizationAwareTraining``).

A run folder holds everything about a run:
    config.toml      the recipe as run (defaults filled in)
    config-until-step-N.toml  the recipe before, when a run resumed at step N with another
    provenance.json  git commit, software versions, data, start time; and under "earlier"
                     the commit, start time and device of each session it resumed
    history.json     one entry per logged step (loss) and per evaluation (validation SDR, global
                     ``valid_*`` and MUSDB's ``musdb_*``)
    history.csv      the same, flat, for spreadsheets
    last.pt          the resumable state: model, optimizer, EMA, step (plain tensors, weights_only)
    best.stemgui     the best model by validation SDR (``[eval] metric``: the global SDR or
                     MUSDB's), in stemgui's checkpoint format; a fine-tuning (``--init``) scores
                     its starting weights first, so it is never worse than them by that score
                     (without validation tracks: the latest weights at each evaluation step)
    curves.png       loss and validation SDR curves
    fit.lock         while a ``fit`` trains in the folder: its process id and machine

Every file is written under a temporary name and renamed when complete (``atomic_path``): a
full disk or a kill mid-write leaves the one before as it was, and the error names the file.
Two ``fit`` processes never train in one folder: the second is refused, naming the first.

Every batch is a pure function of (seed, step): a run interrupted at any moment and resumed from
``last.pt`` sees the same batches and ends with the same weights as an uninterrupted one.
Distributed training (``torchrun``): every rank draws and augments the same global batch and
trains on its own slice; DistributedDataParallel averages the gradients (gloo on CPU, nccl on GPU).
With ``[optim] accumulate = K`` each rank's slice goes through the network in K micro-batches
whose gradients add up before the step: the step of the whole batch in less memory.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as _dt
import json
import logging
import math
import os
import pickle
import shutil
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stemgui.audio.atomic import atomic_path, clean_stale_parts
from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from training import augment as aug
from training import config as config_mod
from training import data as data_mod
from training.quantize import plain_parameters
from training.runfiles import (
    FULL,
    error_line,
    lock_holder,
    plot_history,
    read_lock,
    read_provenance,
    read_recipe,
    save_tensors,
    write_errno,
    write_reason,
)

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


class Trainer:
    """Trains one model in one run folder; ``run()`` continues from ``last.pt`` if present.

    Args:
        config: a recipe as returned by ``training.config.load`` / ``from_dict``.
        run_dir: the run folder (created).
        device: "cpu", "cuda", "cuda:1", ...
        train_tracks / valid_tracks: decoded tracks (1 + sources, channels, frames) to use instead
            of the recipe's data roots (tests and generated data).
        init: a stemgui checkpoint to start from (fine-tuning a shipped model).
    """

    def __init__(
        self,
        config: dict[str, Any],
        run_dir: str | Path,
        *,
        device: str = "cpu",
        train_tracks: Sequence[np.ndarray] | None = None,
        valid_tracks: Sequence[np.ndarray] | None = None,
        init: str | Path | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = torch.device(device)
        self.rank, self.world = _distributed_rank_world()
        self.is_main = self.rank == 0
        seed = config["seed"]["value"]
        # The network first: a recipe or --init file it refuses costs no decoding.
        torch.manual_seed(seed)
        self.model = build_model(config).to(self.device)
        if config["quant"]["diffq"] > 0:  # needed after the decode: missing, said before it
            from training.quantize import DiffqMissing, require_diffq

            try:
                require_diffq(f"[quant] diffq = {config['quant']['diffq']:g}")
            except DiffqMissing as missing:
                raise config_mod.RecipeError(f"{missing}, or set diffq = 0") from None
        weights = config["optim"]["source_weights"] or [1.0] * len(self.model.sources)
        if len(weights) != len(self.model.sources):
            raise config_mod.RecipeError(
                f"optim.source_weights has {len(weights)} weights for "
                f"{len(self.model.sources)} sources ({', '.join(self.model.sources)})"
            )
        self.source_weights = torch.tensor(weights, dtype=torch.float32, device=self.device)
        self.source_weights /= self.source_weights.sum()
        self.init = None if init is None else Path(init).name
        self.session: dict[str, Any] = {}  # this session's provenance, once run() starts
        self.interrupted = False  # the last run() stopped on Ctrl-C, state saved
        self.saved_step: int | None = None  # the step of last.pt as on disk (None: none)
        self._state: tuple[tuple[int, int, int], dict[str, Any]] | None = None  # last.pt read
        self._provenance_before: dict[str, Any] | None = None  # provenance.json as resumed
        # A folder it must not train in (another fit in it, damaged or other run files):
        # refused before the decode.
        if self.is_main:
            self._refuse_if_locked()
        self.check_resumable()
        if init is not None and not self.last_path.exists():  # resuming: last.pt's weights
            self._init_from(init)

        data = config["data"]
        if train_tracks is None:
            train_tracks, valid_tracks = self._load_tracks()
        self.valid_tracks = list(valid_tracks or [])
        if not self.valid_tracks and self.is_main:
            log.warning(
                "no validation tracks: best.stemgui will hold the latest weights, unscored; "
                "name some tracks in the recipe's [data] validation = [...] to keep the best"
            )
        self.samplerate = data["samplerate"]
        self.segment = round(data["segment"] * self.samplerate)
        self.shift = round(data["shift"] * self.samplerate)
        augment = config["augment"]
        self.track_count = len(train_tracks)  # what provenance reports: without changed copies
        # what the batches are drawn from, kept in last.pt: a resumed run on other data is said
        self.data_print = [len(train_tracks), int(sum(t.shape[-1] for t in train_tracks))]
        draw = [1.0] * len(train_tracks)
        if augment["repitch"]:
            from training.repitch import copies

            changed = copies(train_tracks, augment["repitch"], seed, augment["repitch_percent"])
            train_tracks = list(train_tracks) + changed
            draw += [augment["repitch_weight"]] * len(changed)
        longest = max((t.shape[-1] for t in train_tracks), default=0)
        if longest < self.segment + self.shift:  # said in frames by the sampler, naming nothing
            raise config_mod.RecipeError(
                f"data.segment {data['segment']:g} s + data.shift {data['shift']:g} s is longer "
                f"than the longest training track ({longest / self.samplerate:.2f} s): shorten "
                f"them or add longer tracks"
            )
        self.sampler = data_mod.ExcerptSampler(
            train_tracks, self.segment + self.shift, seed=seed, weights=draw
        )
        # On a GPU the decoded tracks live on the device (MUSDB's previews: about 1 GB) and
        # batches are cut and augmented there: the CPU would otherwise take longer per batch
        # than the GPU takes per step.
        self.resident: list[torch.Tensor] | None = None
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # training shapes never change
            self.resident = [
                torch.from_numpy(np.array(t[1:], dtype=np.float32)).to(self.device)
                for t in self.sampler.tracks
            ]

        optim = config["optim"]
        self.optimizer = torch.optim.Adam(
            self.model.parameters(),
            lr=optim["lr"],
            betas=(0.9, optim["beta2"]),
            weight_decay=optim["weight_decay"],
        )
        self.ema = copy.deepcopy(self.model).eval() if optim["ema"] > 0 else None
        self.qat = None
        if config["quant"]["diffq"] > 0:
            from training.quantize import QuantizationAwareTraining

            self.qat = QuantizationAwareTraining(
                self.model,
                self.optimizer,
                penalty=config["quant"]["diffq"],
                group_size=config["quant"]["group_size"],
                bits_lr=config["quant"]["bits_lr"],
            )
        # The recipe's learning rates (of the weights, and of diffq's bits), which run() scales
        # and sets before every step: a resumed run continues at these, not at its saved ones.
        self.rates = [group["lr"] for group in self.optimizer.param_groups]
        self.step = 0
        self.clock: Callable[[], float] = time.monotonic  # of time-boxed runs
        self.history: list[dict[str, Any]] = []
        self.best_sdr = -math.inf
        self.best_metric = config["eval"]["metric"]  # a resumed run's: what last.pt says
        self.accumulate = optim["accumulate"]
        if (optim["batch_size"] // self.world) % self.accumulate:
            raise config_mod.RecipeError(
                f"optim.accumulate {self.accumulate} does not divide the batch of each of "
                f"{self.world} processes ({optim['batch_size'] // self.world})"
            )
        self._ddp: nn.Module | None = None
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._ddp = DistributedDataParallel(self.model, device_ids=ids)

    # -- data -------------------------------------------------------------------------------
    def _load_tracks(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        data = self.config["data"]
        if not data["roots"]:
            raise config_mod.RecipeError("the recipe names no data roots ([data] roots = [...])")
        tracks = data_mod.discover(data["roots"])
        if data["validation"] == "musdb":
            names = data_mod.MUSDB_VALIDATION  # those of them that are here
        else:  # the recipe's own: a name that is not here is a typo, not a smaller split
            names = data["validation"]
            missing = sorted(set(names) - {t.name for t in tracks})
            if missing:
                raise config_mod.RecipeError(
                    f"data.validation names tracks not found under {', '.join(data['roots'])}: "
                    f"{', '.join(missing)}"
                )
        train, valid = data_mod.split_validation(tracks, names)
        if data["max_tracks"]:
            train = train[: data["max_tracks"]]
        if not train:
            raise ValueError(f"no training tracks found under {', '.join(data['roots'])}")
        cache = data_mod.TrackCache(
            data["cache"] or self.run_dir.parent / "cache", samplerate=data["samplerate"]
        )
        log.info("data: %d training and %d validation tracks", len(train), len(valid))
        return [cache.load(t) for t in train], [cache.load(t) for t in valid]

    def _init_from(self, path: str | Path) -> None:
        from stemgui.separation.official import load_any  # an official .th file too

        start = load_any(path)
        if isinstance(start, BagOfModels):
            index = closest_member(start.weights, self.source_weights.tolist())
            log.info("starting from member %d of the bag %s", index, path)
            start = start.models[index]
            self.init = f"{Path(path).name} (member {index})"  # what provenance records
        if registry.name_of(start) != self.config["model"]["architecture"]:
            raise ValueError(f"{path}: its architecture differs from the recipe's")
        try:
            self.model.load_state_dict(start.state_dict())
        except RuntimeError as error:  # the same network with other arguments (channels, ...)
            first = str(error).splitlines()[-1].strip()
            raise ValueError(
                f"{path}: its weights do not fit the recipe's [model.kwargs] ({first})"
            ) from None
        log.info("starting from the weights of %s", path)

    # -- state ------------------------------------------------------------------------------
    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

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

    def _write_file(self, path: Path, write: Callable[[Path], Any]) -> None:
        """``write(part)`` to a temporary file beside ``path``, renamed onto it when complete
        (one per process: two runs never share it). A write that fails leaves ``path`` as it
        was, no temporary file, and raises OSError naming ``path`` and what to do."""
        try:
            with atomic_path(path, overwrite=True) as part:
                write(part)
        except (OSError, RuntimeError) as error:  # torch's RuntimeError: a write that failed
            raise self._unwritten(path, error) from error

    def _unwritten(self, path: Path, error: BaseException) -> OSError:
        """The one-line error of a run file that could not be written."""
        code = write_errno(error)
        remedy = "free space on its disk" if code in FULL or code is None else "make it writable"
        if self.saved_step is None:
            then = "the same command starts the run again"
        else:
            then = f"the same command resumes the run from step {self.saved_step} (its last.pt)"
        reason = write_reason(error)
        failure = OSError(f"{path}: could not be written ({reason}); {remedy}, {then}")
        failure.errno = code
        return failure

    def check_resumable(self) -> dict[str, Any] | None:
        """Refuse to continue a run folder whose recipe trained another network or loss, or
        whose saved state, recipe or provenance cannot be read (all before any data are decoded).

        The network (architecture and arguments), the per-source loss weights, diffq's penalty
        and group size must be those of the run it resumes; steps, learning rate, data and
        schedule may change between sessions. Returns the recipe the folder ran so far (None for
        a new run).

        Raises:
            ValueError: they differ, naming the setting and the run folder; or a run file is
                damaged, naming it.
        """
        recorded = self.run_dir / "config.toml"
        results = [n for n in ("best.stemgui", "history.json") if (self.run_dir / n).exists()]
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
            raise ValueError(
                f"{self.last_path}: this run's saved state cannot be read ({error_line(error)}); "
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

    # -- the folder's lock: one fit at a time -------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.run_dir / "fit.lock"

    def _refuse_if_locked(self) -> None:
        """Refuse a folder another live ``fit`` trains in (ValueError naming it)."""
        holder = lock_holder(self.lock_path)
        if holder is not None:
            raise ValueError(
                f"{self.run_dir}: another fit trains in this folder ({holder}, {self.lock_path}): "
                "let it finish or stop it, or train into another --run folder"
            )

    def _take_lock(self) -> None:
        """Create ``fit.lock`` (exclusively) with this process's id and machine; a lock left by
        a process that is gone is taken over."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        mine = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(2):  # the second after taking over a stale one
            try:
                descriptor = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._refuse_if_locked()
                stale = read_lock(self.lock_path)
                log.warning("%s: taking over the lock of a fit that is gone", self.run_dir)
                if read_lock(self.lock_path) == stale:  # not taken by another meanwhile
                    self.lock_path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(mine)
            # what a run that stopped mid-write left (a part file of a process that is gone)
            clean_stale_parts(self.run_dir)
            return
        self._refuse_if_locked()  # another took it first
        raise ValueError(f"{self.lock_path}: cannot be taken; train into another --run folder")

    def _release_lock(self) -> None:
        if read_lock(self.lock_path) == (os.getpid(), socket.gethostname()):
            self.lock_path.unlink(missing_ok=True)

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

    # -- training ---------------------------------------------------------------------------
    def batch(self, step: int) -> torch.Tensor:
        """This rank's slice of the augmented global batch of ``step``: (batch, sources, C, T)."""
        size = self.config["optim"]["batch_size"]
        if size % self.world:
            raise ValueError(f"batch size {size} is not a multiple of the world size {self.world}")
        if self.resident is None:
            stems = torch.from_numpy(self.sampler.batch(step, size))
        else:
            frames = self.sampler.frames
            stems = torch.stack(
                [
                    self.resident[track][..., start : start + frames]
                    for track, start in self.sampler.picks(step, size)
                ]
            )
        generator = torch.Generator().manual_seed(self.config["seed"]["value"] * 1_000_003 + step)
        options = self.config["augment"]
        stems = aug.augment(
            stems.to(self.device),
            generator,
            shift=self.shift,
            channel_flip=options["channel_flip"],
            sign_flip=options["sign_flip"],
            gain=tuple(options["gain"]) if options["gain"] else None,
            remix_group=options["remix_group"],
        )
        per_rank = size // self.world
        return stems[self.rank * per_rank : (self.rank + 1) * per_rank]

    def train_step(self) -> float:
        """One optimisation step; returns the loss (mean over ranks)."""
        self.model.train()
        # diffq's noise and any dropout draw from the global generator: seeded per step, a
        # resumed run draws what an uninterrupted one would have.
        torch.manual_seed(self.config["seed"]["value"] * 1_000_003 + self.step + 500_009)
        network = self._ddp or self.model
        self.optimizer.zero_grad(set_to_none=True)
        parts = self.batch(self.step).chunk(self.accumulate)
        loss = torch.zeros((), device=self.device)
        for index, stems in enumerate(parts):
            last = index == len(parts) - 1
            # Gradients of all but the last micro-batch stay on this rank; the last backward
            # averages the sum over ranks.
            with contextlib.nullcontext() if last or self._ddp is None else self._ddp.no_sync():
                with torch.autocast(
                    "cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"
                ):
                    estimate = network(stems.sum(dim=1))
                per_source = (estimate.float() - stems).abs().mean(dim=(0, 2, 3))
                part = (per_source * self.source_weights).sum() / len(parts)
                (part + self.qat.penalty() if last and self.qat is not None else part).backward()
            loss += part.detach()
        clip = self.config["optim"]["clip_grad"]
        if clip > 0:
            nn.utils.clip_grad_norm_([p for _, p in plain_parameters(self.model)], clip)
        self.optimizer.step()
        if self.ema is not None:
            decay = self.config["optim"]["ema"]
            with torch.no_grad():
                torch._foreach_lerp_(
                    list(self.ema.parameters()), list(self.model.parameters()), 1 - decay
                )
                for averaged, current in zip(self.ema.buffers(), self.model.buffers()):
                    averaged.copy_(current)
        if self.world > 1:
            import torch.distributed as dist

            dist.all_reduce(loss)
            loss /= self.world
        self.step += 1
        return float(loss)

    def evaluate(self) -> dict[str, dict[str, float]]:
        """The validation tracks' SDR per source, their mean ("all") and, with loss weights, the
        weighted sum ("weighted"), by both metrics from one separation: ``{"global": mean over
        tracks of the global SDR, "musdb": MUSDB's median over frames, then over tracks}``."""
        from training import bsseval
        from training.evaluate import scores_by_source, separate_tracks
        from training.sdr import global_sdr

        def both(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
            return np.stack(
                [global_sdr(references, estimates), bsseval.track_sdr(references, estimates)]
            )

        model = self.ema if self.ema is not None else self.model
        options = self.config["eval"]
        tracks = self.valid_tracks[: options["max_tracks"] or None]
        per_track = separate_tracks(  # (2, sources) per track: global, then MUSDB
            model,
            tracks,
            score=both,
            segment=options["segment"] or None,
            overlap=options["overlap"],
            device=str(self.device),  # not the CPU: the Separator moves the model to its device
        )
        sources = list(model.sources)
        by_metric = {
            "global": np.mean([t[0] for t in per_track], axis=0),
            "musdb": bsseval.median_over_tracks([t[1] for t in per_track]),
        }
        results = {}
        for metric, values in by_metric.items():
            result = scores_by_source(sources, values)
            if self.config["optim"]["source_weights"]:
                weights = self.source_weights.tolist()
                result["weighted"] = float(sum(w * v for w, v in zip(weights, values)))
            results[metric] = result
        return results

    def run(
        self,
        steps: int | None = None,
        on_step: Callable[[int, float], None] | None = None,
        max_seconds: float | None = None,
    ) -> list[dict[str, Any]]:
        """Train up to ``steps`` total steps (the recipe's by default), resuming if possible.

        ``max_seconds`` stops earlier, after the step that crosses that much wall time, with an
        evaluation and a checkpoint as at the last step (for time-boxed machines).

        Raises:
            ValueError: another ``fit`` trains in the folder, or ``check_resumable`` refuses it.
            OSError: a run file could not be written (a full disk), naming it; the files are as
                they were before that write.
        """
        if not self.is_main:  # the first rank holds the folder for all
            return self._run(steps, on_step, max_seconds)
        self._take_lock()
        try:
            return self._run(steps, on_step, max_seconds)
        finally:
            self._release_lock()

    def _run(
        self,
        steps: int | None,
        on_step: Callable[[int, float], None] | None,
        max_seconds: float | None,
    ) -> list[dict[str, Any]]:
        from tqdm import tqdm

        started = self.clock()
        schedule = self.config["schedule"]
        total = schedule["steps"] if steps is None else steps
        before = self.check_resumable()
        resumed = self.load_state()
        given = self.init  # this --init, before the run folder says what it started from
        metric = self.config["eval"]["metric"]
        if resumed and self.best_metric != metric:
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
        if resumed and measured_by and self.best_sdr > -math.inf:
            log.warning(
                "%s: the validation changed (%s): best.stemgui is kept until the first "
                "validation by the new one, which takes its place",
                self.run_dir,
                ", ".join(measured_by),
            )
            self.best_sdr = -math.inf
        if self.is_main:
            if self.step < total or not resumed:  # a finished run asked again keeps its record
                self._write_run_files(before)
            if resumed and given is not None:
                origin = str(self.init or "").split(" (member ")[0]  # the file, of a bag too
                log.log(
                    logging.INFO if origin == given else logging.WARNING,
                    "--init %s is not used: %s resumes from its last.pt at step %d (its weights "
                    "started from %s)",
                    given,
                    self.run_dir,
                    self.step,
                    self.init or "scratch",
                )
        if not resumed and self.init is not None and self.step < total:
            self._evaluate_and_keep_best()  # the starting weights: a fine-tuning never ends worse
            if self.is_main:  # a best.stemgui without last.pt is a folder fit will not resume
                self.save_state()
                self.write_history()
        if self.step >= total:
            log.info(
                "%s is at step %d: the %d steps asked are done", self.run_dir, self.step, total
            )
        bar = tqdm(
            total=total,
            initial=self.step,
            desc="train",
            unit="step",
            disable=None if self.is_main else True,
        )
        elapsed = 0.0
        interrupt = _Interrupt(enabled=self.world == 1)
        try:
            while self.step < total and not interrupt.asked:
                progress = self.step / total
                if max_seconds:  # time-boxed: whichever end comes first
                    progress = max(progress, elapsed / max_seconds)
                factor = anneal_factor(progress, schedule["anneal"])
                factor *= warmup_factor(self.step, schedule["warmup"])
                for group, rate in zip(self.optimizer.param_groups, self.rates):
                    group["lr"] = rate * factor
                loss = self.train_step()
                if max_seconds is not None:
                    elapsed = self._seconds_since(started)
                    if elapsed > max_seconds:
                        total = self.step  # out of time: finish as at the last step
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                if on_step is not None:
                    on_step(self.step, loss)
                if self.step % schedule["log_every"] == 0 or self.step == total:
                    lr = self.optimizer.param_groups[0]["lr"]
                    self.history.append({"step": self.step, "loss": loss, "lr": lr})
                if self.step % schedule["eval_every"] == 0 or self.step == total:
                    self._evaluate_and_keep_best()
                if self.is_main and (
                    self.step % schedule["checkpoint_every"] == 0 or self.step == total
                ):
                    self.save_state()
                    self.write_history()
            if interrupt.asked and self.is_main:
                self.save_state()
                self.write_history()
                log.warning(
                    "stopped at step %d (Ctrl-C); last.pt is saved: the same command resumes",
                    self.step,
                )
        finally:
            bar.close()
            interrupt.restore()
        self.interrupted = interrupt.asked
        return self.history

    def _seconds_since(self, started: float) -> float:
        """Wall time since ``started`` by the first rank's clock, so that every rank anneals
        alike and stops at the same step."""
        elapsed = self.clock() - started
        if self.world > 1:
            import torch.distributed as dist

            value = torch.tensor([elapsed], dtype=torch.float64, device=self.device)
            dist.broadcast(value, src=0)
            elapsed = float(value)
        return elapsed

    def _evaluate_and_keep_best(self) -> None:
        if not self.is_main:
            return
        if not self.valid_tracks:  # nothing to choose by: the latest weights, unscored
            self.save_best({})
            return
        scores = self.evaluate()
        self.history.append(
            {
                "step": self.step,
                **{f"valid_{k}": v for k, v in scores["global"].items()},
                **{f"musdb_{k}": v for k, v in scores["musdb"].items()},
            }
        )
        log.info(
            "step %d: validation SDR %s; MUSDB %s",
            self.step,
            _format_scores(scores["global"]),
            _format_scores(scores["musdb"]),
        )
        chosen = scores[self.config["eval"]["metric"]]
        score = chosen.get("weighted", chosen["all"])  # what the loss asks for
        if math.isnan(score):  # diverged, or MUSDB's with a source silent in every track
            if self.best_sdr == -math.inf:  # nothing better to keep
                log.warning("the validation score is NaN: best.stemgui holds the latest weights")
                self.save_best(scores)
            else:
                log.warning("the validation score is NaN: best.stemgui stays as it was")
        elif score > self.best_sdr:
            self.best_sdr = score
            self.save_best(scores)

    def save_best(self, scores: dict[str, dict[str, float]]) -> Path:
        from stemgui.separation.checkpoint import save_model

        if not self.last_path.exists():  # first: fit refuses a best.stemgui without last.pt
            self.save_state()

        model = self.ema if self.ema is not None else self.model
        provenance = {
            **self.session,  # as written when the session started (its start time, not now)
            "steps": self.step,
            "valid_sdr": scores.get("global", {}),  # MUSDB's too in history.json
            "config": config_mod.dumps(self.config),
        }
        path = self.run_dir / "best.stemgui"
        try:  # written atomically: a full disk leaves the one before as it was
            if self.qat is not None:  # the weights with their learned bits, packed
                self.qat.save(path, provenance=provenance)
            else:
                save_model(copy.deepcopy(model).cpu().eval(), path, provenance=provenance)
        except OSError as error:  # save_model's names the file; this says where the run is
            raise self._unwritten(path, error) from error
        return path

    def write_history(self) -> None:
        entries = [  # NaN as null: bare NaN is not JSON to other readers
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in entry.items()}
            for entry in self.history
        ]
        text = json.dumps(entries, indent=1) + "\n"
        self._write_file(
            self.run_dir / "history.json", lambda part: part.write_text(text, encoding="utf-8")
        )
        keys = sorted({k for entry in self.history for k in entry}, key=lambda k: (k != "step", k))

        def write_csv(part: Path) -> None:
            with open(part, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=keys)
                writer.writeheader()
                writer.writerows(self.history)

        self._write_file(self.run_dir / "history.csv", write_csv)
        curves = self.run_dir / "curves.png"
        try:
            plot_history(self.history, curves)
        except OSError as error:
            raise self._unwritten(curves, error) from error


class _Interrupt:
    """Ctrl-C during training asks the loop to stop after the step under way, with ``last.pt``
    saved (a step cut in half would resume unlike an uninterrupted run); a second Ctrl-C stops
    at once. Only in the main thread of a single process: ranks of a distributed run must stop
    at the same step, so there Ctrl-C keeps its usual effect."""

    def __init__(self, enabled: bool) -> None:
        self.asked = False
        self._previous: Any = None
        if enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum: int, _frame: Any) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        log.warning("stopping after this step (Ctrl-C again stops at once, without saving)")

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def anneal_factor(progress: float, anneal: float) -> float:
    """The learning rates' scale when ``progress`` (0 to 1) of the run is done: 1, then over
    the last ``anneal`` of the run a straight line down to 0 at the end (``anneal`` 0: always 1)."""
    if anneal <= 0:
        return 1.0
    return min(1.0, max(0.0, (1.0 - progress) / anneal))


def warmup_factor(done: int, warmup: int) -> float:
    """The learning rates' scale for the step after ``done`` steps: (done + 1) / ``warmup``
    up to 1 (``warmup`` 0: always 1). A resumed run is past it; a fine-tuning starts at 0."""
    if warmup <= 0:
        return 1.0
    return min(1.0, (done + 1) / warmup)


def closest_member(bag_weights: Sequence[Sequence[float]], weights: Sequence[float]) -> int:
    """Index of the bag member whose per-source weights point most nearly the way ``weights``
    do (cosine): the general model for equal weights, the specialist for a one-source recipe."""
    target = np.asarray(weights, dtype=float)
    similarity = [
        np.dot(member, target) / (np.linalg.norm(member) * np.linalg.norm(target))
        for member in np.asarray(bag_weights, dtype=float)
    ]
    return int(np.argmax(similarity))


def _format_scores(scores: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.2f}" for k, v in scores.items())


def _distributed_rank_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1
