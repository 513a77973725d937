"""A tiny registered network for the model-file tests (checkpoint, official, store, download).

It has everything a stemgui model needs (``sources``, ``samplerate``, ``audio_channels``,
``segment``, ``_init_kwargs``) and one 1x1 convolution, so round trips are fast and exact.
``tiny_htdemucs`` is a real network, small, for tests that need one.
"""

from __future__ import annotations

import hashlib
import io
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from torch import nn

from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.checkpoint import load_model, save_model


def tiny_htdemucs(seed: int = 0, sources: Sequence[str] = ("drums", "bass")) -> nn.Module:
    """Our HTDemucs, two sources (or ``sources``), 8 kHz, 8 channels, 3 layers, trained on
    0.5 s: eval mode."""
    from stemgui.separation.nets.htdemucs import HTDemucs

    torch.manual_seed(seed)
    return HTDemucs(
        sources=list(sources),
        channels=8,
        depth=3,
        nfft=256,
        t_layers=1,
        dconv_comp=4,
        bottom_channels=0,
        segment=Fraction(1, 2),
        samplerate=8000,
    ).eval()


class TinyNet(nn.Module):
    """(batch, channels, time) -> (batch, sources, channels, time) by one 1x1 convolution."""

    def __init__(
        self,
        sources: Sequence[str] = ("drums", "bass", "other", "vocals"),
        audio_channels: int = 2,
        samplerate: int = 8000,
        segment: float | None = None,
        gain: float = 1.0,
    ) -> None:
        super().__init__()
        self._init_kwargs = dict(
            sources=list(sources),
            audio_channels=audio_channels,
            samplerate=samplerate,
            segment=segment,
            gain=gain,
        )
        self.sources = list(sources)
        self.audio_channels = audio_channels
        self.samplerate = samplerate
        self.segment = segment
        self.gain = gain
        self.conv = nn.Conv1d(audio_channels, len(self.sources) * audio_channels, 1)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        batch, channels, time = mix.shape
        out = self.conv(mix) * self.gain
        return out.view(batch, len(self.sources), channels, time)


@contextmanager
def tiny_registered(name: str = "TinyNet") -> Iterator[type]:
    """Register ``TinyNet`` under ``name`` for the duration of a block."""
    registry.register(name, TinyNet)
    try:
        yield TinyNet
    finally:
        registry.unregister(name)


def make_tiny(seed: int = 0, **kwargs) -> TinyNet:
    """A TinyNet with random (seeded) weights, in eval mode."""
    torch.manual_seed(seed)
    model = TinyNet(**kwargs)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_()
    return model.eval()


def fake_demucs_class(
    monkeypatch, name: str = "TinyNet", module: str = "stemgui_test_nets"
) -> type:
    """A TinyNet subclass that pickles as ``demucs.<module>.<name>``, the way an official file
    names ``demucs.htdemucs.HTDemucs``; our import maps it back by ``name``."""
    module_name = f"demucs.{module}"
    fake_module = sys.modules.get(module_name) or types.ModuleType(module_name)
    cls = type(name, (TinyNet,), {"__module__": module_name})
    setattr(fake_module, name, cls)
    monkeypatch.setitem(sys.modules, module_name, fake_module)
    return cls


def half_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """``demucs.states.get_state(model, None, half=True)``: every entry cast to float16."""
    return {k: v.to(dtype=torch.half) for k, v in model.state_dict().items()}


def write_official(path: Path, klass, kwargs, state, args=(), training_args=None) -> Path:
    """What ``demucs.states.serialize_model`` + ``save_with_checksum`` write: returns the file,
    named ``<stem>-<first 8 hex of sha256>.th`` beside ``path``."""
    package = {
        "klass": klass,
        "args": list(args),
        "kwargs": kwargs,
        "state": state,
        "training_args": training_args or {"dset": {"segment": 11}, "lr": 3e-4},
    }
    buffer = io.BytesIO()
    torch.save(package, buffer)
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()[:8]
    target = path.with_name(f"{path.stem}-{digest}{path.suffix}")
    target.write_bytes(buffer.getvalue())
    return target


def saved_payload(model: nn.Module, path: Path, half: bool = False) -> dict:
    """``model`` saved at ``path`` in our format, and the payload read back from it, to change."""
    save_model(model, path, half=half)
    return torch.load(path, weights_only=True)


def refusal(payload: dict, path: Path) -> str:
    """``payload`` written over ``path``: the message of the ``ModelLoadError`` that
    ``load_model`` refuses it with (the test fails where it loads)."""
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    return str(refused.value)
