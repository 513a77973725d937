"""The plan of one separation job: a pass per model of a bag and per shift, and their chunks.

A pass runs one network over the whole song delayed by some frames of silence (the reference's
"shift trick": the delays are drawn at random, 0 to ``MAX_SHIFT`` seconds; without shifts one
pass of delay 0). Each pass has its own chunk plan (``chunking.plan_chunks``): the chunk length
is the one asked for, else the bag's, else the network's, else ``DEFAULT_SEGMENT``, never longer
than the fixed training segment of a network that only runs on that (HTDemucs). The estimates
of a pass are scaled by its model's weight in the bag over the total weight, shared equally
between the model's shifts. ``chunk_order`` says in which order ``Separator`` runs the chunks
of all the passes: where they start in the song, so that the passes advance together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from stemgui.separation.chunking import ChunkPlan, plan_chunks

DEFAULT_SEGMENT = 10.0
"""Chunk length in seconds for a model that states none."""
MAX_SHIFT = 0.5
"""Longest random delay of the shift trick, in seconds (as in the reference)."""


@dataclass(frozen=True)
class Pass:
    """One run of one network over the whole song: ``delay`` zeros, then the song."""

    member: int
    delay: int
    plan: ChunkPlan
    scale: np.ndarray  # (sources,) bag weight / total weight / passes of that model


def fixed_segment(net: nn.Module) -> Any:
    """The training segment (seconds) of a network that only runs on chunks of that length.

    HTDemucs with ``use_train_segment`` (the default and the official weights) pads every
    input to its training segment: shorter chunks cost the same, longer ones are refused.
    """
    flag = getattr(net, "use_train_segment", None)
    if flag is None:
        flag = type(net).__name__ == "HTDemucs"
    segment = getattr(net, "segment", None)
    return segment if flag and segment else None


def segment_for(
    net: nn.Module, requested: float | None, bag_segment: float | None, scale: float
) -> tuple[Any, Any]:
    """(chunk length in seconds for ``net``; the longer length asked for when it was capped,
    else None).

    The length is ``requested``, else ``bag_segment``, else the network's, else
    ``DEFAULT_SEGMENT``; capped at the network's ``fixed_segment``, otherwise multiplied by
    ``scale`` (below 1 after the GPU ran out of memory).
    """
    segment = requested
    if segment is None:
        segment = bag_segment
    if segment is None:
        segment = getattr(net, "segment", None) or DEFAULT_SEGMENT
    fixed = fixed_segment(net)
    if fixed is not None:
        if segment > fixed:
            return fixed, segment
    elif scale != 1.0:
        segment = segment * scale
    return segment, None


def padded_length(net: nn.Module, length: int, samplerate: int) -> int:
    """Frames ``net`` must be fed for a chunk of ``length`` frames."""
    if hasattr(net, "valid_length"):
        return int(net.valid_length(length))
    fixed = fixed_segment(net)
    if fixed is not None:
        return max(length, int(samplerate * fixed))
    return length


def draw_delays(models: int, shifts: int, seed: int | None, samplerate: int) -> list[list[int]]:
    """Per model, the delay in frames of each shift pass ([0] without shifts).

    ``seed`` makes them reproducible; None draws fresh ones on every call.
    """
    if not shifts:
        return [[0] for _ in range(models)]
    rng = np.random.default_rng(seed)
    max_shift = int(MAX_SHIFT * samplerate)
    return [[int(d) for d in rng.integers(0, max_shift + 1, size=shifts)] for _ in range(models)]


def plan_passes(
    frames: int,
    segments: list[Any],
    delays: list[list[int]],
    scales: list[np.ndarray],
    overlap: float,
    samplerate: int,
) -> list[Pass]:
    """The passes over a song of ``frames`` frames, model by model, then shift by shift.

    Args:
        segments: per model, its chunk length in seconds (``segment_for``).
        delays: per model, the delay in frames of each of its passes (``draw_delays``).
        scales: per model, (sources,) its weight in the bag over the total weight.
        overlap: fraction of a chunk shared with the next, in [0, 1).
    """
    passes = []
    for member, segment in enumerate(segments):
        segment_length = max(1, int(samplerate * segment))
        member_delays = delays[member]
        for delay in member_delays:
            plan = plan_chunks(frames + delay, segment_length, overlap)
            scale = scales[member] / len(member_delays)
            passes.append(Pass(member, delay, plan, scale))
    return passes


def chunk_order(passes: list[Pass]) -> list[tuple[int, int]]:
    """(pass number, chunk index) of every chunk of ``passes``, in the order of where they start
    in the song (then by pass, then by index).

    Every pass then advances together along the song: frames become final as the job goes,
    whatever the number of passes (the app plays them), and a memory-mapped output only has the
    pages around the current position resident.
    """
    order = sorted(
        (job.plan.start(index) - job.delay, number, index)
        for number, job in enumerate(passes)
        for index in range(job.plan.count)
    )
    return [(number, index) for _, number, index in order]
