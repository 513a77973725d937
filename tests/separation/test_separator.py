"""Separator: identity networks come back exactly, bags average, progress, cancel, shifts.
Running out of memory: tests/separation/test_separator_memory.py."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from stemgui.errors import SeparationCancelled
from stemgui.separation import normalisation, passes
from stemgui.separation.bag import BagOfModels
from stemgui.separation.normalisation import mix_statistics
from stemgui.separation.progress import Progress
from stemgui.separation.separator import Separator
from tests.separation.separator_nets import (
    RATE,
    FixedIdentityNet,
    IdentityNet,
    PaddedIdentityNet,
    PositionNet,
    assert_identity,
    song,
)

# -- identity through the chunker -------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 2, 57, 99, 100, 101, 250, 1037])
@pytest.mark.parametrize("net_class", [IdentityNet, PaddedIdentityNet, FixedIdentityNet])
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.6])
def test_identity_comes_back(frames, net_class, overlap):
    buffer = song(frames)
    result = Separator(net_class(), device="cpu", overlap=overlap).separate(buffer)
    assert_identity(result, buffer)


@pytest.mark.parametrize("segment", [0.1, 0.5, 1.3])  # 0.1: the shortest taken
@pytest.mark.parametrize("net_class", [IdentityNet, PaddedIdentityNet])
@pytest.mark.parametrize("shifts", [1, 3])
def test_identity_with_segments_and_shifts(segment, net_class, shifts):
    buffer = song(333, seed=1)
    separator = Separator(net_class(), device="cpu", segment=segment, shifts=shifts, seed=5)
    assert_identity(separator.separate(buffer), buffer)


def test_fixed_segment_net_with_shifts_and_mono():
    buffer = song(260, channels=1, seed=2)
    net = FixedIdentityNet(channels=1)
    assert_identity(Separator(net, device="cpu", shifts=2, seed=0).separate(buffer), buffer)


def test_chunks_have_the_segment_length():
    net = IdentityNet(segment=0.5)
    Separator(net, device="cpu", overlap=0.25).separate(song(200))
    # stride int(0.75 * 50) = 37: chunks start at 0, 37, ..., 185; the last one is cut
    assert net.calls == [50, 50, 50, 50, 50, 15]


def test_a_model_without_segment_gets_the_default():
    net = IdentityNet(segment=None)
    Separator(net, device="cpu", overlap=0.25).separate(song(2500))
    assert passes.DEFAULT_SEGMENT == 10.0
    assert net.calls == [1000, 1000, 1000]  # the reference adds 250 frames (2250, 2500)


def test_fixed_segment_is_never_exceeded(caplog):
    net = FixedIdentityNet(segment=0.4)
    separator = Separator(net, device="cpu", segment=3.0)
    with caplog.at_level("WARNING"):
        assert_identity(separator.separate(song(150)), song(150))
    assert set(net.calls) == {40}
    assert "segment 3 s is longer than the network's fixed 0.4 s; 0.4 s is used" in caplog.text


def test_a_bag_says_its_capped_segment_once_for_every_song(caplog):
    """Once, not once per member, nor once per song of a batch (the CLI's warning was repeated
    under each track's name)."""
    bag = BagOfModels([FixedIdentityNet(segment=0.4), FixedIdentityNet(segment=0.4)])
    separator = Separator(bag, device="cpu", segment=3.0)
    with caplog.at_level("WARNING"):
        assert_identity(separator.separate(song(150)), song(150))
        assert_identity(separator.separate(song(120)), song(120))
    assert caplog.text.count("segment 3 s is longer than the network's fixed 0.4 s") == 1


@pytest.mark.parametrize(
    "options, said",
    [
        ({"segment": 0.0}, "segment must be 0.1-60 seconds"),
        ({"segment": 1e-5}, "segment must be 0.1-60 seconds"),  # one-sample chunks: a hang
        ({"segment": 61.0}, "segment must be 0.1-60 seconds"),
        ({"segment": float("nan")}, "segment must be 0.1-60 seconds"),  # failed on every track
        ({"segment": float("inf")}, "segment must be 0.1-60 seconds"),
        ({"overlap": 1.0}, "overlap must be 0 to 0.9, got 1.0"),
        ({"overlap": 0.99999}, "overlap must be 0 to 0.9, got 0.99999"),  # days for a song
        ({"overlap": float("nan")}, "overlap must be 0 to 0.9, got nan"),
        ({"shifts": -1}, "shifts must be 0 to 20, got -1"),
        ({"shifts": 10**9}, "shifts must be 0 to 20, got 1000000000"),  # for ever, gigabytes
    ],
)
def test_bad_options_are_refused_when_the_separator_is_made(options, said):
    with pytest.raises(ValueError, match=said):
        Separator(IdentityNet(), device="cpu", **options)


def test_silent_and_constant_songs_give_no_nan():
    silent = Separator(IdentityNet(), device="cpu").separate(np.zeros((2, 300), np.float32))
    np.testing.assert_array_equal(silent, 0.0)
    constant = np.full((2, 300), 0.25, np.float32)
    result = Separator(PositionNet(), device="cpu").separate(constant)
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, 0.25, atol=1e-6)


