"""Each augmentation keeps the invariant it must keep."""

from __future__ import annotations

import pytest
import torch

from training import augment as aug


@pytest.fixture
def stems():
    torch.manual_seed(0)
    return torch.randn(8, 4, 2, 1000)


def gen(seed=1):
    return torch.Generator().manual_seed(seed)


def test_shift_crops_windows_of_the_original(stems):
    out = aug.random_shift(stems, 100, gen())
    assert out.shape == (8, 4, 2, 900)
    for b in range(8):
        for s in range(4):
            offsets = [o for o in range(101) if torch.equal(stems[b, s, :, o : o + 900], out[b, s])]
            assert len(offsets) == 1


def test_shift_draws_different_offsets(stems):
    out = aug.random_shift(stems, 100, gen())
    starts = {float(out[b, s, 0, 0]) for b in range(8) for s in range(4)}
    assert len(starts) > 1


def test_shift_too_long_is_refused(stems):
    with pytest.raises(ValueError):
        aug.random_shift(stems, 1000, gen())


def test_channel_flip_swaps_or_keeps_and_keeps_energy(stems):
    out = aug.flip_channels(stems, gen())
    swapped = 0
    for b in range(8):
        for s in range(4):
            if torch.equal(out[b, s], stems[b, s]):
                continue
            assert torch.equal(out[b, s], stems[b, s].flip(0))
            swapped += 1
    assert 0 < swapped < 32
    assert torch.allclose(out.pow(2).sum(), stems.pow(2).sum())


def test_sign_flip_keeps_energy_and_flips_some(stems):
    out = aug.flip_sign(stems, gen())
    assert torch.allclose(out.abs(), stems.abs())
    flipped = (out[:, :, 0, 0] != stems[:, :, 0, 0]).sum()
    assert 0 < flipped < 32


def test_gain_within_bounds(stems):
    out = aug.random_gain(stems, gen(), 0.25, 1.25)
    ratio = out[..., 0, 0] / stems[..., 0, 0]
    assert ratio.min() >= 0.25 - 1e-6 and ratio.max() <= 1.25 + 1e-6
    # One gain per (item, source): the ratio is constant along time and channels.
    assert torch.allclose(out / stems, ratio[..., None, None].expand_as(stems), rtol=1e-4)


def test_remix_permutes_sources_within_groups(stems):
    out = aug.remix(stems, gen(), group_size=4)
    for group in range(2):
        rows = range(group * 4, group * 4 + 4)
        for s in range(4):
            originals = sorted(float(stems[b, s, 0, 0]) for b in rows)
            assert sorted(float(out[b, s, 0, 0]) for b in rows) == originals
    # Remixing moves whole stems: the energy of each source over the batch is kept.
    assert torch.allclose(out.pow(2).sum(dim=(0, 2, 3)), stems.pow(2).sum(dim=(0, 2, 3)))
    assert not torch.equal(out, stems)


def test_remix_moves_whole_stems_per_source_and_leaves_a_last_smaller_group():
    torch.manual_seed(3)
    stems = torch.randn(10, 4, 2, 50)
    out = aug.remix(stems, gen(2), group_size=4)
    assert torch.equal(out[8:], stems[8:])  # 10 items: two groups of 4, the last 2 as they were
    origin = torch.full((8, 4), -1)
    for b in range(8):
        for s in range(4):
            matches = [i for i in range(10) if torch.equal(out[b, s], stems[i, s])]
            assert len(matches) == 1 and matches[0] // 4 == b // 4  # from its own group
            origin[b, s] = matches[0]
    for group in (0, 1):  # each source permuted within the group: every item used once
        rows = origin[group * 4 : group * 4 + 4]
        assert all(
            sorted(rows[:, s].tolist()) == list(range(group * 4, group * 4 + 4)) for s in range(4)
        )
    assert any(len(set(origin[b].tolist())) > 1 for b in range(8))  # sources drawn apart


def test_chain_is_reproducible_from_the_seed(stems):
    a = aug.augment(stems, gen(5), shift=50)
    b = aug.augment(stems, gen(5), shift=50)
    c = aug.augment(stems, gen(6), shift=50)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
