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


@pytest.mark.parametrize(("rate", "song"), [(48000, 48_007), (96000, 96_001), (88200, 88_203)])
def test_a_song_s_own_frame_count_read_back_from_its_stems(rate, song):
    """A song at ``rate`` decoded to 44.1 kHz, then its stems written back at ``rate``: julius's
    floor lost a frame or two on the way (48,007 frames came back 48,006). Asked for the song's
    count, the reader gives it, julius's frames unchanged before the end."""
    import julius
    import torch

    from stemgui.audio.resample import BlockResampler

    mix = np.random.default_rng(song).standard_normal((2, song)).astype(np.float32)
    stems = julius.resample_frac(torch.from_numpy(mix), rate, 44100).numpy()
    resampler = BlockResampler(44100, rate, block_frames=5000)
    assert resampler.length(stems.shape[1]) < song  # what was written before
    back = resampler.reader(lambda a, b: stems[:, a:b], stems.shape[1], song)
    whole = back(0, song)
    assert whole.shape == (2, song)
    floor = julius.resample_frac(torch.from_numpy(stems), 44100, rate).numpy()
    np.testing.assert_allclose(whole[:, : floor.shape[1]], floor, rtol=0, atol=1e-6)
    np.testing.assert_allclose(back(song - 3, song), whole[:, -3:], rtol=0, atol=1e-6)
    assert np.isfinite(whole).all() and np.abs(whole[:, -3:]).max() < 5
