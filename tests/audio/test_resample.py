"""``BlockResampler.reader``: any range of julius's samples for a whole signal, read a block at a
time (an export at the song's own rate reads the stems this way)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("rate", [48000, 22050, 96000, 32000])
@pytest.mark.parametrize("block", [7001, 1 << 14])
def test_any_range_read_gives_julius_samples_for_the_whole_signal(rate, block):
    import julius
    import torch

    from stemgui.audio.resample import BlockResampler

    samples = np.random.default_rng(rate).standard_normal((2, 50_003)).astype(np.float32)
    reads = []

    def read(start, stop):
        reads.append(stop - start)
        return samples[:, start:stop]

    resampler = BlockResampler(44100, rate)
    resampled = resampler.reader(read, samples.shape[1])
    whole = julius.resample_frac(torch.from_numpy(samples), 44100, rate).numpy()
    length = resampler.length(samples.shape[1])
    assert length == whole.shape[1]
    ranges = [(a, min(a + block, length)) for a in range(0, length, block)]
    for start, stop in ranges[::-1]:  # out of order: each range stands alone
        np.testing.assert_allclose(resampled(start, stop), whole[:, start:stop], rtol=0, atol=1e-6)
    assert max(reads) < block * 44100 / rate + 2000  # a block and the filter's reach, no more
