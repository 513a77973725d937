"""The training loop: ``Trainer`` trains one model in one run folder, resumably.

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

With ``[quant] diffq = penalty`` the run is quantization-aware (diffq): the loss gains
``penalty * model size (MB)``, every bit depth is learned, validation sees the truly quantized
model and ``best.stemgui`` stores it packed (``training.quantize.QuantizationAwareTraining``).

This module holds the set-up (network, data, sampler) and the loop; the Trainer's other parts
live by concept:
    training.network      the network a recipe describes, the weights ``--init`` starts from
    training.step         optimizer, EMA, the batch and the step (accumulation, clipping), the
                          learning rates' warm-up and annealing
    training.distributed  ranks under ``torchrun`` (DistributedDataParallel)
    training.validation   scoring the validation tracks, keeping ``best.stemgui``
    training.resume       ``last.pt`` and the checks of a resumed run
    training.provenance   the recipe and provenance each session records
    training.runfiles     the folder's lock, its files written atomically, the history
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training import config as config_mod
from training import data as data_mod
from training import distributed
from training.network import build_model, start_from
from training.provenance import SessionRecord
from training.resume import ResumableState
from training.runfiles import RunFolder
from training.sampler import ExcerptSampler
from training.step import Optimisation, anneal_factor, warmup_factor
from training.validation import Validation

log = logging.getLogger(__name__)


class Trainer(Optimisation, Validation, ResumableState, SessionRecord, RunFolder):
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
        self.rank, self.world = distributed.rank_world()
        self.is_main = self.rank == 0
        seed = config["seed"]["value"]
        # The network first: a recipe or --init file it refuses costs no decoding.
        torch.manual_seed(seed)
        self.model = build_model(config).to(self.device)
        if config["quant"]["diffq"] > 0:  # needed after the decode: missing, said before it
            from training.quantize import DEFAULT_MIN_SIZE, DiffqMissing, quantizable, require_diffq

            setting = f"[quant] diffq = {config['quant']['diffq']:g}"
            try:
                require_diffq(setting)
            except DiffqMissing as missing:
                raise config_mod.RecipeError(f"{missing}, or set diffq = 0") from None
            if not quantizable(self.model):
                raise config_mod.RecipeError(
                    f"{setting}: the network has no parameter over {DEFAULT_MIN_SIZE} MB, so none "
                    "would be quantized; make it larger, or set diffq = 0"
                )
        weights = config["optim"]["source_weights"] or [1.0] * len(self.model.sources)
        if len(weights) != len(self.model.sources):
            raise config_mod.RecipeError(
                f"optim.source_weights has {len(weights)} weights for "
                f"{len(self.model.sources)} sources ({', '.join(self.model.sources)})"
            )
        # summed before float32, which holds neither 1e39 nor 1e-46
        total = sum(weights)
        self.source_weights = torch.tensor(
            [w / total for w in weights], dtype=torch.float32, device=self.device
        )
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
            self.init = start_from(
                self.model,
                init,
                config["model"]["architecture"],
                self.source_weights.tolist(),
            )

        data = config["data"]
        self.valid_names: list[str] = []  # of the tracks read from the data roots (in warnings)
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
        self.sampler = ExcerptSampler(
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

        self._set_up_optimizer()  # Adam, EMA, diffq's bits, DDP (training.step)
        self.step = 0
        self.clock: Callable[[], float] = time.monotonic  # of time-boxed runs
        self.history: list[dict[str, Any]] = []
        self.best_sdr = -math.inf
        self.best_metric = config["eval"]["metric"]  # a resumed run's: what last.pt says
        self.silent_said: set[tuple[str, str]] = set()  # (track, stem) warned silent, once each

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
            held = f" ({len(valid)} validation tracks, held out)" if valid else ""
            raise config_mod.RecipeError(
                f"no training tracks under {', '.join(data['roots'])}{held}: a track is "
                f"{data_mod.TRACK_LAYOUTS}"
            )
        cache = data_mod.TrackCache(
            data["cache"] or self.run_dir.parent / "cache", samplerate=data["samplerate"]
        )
        log.info("data: %d training and %d validation tracks", len(train), len(valid))
        self.valid_names = [t.name for t in valid]
        return [cache.load(t) for t in train], [cache.load(t) for t in valid]

    # -- the loop ---------------------------------------------------------------------------
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
        if resumed:
            self._compare_with_before(before)  # a best by another metric or validation: afresh
        if self.is_main:
            if self.step < total or not resumed:  # a finished run asked again keeps its record
                self._write_run_files(before)
            if resumed and given is not None:
                self._say_init_unused(given)
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
        return distributed.first_rank_seconds(self.clock() - started, self.device, self.world)


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
