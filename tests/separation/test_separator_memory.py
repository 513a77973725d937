"""Separator out of memory: shorter chunks, then the CPU, keeping the frames already ready and
progress that never goes back; other failures of the network blame the model, a GPU fault not."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stemgui.errors import ModelRunError
from stemgui.separation import memory_fallback
from stemgui.separation import separator as separator_module
from stemgui.separation.normalisation import mix_statistics
from stemgui.separation.separator import Separator
from tests.separation.separator_nets import (
    FixedIdentityNet,
    IdentityNet,
    OutOfMemoryNet,
    assert_identity,
    song,
)


@pytest.fixture
def fake_gpu(monkeypatch):
    """The separator believes it runs on CUDA; moving things is a no-op on this CPU."""
    monkeypatch.setattr(separator_module, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(memory_fallback, "to_device", lambda obj, device: obj)


def test_out_of_memory_halves_the_segment(fake_gpu, caplog):
    net = OutOfMemoryNet(failures=1, segment=1.0)
    separator = Separator(net, overlap=0.0)
    reports = []
    buffer = song(200)
    assert_identity(separator.separate(buffer, reports.append), buffer)
    assert net.calls == [50, 50, 50, 50]
    assert separator.device.type == "cuda"
    assert separator.notes == ["The GPU ran out of memory; retrying with chunks half as long."]
    assert reports[-1].notes == tuple(separator.notes)
    assert "out of memory" in caplog.text


def test_out_of_memory_twice_falls_back_to_cpu(fake_gpu):
    net = OutOfMemoryNet(failures=2, segment=1.0)
    separator = Separator(net, overlap=0.0)
    buffer = song(200)
    assert_identity(separator.separate(buffer), buffer)
    assert separator.device == torch.device("cpu")
    assert net.calls == [100, 100]  # back to the full segment on the CPU
    assert len(separator.notes) == 2 and "CPU" in separator.notes[1]


def test_out_of_memory_with_fixed_segment_goes_to_cpu(fake_gpu):
    class FixedOutOfMemoryNet(OutOfMemoryNet, FixedIdentityNet):
        pass

    net = FixedOutOfMemoryNet(failures=1, segment=1.0)
    separator = Separator(net, overlap=0.0)
    assert_identity(separator.separate(song(150)), song(150))
    assert separator.device == torch.device("cpu")
    assert set(net.calls) == {100}
    assert len(separator.notes) == 1


def test_the_cpu_out_of_memory_is_said_as_memory_not_blamed_on_the_model():
    """torch's CPU allocator says "can't allocate memory", not "out of memory": with nothing left
    to fall back to, the network's failure was taken for the model's ("cannot separate any song;
    choose another model"), and the app said any other RuntimeError as a fault in stemgui."""

    class CpuOutOfMemoryNet(IdentityNet):
        def forward(self, mix):
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                "allocate memory: you tried to allocate 1152921504606846976 bytes."
            )

    separator = Separator(CpuOutOfMemoryNet(segment=1.0), device="cpu", overlap=0.0)
    with pytest.raises(MemoryError, match="can't allocate memory"):
        separator.separate(song(200))
    assert separator.notes == []  # nothing else to try on the CPU


@pytest.mark.parametrize("overlap, shifts", [(0.0, 0), (0.25, 0), (0.25, 2)])
def test_out_of_memory_mid_song_keeps_the_frames_already_ready(fake_gpu, overlap, shifts):
    class MidSongOutOfMemoryNet(IdentityNet):
        """Runs out of memory on its third chunk; from then on it doubles (another device)."""

        def forward(self, mix):
            if len(self.calls) == 2 and self.gain == 1.0:
                self.gain = 2.0
                raise torch.cuda.OutOfMemoryError("CUDA out of memory")
            return super().forward(mix)

    net = MidSongOutOfMemoryNet(segment=1.0)
    reports = []
    buffer = song(400)
    separator = Separator(net, overlap=overlap, shifts=shifts, seed=1)
    result = separator.separate(buffer, reports.append)
    ready = [r.frames_ready for r in reports]
    assert ready == sorted(ready) and ready[-1] == 400  # never taken back
    restart = next(r for r in reports if r.notes)  # goes on from what was ready
    keep = restart.frames_ready
    assert 0 < keep < 400 and restart.fraction > 0
    # what was ready is kept as the first attempt made it; the rest is the second's
    np.testing.assert_allclose(result[:, :, :keep], np.stack([buffer[:, :keep]] * 2), atol=1e-5)
    mean, _ = mix_statistics(buffer)  # the network doubles the normalised song
    doubled = 2 * buffer[:, keep:] - mean
    np.testing.assert_allclose(result[:, :, keep:], np.stack([doubled] * 2), atol=1e-5)
    if (overlap, shifts) == (0.0, 0):  # [0, 100) and [100, 200) not run again; then halves
        assert net.calls == [100, 100, 50, 50, 50, 50] and keep == 200
        assert restart.fraction == 4 / 8


