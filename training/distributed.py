"""Distributed training under ``torchrun``: this process's rank, the network wrapped for it, and
the figures every rank must agree on.

Every rank draws and augments the same global batch and trains on its own slice;
DistributedDataParallel averages the gradients (gloo on CPU, nccl on GPU; the process group is
set up by ``python -m training fit``). Outside ``torchrun`` there is one rank of a world of one,
and each function here does nothing.
"""

from __future__ import annotations

import torch
from torch import nn


def rank_world() -> tuple[int, int]:
    """(this process's rank, the number of processes): (0, 1) outside a process group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def parallel(model: nn.Module, device: torch.device, world: int) -> nn.Module | None:
    """``model`` wrapped in DistributedDataParallel when there are several ranks, else None."""
    if world <= 1:
        return None
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def mean_over_ranks(value: torch.Tensor, world: int) -> torch.Tensor:
    """``value`` (in place) averaged over the ranks."""
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(value)
        value /= world
    return value


def first_rank_seconds(seconds: float, device: torch.device, world: int) -> float:
    """The first rank's ``seconds``, on every rank: so that every rank anneals alike and stops
    at the same step."""
    if world > 1:
        import torch.distributed as dist

        value = torch.tensor([seconds], dtype=torch.float64, device=device)
        dist.broadcast(value, src=0)
        seconds = float(value)
    return seconds
