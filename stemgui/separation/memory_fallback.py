"""What separation does when a GPU runs out of memory, and the one place things change device.

An out-of-memory error (CUDA's own class, or the ``RuntimeError`` of Apple's MPS) is met first
with chunks half as long, unless every network only runs on chunks of a fixed length (HTDemucs),
then with the CPU at full length; on the CPU nothing is left to try. After each step
``Separator`` goes on from the frames already final (kept as they are), keeps the step for its
later songs, logs it and adds its note to ``Separator.notes`` for the user.

``to_device`` moves the model and every chunk: tests patch it (and ``Separator``'s
``resolve_device``) to simulate a GPU on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


def to_device(obj: Any, device: torch.device) -> Any:
    """Move a module or tensor (one place, so that tests can simulate a GPU on the CPU)."""
    return obj.to(device)


def is_out_of_memory(error: BaseException) -> bool:
    """True for an out-of-memory error: a GPU's (CUDA's own class, MPS's RuntimeError) or the
    CPU allocator's RuntimeError ("DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    said = str(error).lower()
    return isinstance(error, RuntimeError) and (
        "out of memory" in said or "can't allocate memory" in said
    )


@dataclass(frozen=True)
class Fallback:
    """What to run on after an out-of-memory error, and ``note``: that change in words for
    the user."""

    device: torch.device
    segment_scale: float
    note: str


def next_fallback(device: torch.device, segment_scale: float, flexible: bool) -> Fallback | None:
    """The step after running out of memory on ``device`` with chunks ``segment_scale`` times
    their length; None on the CPU (nothing left to try).

    Chunks half as long when some network takes any length (``flexible``) and they are not
    shortened yet, else the CPU with chunks of full length. Frees CUDA's cached memory first.
    """
    if device.type == "cpu":
        return None
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if flexible and segment_scale == 1.0:
        note = "The GPU ran out of memory; retrying with chunks half as long."
        return Fallback(device, 0.5, note)
    note = "The GPU ran out of memory; separating on the CPU instead (slower)."
    return Fallback(torch.device("cpu"), 1.0, note)
