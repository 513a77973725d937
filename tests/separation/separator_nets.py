"""Stand-in networks for the Separator tests, whose outputs are known: identities (plain, padded,
of a fixed segment), one whose output depends on the position in its chunk, and one that runs out
of GPU memory; a test song and the check that the identity came back."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

RATE = 100  # frames per second: a 1 s segment is 100 frames, the largest shift 50 frames


class IdentityNet(nn.Module):
    """Copies its input to every source; records the length of every input it gets."""

    def __init__(self, sources=("a", "b"), channels=2, segment=1.0, gain=1.0):
        super().__init__()
        self.sources = list(sources)
        self.samplerate = RATE
        self.audio_channels = channels
        self.segment = segment
        self.gain = gain
        self.calls: list[int] = []

    def forward(self, mix):  # (batch, channels, time) -> (batch, sources, channels, time)
        self.calls.append(mix.shape[-1])
        return self.gain * mix[:, None].repeat(1, len(self.sources), 1, 1)


class PaddedIdentityNet(IdentityNet):
    """Wants inputs padded to a multiple of 8 plus 5 (like Demucs' valid_length)."""

    def valid_length(self, length):
        return length + (-length % 8) + 5

    def forward(self, mix):
        assert (mix.shape[-1] - 5) % 8 == 0
        return super().forward(mix)


class FixedIdentityNet(IdentityNet):
    """Runs only on chunks of its training segment, like HTDemucs."""

    use_train_segment = True

    def valid_length(self, length):
        training_length = int(self.segment * self.samplerate)
        if length > training_length:
            raise ValueError("longer than the training segment")
        return training_length

    def forward(self, mix):
        assert mix.shape[-1] == int(self.segment * self.samplerate)
        return super().forward(mix)


class PositionNet(IdentityNet):
    """Output depends on where a frame falls in its chunk, so shifts change the result."""

    def forward(self, mix):
        ramp = torch.linspace(1.0, 2.0, mix.shape[-1])
        return super().forward(mix) * ramp


class OutOfMemoryNet(IdentityNet):
    """Raises CUDA's out-of-memory error on its first ``failures`` calls."""

    def __init__(self, failures, **kwargs):
        super().__init__(**kwargs)
        self.failures = failures

    def forward(self, mix):
        if self.failures:
            self.failures -= 1
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().forward(mix)


def song(frames, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    return (0.3 + 0.5 * rng.standard_normal((channels, frames))).astype(np.float32)


def assert_identity(result, buffer):
    assert result.dtype == np.float32
    assert result.shape[1:] == buffer.shape
    for stem in result:
        assert np.abs(stem - buffer).max() <= 1e-5