def test_empty_song():
    progress = []
    result = Separator(IdentityNet(), device="cpu").separate(
        np.zeros((2, 0), np.float32), on_progress=progress.append
    )
    assert result.shape == (2, 2, 0)
    assert progress[-1].fraction == 1.0


def test_float64_buffer_is_accepted():
    buffer = song(120).astype(np.float64)
    result = Separator(IdentityNet(), device="cpu").separate(buffer)
    assert_identity(result, buffer.astype(np.float32))


def test_mix_statistics_match_numpy_over_blocks(monkeypatch):
    monkeypatch.setattr(normalisation, "_STATISTICS_BLOCK", 7)
    buffer = song(100, seed=3) + 5.0
    mean, std = mix_statistics(buffer)
    mono = buffer.astype(np.float64).mean(axis=0)
    assert mean == pytest.approx(mono.mean(), rel=1e-12)
    assert std == pytest.approx(mono.std(ddof=1), rel=1e-9)


# -- normalisation and bags -------------------------------------------------------------------


def test_bag_weighted_average_known_answer():
    """Models scaling by 1 and 3, weights [1, 1] and [1, 3]: sources 2x and 2.5x (around the mean).

    A network sees the normalised mix (x - m) / s; its output is mapped back by * s + m, so a
    network scaling by g gives g (x - m) + m.
    """
    bag = BagOfModels([IdentityNet(gain=1.0), IdentityNet(gain=3.0)], weights=[[1, 1], [1, 3]])
    buffer = song(230, seed=4)
    result = Separator(bag, device="cpu", overlap=0.25).separate(buffer)
    mean = float(buffer.astype(np.float64).mean())
    np.testing.assert_allclose(result[0], 2.0 * (buffer - mean) + mean, atol=1e-5)
    np.testing.assert_allclose(result[1], 2.5 * (buffer - mean) + mean, atol=1e-5)


def test_bag_segment_overrides_the_models_and_the_separator_overrides_the_bag():
    first, second = IdentityNet(segment=1.0), IdentityNet(segment=1.0)
    bag = BagOfModels([first, second], segment=0.5)
    Separator(bag, device="cpu", overlap=0.0).separate(song(100))
    assert first.calls == second.calls == [50, 50]
    first.calls.clear()
    Separator(bag, device="cpu", segment=0.25, overlap=0.0).separate(song(100))
    assert first.calls == [25, 25, 25, 25]


def test_sources_and_samplerate():
    separator = Separator(IdentityNet(sources=("drums", "bass", "vocals")), device="cpu")
    assert separator.sources == ["drums", "bass", "vocals"]
    assert separator.samplerate == RATE
    assert separator.device == torch.device("cpu")