@pytest.mark.parametrize("fixed", [False, True])  # shorter chunks, or the CPU
@pytest.mark.parametrize("overlap, shifts", [(0.0, 0), (0.25, 0), (0.25, 2)])
def test_progress_never_goes_back_after_running_out_of_memory(fake_gpu, fixed, overlap, shifts):
    """The restart's chunks were counted afresh: 0.4 then 0.27 (more, shorter chunks), 0.17
    then 0 (the CPU running again what only reached the frames being made); the app's bar and
    the CLI's went back. It goes on from the fraction reached, to 1 at the end; so do the
    seconds done (1.6 then 0.8 s of 4, 0.67 then 0 s)."""

    class MidSongOutOfMemoryNet(FixedIdentityNet if fixed else IdentityNet):
        failed = False

        def forward(self, mix):
            if len(self.calls) == 2 and not self.failed:
                self.failed = True
                raise torch.cuda.OutOfMemoryError("CUDA out of memory")
            return super().forward(mix)

    reports = []
    separator = Separator(MidSongOutOfMemoryNet(segment=1.0), overlap=overlap, shifts=shifts)
    separator.separate(song(400), reports.append)
    assert len(separator.notes) == 1
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    restart = next(i for i, r in enumerate(reports) if r.notes)
    assert fractions[restart] == fractions[restart - 1] > 0  # from where it was
    assert fractions[restart + 1] > fractions[restart]
    seconds = [r.seconds_done for r in reports]
    assert seconds == sorted(seconds) and seconds[-1] == reports[-1].seconds_total
    assert seconds[restart] == seconds[restart - 1] > 0


def test_a_model_too_big_for_the_gpu_runs_on_the_cpu(monkeypatch):
    """The weights moved onto a GPU that another program fills: the error was raised from
    ``Separator()`` and the song failed, where chunks that do not fit go on on the CPU."""
    monkeypatch.setattr(separator_module, "resolve_device", lambda name: torch.device("cuda"))
    moved = []

    def to_device(obj, device):
        if device.type == "cuda" and isinstance(obj, nn.Module):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 MiB")
        moved.append((type(obj).__name__, device.type))
        return obj

    monkeypatch.setattr(memory_fallback, "to_device", to_device)
    net = IdentityNet(segment=1.0)
    separator = Separator(net, overlap=0.0)
    assert separator.device == torch.device("cpu")
    assert separator.notes == ["The GPU ran out of memory; separating on the CPU instead (slower)."]
    buffer = song(200)
    assert_identity(separator.separate(buffer), buffer)
    assert net.calls == [100, 100]  # full-length chunks
    assert moved[0] == ("IdentityNet", "cpu") and {d for _, d in moved} == {"cpu"}


def test_out_of_memory_on_cpu_is_raised():
    separator = Separator(OutOfMemoryNet(failures=1), device="cpu")
    with pytest.raises(MemoryError) as raised:  # nothing left to try: said as memory
        separator.separate(song(100))
    assert isinstance(raised.value.__cause__, torch.cuda.OutOfMemoryError)
    assert separator.notes == []


@pytest.mark.parametrize("kind", [RuntimeError, ValueError, IndexError])
def test_other_errors_of_the_network_are_not_retried_and_blame_the_model(fake_gpu, kind):
    """Shapes that do not line up inside a network that loaded (HTDemucs of kernel_size 10 and
    stride 2, 'The size of tensor a (6) must match ...') were said as the song's failure, in
    the app and stemgui-separate, and every other song failed alike."""

    class BrokenNet(IdentityNet):
        def forward(self, mix):
            self.calls.append(mix.shape[-1])
            raise kind("shape mismatch\nat layer 2")

    net = BrokenNet()
    with pytest.raises(ModelRunError) as refused:
        Separator(net).separate(song(100))
    assert str(refused.value) == (
        "the model's BrokenNet network cannot separate any song (shape mismatch at layer 2); "
        "choose another model"
    )
    assert len(net.calls) == 1


def test_a_gpu_that_fails_is_not_said_as_the_models_fault(fake_gpu):
    """A driver fault on the GPU is no reason to choose another model, which would fail alike."""

    class FaultyGpuNet(IdentityNet):
        def forward(self, mix):
            raise RuntimeError("CUDA error: unspecified launch failure")

    with pytest.raises(RuntimeError) as failed:
        Separator(FaultyGpuNet()).separate(song(100))
    assert not isinstance(failed.value, ModelRunError)
    assert str(failed.value) == "CUDA error: unspecified launch failure"
