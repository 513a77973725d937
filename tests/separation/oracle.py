"""Helpers for comparing our networks with the reference ``demucs`` package (the oracle)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch
from torch import nn


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Load ``src``'s state dict into ``dst`` strictly (same keys, same shapes)."""
    dst.load_state_dict(src.state_dict(), strict=True)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute element-wise difference; the shapes must be equal."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a.detach().double() - b.detach().double()).abs().max().item()


def perturb_parameters(module: nn.Module, std: float = 0.1, seed: int = 0) -> None:
    """Add Gaussian noise to every 1-D parameter (biases, norm affines, layer scales) in place.

    Constant initialisations can hide a branch from a comparison: a LayerScale starting at 1e-4
    makes a whole residual branch invisible at a 1e-4 tolerance. Noise makes every one count.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() == 1:
                noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
                parameter.add_(std * noise)


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters."""
    return sum(p.numel() for p in module.parameters())


def relative_diff(expected: torch.Tensor, got: torch.Tensor) -> float:
    """``max |expected - got| / max |expected|``: a difference at the scale of ``expected``."""
    scale = expected.detach().double().abs().max().item()
    return max_abs_diff(expected, got) / max(scale, 1e-30)


@contextlib.contextmanager
def recorded_outputs(module: nn.Module, names: Iterable[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the named submodules during the forward passes inside the block.

    Yields a dict filled as the submodules run: name -> output of its last call. Comparing
    intermediate outputs layer by layer, each at its own scale, catches a fault deep in a network
    whose effect on the final output is below the tolerance at random initialisation.
    """
    outputs: dict[str, torch.Tensor] = {}
    submodules = dict(module.named_modules())
    handles = []
    for name in names:

        def hook(_module, _inputs, output, name=name):
            outputs[name] = output.detach().clone()

        handles.append(submodules[name].register_forward_hook(hook))
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()