# -- progress and frames_ready ----------------------------------------------------------------


@pytest.mark.parametrize(("models", "shifts"), [(1, 0), (2, 0), (1, 2), (2, 2)])
def test_progress_is_monotonic_and_complete(models, shifts):
    nets = [IdentityNet() for _ in range(models)]
    model = nets[0] if models == 1 else BagOfModels(nets)
    reports: list[Progress] = []
    buffer = song(420)
    Separator(model, device="cpu", shifts=shifts, seed=1).separate(buffer, reports.append)
    calls = sum(len(net.calls) for net in nets)
    assert reports[0].chunk == 0 and reports[0].fraction == 0.0
    assert [r.chunk for r in reports] == list(range(calls + 1))
    assert all(r.chunks == calls and r.models == models for r in reports)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions)
    ready = [r.frames_ready for r in reports]
    assert ready == sorted(ready)
    assert {r.model for r in reports[1:]} == set(range(models))
    last = reports[-1]
    assert last.fraction == 1.0
    assert last.frames_ready == 420
    assert last.seconds_done == pytest.approx(4.2) and last.seconds_total == pytest.approx(4.2)
    # Every pass advances along the song together: frames are final well before the end.
    halfway = reports[len(reports) // 2 + 1]
    assert 0 < halfway.frames_ready < 420


def test_the_models_of_a_bag_advance_together_along_the_song():
    nets = [IdentityNet(segment=1.0) for _ in range(2)]  # chunks of 100 frames, stride 75
    reports: list[Progress] = []
    Separator(BagOfModels(nets), device="cpu").separate(song(420), reports.append)
    assert nets[0].calls == nets[1].calls and len(nets[0].calls) == 6
    assert [r.model for r in reports] == [0] + [0, 1] * 6
    # A frame is final once both models have run every chunk touching it: after chunk i of
    # the second model, the frames before chunk i + 1 starts.
    expected = [0, 0, 75, 75, 150, 150, 225, 225, 300, 300, 375, 375, 420]
    assert [r.frames_ready for r in reports] == expected
    assert [r.seconds_done for r in reports[-2:]] == pytest.approx([4.2, 4.2])


def test_frames_ready_waits_for_every_pass():
    nets = [IdentityNet(segment=100.0) for _ in range(2)]  # one chunk per pass
    reports: list[Progress] = []
    Separator(BagOfModels(nets), device="cpu", shifts=2).separate(song(420), reports.append)
    assert [r.frames_ready for r in reports] == [0, 0, 0, 0, 420]
    assert sorted(r.model for r in reports[1:]) == [0, 0, 1, 1]


def test_frames_ready_are_final():
    """Whatever frames_ready covers during the job already holds its final value."""
    out = np.full((2, 2, 500), np.nan, dtype=np.float32)
    snapshots = []

    def on_progress(progress):
        snapshots.append(out[..., : progress.frames_ready].copy())

    result = Separator(PositionNet(), device="cpu", overlap=0.5).separate(
        song(500), on_progress=on_progress, out=out
    )
    assert result is out
    assert len({s.shape[-1] for s in snapshots}) > 3
    for snapshot in snapshots:
        np.testing.assert_array_equal(snapshot, result[..., : snapshot.shape[-1]])


def test_out_may_be_a_memmap(tmp_path):
    buffer = song(300)
    out = np.lib.format.open_memmap(
        tmp_path / "stems.npy", mode="w+", dtype=np.float32, shape=(2, 2, 300)
    )
    out[...] = 7.0
    result = Separator(IdentityNet(), device="cpu").separate(buffer, out=out)
    assert result is out
    assert_identity(np.asarray(result), buffer)


def test_a_copy_on_write_memmap_keeps_what_was_changed_in_it(tmp_path):
    """np.load(mmap_mode="c") then changed in place: letting go of its pages after the mix's
    statistics threw the changes away (its pages are private, not the file's), so the chunks
    read the file's values and the stems were those of the song as it was on disk."""
    np.save(tmp_path / "song.npy", song(5000))
    buffer = np.load(tmp_path / "song.npy", mmap_mode="c")
    buffer *= 0.5
    expected = np.array(buffer)
    result = Separator(IdentityNet(), device="cpu").separate(buffer)
    np.testing.assert_array_equal(buffer, expected)
    assert_identity(result, expected)


def test_bad_inputs_are_refused():
    separator = Separator(IdentityNet(), device="cpu")
    with pytest.raises(ValueError, match="channels"):
        separator.separate(song(50, channels=1))
    with pytest.raises(ValueError, match="out must be"):
        separator.separate(song(50), out=np.zeros((2, 2, 49), np.float32))
    with pytest.raises(ValueError, match="overlap"):
        Separator(IdentityNet(), device="cpu", overlap=1.0)
    with pytest.raises(ValueError, match="shape"):

        class WrongNet(IdentityNet):
            def forward(self, mix):
                return mix

        Separator(WrongNet(), device="cpu").separate(song(50))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_sample_that_is_not_finite_is_refused_not_spread_over_every_stem(bad):
    buffer = song(5000)
    buffer[1, 1234] = bad  # the mix's statistics, and so every chunk, would be NaN
    with pytest.raises(ValueError, match="NaN or infinite"):
        Separator(IdentityNet(), device="cpu").separate(buffer)


# -- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 3])
def test_cancel_after_k_chunks(k):
    net = IdentityNet()
    cancel = threading.Event()

    def on_progress(progress):
        if progress.chunk == k:
            cancel.set()

    with pytest.raises(SeparationCancelled, match=f"after {k} of"):
        Separator(net, device="cpu").separate(song(900), on_progress, cancel)
    assert len(net.calls) == k


class TwoLayerNet(IdentityNet):
    """An identity in two layers; the first sets ``cancel`` (a user pressing Cancel mid-chunk)."""

    def __init__(self, cancel):
        super().__init__()
        self.first = nn.Identity()
        self.second = nn.Identity()
        self.first.register_forward_hook(lambda module, args, output: cancel.set())
        self.second.register_forward_hook(lambda module, args, output: self.calls.append(-1))

    def forward(self, mix):
        return super().forward(self.second(self.first(mix)))


def test_cancel_in_the_middle_of_a_chunk_stops_before_the_next_layer():
    cancel = threading.Event()
    net = TwoLayerNet(cancel)
    with pytest.raises(SeparationCancelled, match="middle of a chunk"):
        Separator(net, device="cpu").separate(song(900), cancel=cancel)
    assert net.calls == []  # the second layer never ran, nor the rest of the forward
    assert all(not m._forward_pre_hooks for m in net.modules())  # the checks are gone again
    cancel.clear()
    assert Separator(net, device="cpu").separate(song(50)).shape == (2, 2, 50)  # uncancelled


# -- shifts -----------------------------------------------------------------------------------


def test_seeded_shifts_are_reproducible():
    buffer = song(400, seed=6)

    def run(seed, shifts=2):
        return Separator(PositionNet(), device="cpu", shifts=shifts, seed=seed).separate(buffer)

    np.testing.assert_array_equal(run(3), run(3))
    assert np.abs(run(3) - run(4)).max() > 1e-3
    assert np.abs(run(3) - run(3, shifts=0)).max() > 1e-3


def test_shift_delays_stay_within_half_a_second():
    net = IdentityNet(segment=100.0)
    Separator(net, device="cpu", shifts=20, seed=0).separate(song(300))
    # one chunk per pass, as long as the delayed song: 300 + delay, delay in [0, 50]
    assert all(300 <= length <= 350 for length in net.calls)
    assert len(set(net.calls)) > 5
