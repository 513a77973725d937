"""One optimisation step of ``training.fit.Trainer``: its optimizer, EMA and diffq set-up, the
batch of a step, the step itself, and the learning rates' schedule.

The loss is L1 on waveforms, weighted per source (``[optim] source_weights``); Adam, with
optional gradient clipping and an exponential moving average of the weights (``[optim] ema``),
which validation scores and ``best.stemgui`` keeps. Every batch is a pure function of
(seed, step): a resumed run draws what an uninterrupted one would have.

With ``[optim] accumulate = K`` each rank's slice goes through the network in K micro-batches
whose gradients add up before the step: the step of the whole batch in less memory.

With ``[schedule] anneal = f`` the learning rates fall in a straight line to zero over the last
fraction f of the run (of its steps, or of its time when time-boxed): the weights settle at the
end of a short fine-tuning instead of stopping wherever the last full-rate step left them.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import torch
from torch import nn

from training import augment as aug
from training import config as config_mod
from training import distributed
from training.quantize import plain_parameters
from training.sampler import ExcerptSampler


class Optimisation:
    """The optimizer and the step, a part of ``training.fit.Trainer``."""

    config: dict[str, Any]
    device: torch.device
    model: nn.Module
    rank: int
    world: int
    step: int
    shift: int
    source_weights: torch.Tensor
    sampler: ExcerptSampler
    resident: list[torch.Tensor] | None

    def _set_up_optimizer(self) -> None:
        """Adam over the model's weights, its EMA copy, diffq's learned bits, and the
        DistributedDataParallel wrapper of a run of several ranks.

        Raises:
            RecipeError: ``optim.accumulate`` does not divide each rank's batch.
        """
        optim = self.config["optim"]
        self.optimizer = torch.optim.Adam(
            self.model.parameters(),
            lr=optim["lr"],
            betas=(0.9, optim["beta2"]),
            weight_decay=optim["weight_decay"],
        )
        self.ema = copy.deepcopy(self.model).eval() if optim["ema"] > 0 else None
        self.qat = None
        if self.config["quant"]["diffq"] > 0:
            from training.quantize import QuantizationAwareTraining

            self.qat = QuantizationAwareTraining(
                self.model,
                self.optimizer,
                penalty=self.config["quant"]["diffq"],
                group_size=self.config["quant"]["group_size"],
                bits_lr=self.config["quant"]["bits_lr"],
            )
        # The recipe's learning rates (of the weights, and of diffq's bits), which run() scales
        # and sets before every step: a resumed run continues at these, not at its saved ones.
        self.rates = [group["lr"] for group in self.optimizer.param_groups]
        self.accumulate = optim["accumulate"]
        if (optim["batch_size"] // self.world) % self.accumulate:
            raise config_mod.RecipeError(
                f"optim.accumulate {self.accumulate} does not divide the batch of each of "
                f"{self.world} processes ({optim['batch_size'] // self.world})"
            )
        self._ddp = distributed.parallel(self.model, self.device, self.world)

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
        distributed.mean_over_ranks(loss, self.world)
        self.step += 1
        return float(loss)


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
