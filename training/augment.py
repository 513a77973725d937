"""The seed's data augmentations, on batches of stems shaped (batch, sources, channels, time).

Each takes a ``torch.Generator`` so that a training step is reproducible from its seed. The
mixture is never augmented directly: training forms it as the sum of the augmented stems, so
"the mixture is the sum of its stems" holds after every augmentation. Pitch and tempo are
changed once per track, before training, in ``training.repitch``.
"""

from __future__ import annotations

import torch


def random_shift(stems: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Crop each (item, source) at its own random offset in [0, shift].

    (batch, sources, channels, segment + shift) -> (batch, sources, channels, segment)
    """
    batch, sources, channels, length = stems.shape
    segment = length - shift
    if segment <= 0:
        raise ValueError(f"shift {shift} leaves no samples of a {length}-sample excerpt")
    if shift == 0:
        return stems
    offsets = torch.randint(0, shift + 1, (batch, sources, 1, 1), generator=generator)
    index = offsets + torch.arange(segment).view(1, 1, 1, segment)
    return stems.gather(3, index.expand(batch, sources, channels, segment).to(stems.device))


def flip_channels(stems: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Swap left and right of each (item, source) with probability 1/2 (stereo only)."""
    batch, sources, channels, length = stems.shape
    if channels != 2:
        return stems
    left = torch.randint(0, 2, (batch, sources, 1, 1), generator=generator).to(stems.device)
    index = torch.cat([left, 1 - left], dim=2).expand(batch, sources, 2, length)
    return stems.gather(2, index)


def flip_sign(stems: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Multiply each (item, source) by +1 or -1 with probability 1/2."""
    batch, sources = stems.shape[:2]
    signs = torch.randint(0, 2, (batch, sources, 1, 1), generator=generator) * 2 - 1
    return stems * signs.to(stems.device, stems.dtype)


def random_gain(
    stems: torch.Tensor, generator: torch.Generator, low: float = 0.25, high: float = 1.25
) -> torch.Tensor:
    """Scale each (item, source) by a gain drawn uniformly in [low, high]."""
    batch, sources = stems.shape[:2]
    gains = low + (high - low) * torch.rand((batch, sources, 1, 1), generator=generator)
    return stems * gains.to(stems.device, stems.dtype)


def remix(stems: torch.Tensor, generator: torch.Generator, group_size: int = 4) -> torch.Tensor:
    """Shuffle each source across the items of a group, making new songs from the batch.

    Items are split into groups of ``group_size`` (the last, smaller group is left as is); within
    a group, source ``s`` of item ``i`` comes from item ``perm_s(i)`` with one random permutation
    per source.
    """
    batch, sources = stems.shape[:2]
    groups = batch // group_size
    if groups == 0 or group_size < 2:
        return stems
    # One permutation per (group, source), drawn at once, and one gather: on a GPU a loop over
    # groups and sources would cost a host-to-device copy and a few kernels per iteration.
    perms = torch.rand((groups, sources, group_size), generator=generator).argsort(dim=-1)
    items = perms + group_size * torch.arange(groups).view(groups, 1, 1)
    items = items.transpose(1, 2).reshape(groups * group_size, sources).to(stems.device)
    mixed = stems[items, torch.arange(sources, device=stems.device)]
    if groups * group_size == batch:
        return mixed
    return torch.cat([mixed, stems[groups * group_size :]])


def augment(
    stems: torch.Tensor,
    generator: torch.Generator,
    *,
    shift: int = 0,
    channel_flip: bool = True,
    sign_flip: bool = True,
    gain: tuple[float, float] | None = (0.25, 1.25),
    remix_group: int = 4,
) -> torch.Tensor:
    """The training chain: shift, channel swap, sign flip, gain, remix (each optional)."""
    stems = random_shift(stems, shift, generator)
    if channel_flip:
        stems = flip_channels(stems, generator)
    if sign_flip:
        stems = flip_sign(stems, generator)
    if gain is not None:
        stems = random_gain(stems, generator, *gain)
    if remix_group > 1:
        stems = remix(stems, generator, remix_group)
    return stems
