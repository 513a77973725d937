"""Which torch device separation runs on: the names a user may pick, with labels, and resolution.

Names: ``"auto"`` (CUDA if there is a CUDA GPU, else Apple's MPS, else the CPU), ``"cpu"``,
``"cuda"`` / ``"cuda:N"`` and ``"mps"``. ``available_devices`` lists the ones this machine has,
with a label the UI can show; ``resolve_device`` turns a name into a ``torch.device``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceChoice:
    """One entry of the device menu: ``name`` for ``resolve_device``, ``label`` for people."""

    name: str
    label: str


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _cuda_label(index: int) -> str:
    properties = torch.cuda.get_device_properties(index)
    gigabytes = properties.total_memory / 1024**3
    return f"GPU {index}: {torch.cuda.get_device_name(index)} ({gigabytes:.0f} GB, CUDA)"


def describe(device: torch.device) -> str:
    """A label for a resolved device, e.g. ``"GPU 0: NVIDIA RTX 4070 (12 GB, CUDA)"``."""
    if device.type == "cuda":
        return _cuda_label(device.index if device.index is not None else 0)
    if device.type == "mps":
        return "Apple GPU (Metal)"
    if device.type == "cpu":
        return "CPU"
    return str(device)


def available_devices() -> list[DeviceChoice]:
    """The devices of this machine, ``auto`` first (its label says what it picks), ``cpu`` last."""
    choices = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            choices.append(DeviceChoice(f"cuda:{index}", _cuda_label(index)))
    if _mps_available():
        choices.append(DeviceChoice("mps", describe(torch.device("mps"))))
    choices.append(DeviceChoice("cpu", "CPU"))
    auto = DeviceChoice("auto", f"Automatic ({choices[0].label})")
    return [auto, *choices]


def resolve_device(name: str | torch.device) -> torch.device:
    """The ``torch.device`` for a device name.

    ``"auto"`` picks CUDA, then MPS, then the CPU. Raises ``ValueError`` for an unknown name or a
    device this machine does not have (saying which ones it has).
    """
    if isinstance(name, torch.device):
        name = str(name)
    key = name.strip().lower()
    if key == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(key)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from error
    if device.type == "cpu":
        return device
    known = ", ".join(choice.name for choice in available_devices())
    if device.type == "cuda":
        index = device.index or 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r} is not available on this machine; it has: {known}")
        return device
    if device.type == "mps":
        if not _mps_available():
            raise ValueError(f"device {name!r} is not available on this machine; it has: {known}")
        return device
    raise ValueError(f"unsupported device {name!r}; use auto, cpu, cuda, cuda:N or mps")
