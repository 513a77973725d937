"""Device names, labels and the auto choice, with CUDA and MPS simulated."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from stemgui.separation import device as device_module
from stemgui.separation.device import DeviceChoice, available_devices, describe, resolve_device


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)


@pytest.fixture
def two_cuda_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Fake RTX {index}")
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda index: SimpleNamespace(total_memory=(8 + 4 * index) * 1024**3),
    )
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)


def test_cpu_only_machine(no_gpu):
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("CPU") == torch.device("cpu")
    assert available_devices() == [
        DeviceChoice("auto", "Automatic (CPU)"),
        DeviceChoice("cpu", "CPU"),
    ]
    with pytest.raises(ValueError, match=r"not available.*auto, cpu"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="not available"):
        resolve_device("mps")


def test_auto_prefers_cuda_then_mps(two_cuda_gpus, monkeypatch):
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match="not available"):
        resolve_device("cuda:2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("mps")
    assert resolve_device("mps") == torch.device("mps")


def test_labels_name_the_gpus(two_cuda_gpus):
    choices = available_devices()
    assert [c.name for c in choices] == ["auto", "cuda:0", "cuda:1", "mps", "cpu"]
    assert choices[1].label == "GPU 0: Fake RTX 0 (8 GB, CUDA)"
    assert choices[2].label == "GPU 1: Fake RTX 1 (12 GB, CUDA)"
    assert choices[0].label == "Automatic (GPU 0: Fake RTX 0 (8 GB, CUDA))"
    assert choices[3].label == "Apple GPU (Metal)"
    assert describe(torch.device("cuda")) == choices[1].label


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("gpu please")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
