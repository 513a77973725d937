"""Peak envelopes: exact min/max of any range, at any zoom, built whole or chunk by chunk."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemgui.stems.stemset import StemSet
from stemgui.stems.waveform import SNAP_BINS, StemWaveforms, Waveform


def _reference(samples, start, stop, bins, ready, base=1):
    """Column by column with numpy, by the rule of Waveform.envelope's docstring (``base``:
    the Waveform's finest bin)."""
    edges = start + (np.arange(bins + 1) * (stop - start)) // bins
    if stop - start >= bins * SNAP_BINS * base:
        edges[1:-1] = edges[1:-1] // base * base
    mins, maxs = np.zeros(bins, np.float32), np.zeros(bins, np.float32)
    for i in range(bins):
        lo = min(max(edges[i], 0), ready)
        hi = min(max(edges[i + 1], edges[i] + 1, 0), ready)
        if lo < hi:
            mins[i], maxs[i] = samples[:, lo:hi].min(), samples[:, lo:hi].max()
    return mins, maxs


@st.composite
def _cases(draw):
    frames = draw(st.integers(1, 6000))
    channels = draw(st.integers(1, 2))
    levels = draw(st.sampled_from([(4, 16, 64), (8, 32), (16,), (3, 12, 48, 96)]))
    seed = draw(st.integers(0, 2**31))
    start = draw(st.integers(-frames, frames))  # a view may reach before or past the song
    stop = draw(st.integers(start, 2 * frames))
    bins = draw(st.integers(1, 80))
    ready = draw(st.integers(0, frames))
    return frames, channels, levels, seed, start, stop, bins, ready


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_envelope_equals_numpy_min_max(case):
    frames, channels, levels, seed, start, stop, bins, ready = case
    samples = np.random.default_rng(seed).standard_normal((channels, frames)).astype(np.float32)
    waveform = Waveform(samples, levels, frames_ready=ready)
    mins, maxs = waveform.envelope(start, stop, bins)
    expected_mins, expected_maxs = _reference(samples, start, stop, bins, ready, levels[0])
    np.testing.assert_array_equal(mins, expected_mins)
    np.testing.assert_array_equal(maxs, expected_maxs)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5000),
    st.lists(st.integers(1, 900), min_size=1, max_size=12),
    st.integers(0, 2**31),
)
def test_growing_in_chunks_gives_the_same_levels(frames, chunks, seed):
    samples = np.random.default_rng(seed).standard_normal((2, frames)).astype(np.float32)
    levels = (4, 16, 64)
    whole = Waveform(samples, levels)
    grown = Waveform(samples, levels, frames_ready=0)
    ready = 0
    for chunk in chunks:
        ready = min(frames, ready + chunk)
        grown.extend(ready)
        assert grown.frames_ready == ready
    grown.extend(frames)
    for f in levels:
        for got, want in zip(grown.level(f), whole.level(f)):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(grown.envelope(0, frames, 37), whole.envelope(0, frames, 37))


def test_levels_hold_min_max_of_whole_bins():
    rng = np.random.default_rng(1)
    samples = rng.standard_normal((2, 10_000)).astype(np.float32)
    waveform = Waveform(samples)  # default levels
    for f in waveform.frames_per_bin:
        mins, maxs = waveform.level(f)
        n = 10_000 // f
        blocks = samples[:, : n * f].reshape(2, n, f)
        np.testing.assert_array_equal(mins, blocks.min(axis=(0, 2)))
        np.testing.assert_array_equal(maxs, blocks.max(axis=(0, 2)))


def test_whole_song_in_few_columns_on_a_long_signal():
    """Zoomed out over default levels (coarsest bins used): still exact."""
    rng = np.random.default_rng(2)
    samples = rng.standard_normal((2, 300_001)).astype(np.float32)
    samples[1, 123_456] = 9.0
    samples[0, 7] = -9.0
    waveform = Waveform(samples)
    mins, maxs = waveform.envelope(0, 300_001, 7)
    expected = _reference(samples, 0, 300_001, 7, 300_001, waveform.frames_per_bin[0])
    np.testing.assert_array_equal(mins, expected[0])
    np.testing.assert_array_equal(maxs, expected[1])
    assert mins[0] == -9.0 and maxs[2] == 9.0


class _Reads:
    """Samples that record the frames read from them (as ``Waveform.envelope`` indexes them)."""

    def __init__(self, samples):
        self.samples, self.shape, self.frames = samples, samples.shape, set()

    def __getitem__(self, key):
        self.frames.update(np.unique(np.asarray(key[1])).tolist())
        return self.samples[key]


def test_wide_columns_read_samples_only_at_the_ends_of_the_range():
    """A long song's overview (its stems memory-mapped) reads no page of it between the two
    ends of the range and the ragged last bin before frames_ready."""
    rng = np.random.default_rng(5)
    samples = rng.standard_normal((2, 200_003)).astype(np.float32)
    waveform = Waveform(samples, (64, 256), frames_ready=190_001)
    waveform.samples = reads = _Reads(samples)
    mins, maxs = waveform.envelope(1_000, 200_003, 100)  # ~1990 frames a column: snapped
    expected = _reference(samples, 1_000, 200_003, 100, 190_001, 64)
    np.testing.assert_array_equal(mins, expected[0])
    np.testing.assert_array_equal(maxs, expected[1])
    # the first column's ends (it starts off a bin boundary) and the column holding frame
    # 190_000 (whose end is off one): at most a bin at each end of each
    first_column, last_column = (1_000, 2_944), (188_000, 190_001)
    assert 0 < len(reads.frames) <= 4 * 64
    assert all(
        a <= f < b for f in reads.frames for a, b in [first_column if f < 3_000 else last_column]
    )
    reads.frames.clear()
    waveform.envelope(1_000, 2_000, 100)  # zoomed in: exact edges, read from the samples
    assert len(reads.frames) == 1_000


def test_columns_past_frames_ready_are_silent_until_extended():
    samples = np.ones((1, 1000), np.float32)
    waveform = Waveform(samples, (8, 32), frames_ready=500)
    mins, maxs = waveform.envelope(0, 1000, 10)
    assert list(maxs) == [1.0] * 5 + [0.0] * 5 and list(mins) == [1.0] * 5 + [0.0] * 5
    waveform.extend(1000)
    assert list(waveform.envelope(0, 1000, 10)[1]) == [1.0] * 10


def test_a_range_past_the_end_keeps_the_column_width():
    """A view past the song's end (or before its start) draws the song in the columns its
    frames fall in and silence in the others, rather than squeezing it into all of them."""
    samples = np.ones((1, 1000), np.float32)
    waveform = Waveform(samples, (8, 32))
    mins, maxs = waveform.envelope(0, 2000, 10)
    assert list(maxs) == [1.0] * 5 + [0.0] * 5 and list(mins) == [1.0] * 5 + [0.0] * 5
    mins, maxs = waveform.envelope(-500, 500, 10)
    assert list(maxs) == [0.0] * 5 + [1.0] * 5 and list(mins) == [0.0] * 5 + [1.0] * 5


def test_more_columns_than_frames_repeat_samples():
    samples = np.arange(4, dtype=np.float32)
    mins, maxs = Waveform(samples, (2,)).envelope(0, 4, 8)
    np.testing.assert_array_equal(mins, [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(maxs, mins)


@pytest.mark.parametrize("levels", [(), (0,), (16, 8), (16, 24)])
def test_bad_levels_are_refused(levels):
    with pytest.raises(ValueError):
        Waveform(np.zeros(100, np.float32), levels)


def test_stem_waveforms_follow_a_running_separation():
    stems = StemSet.allocate(("a", "b"), 44100, 2, 4096)
    stems.data[:] = 0.25
    stems.data[1, 0, 3000] = -1.0
    waveforms = StemWaveforms(stems, (16, 64))
    assert waveforms["b"].frames_ready == 0
    stems.frames_ready = 2048
    assert waveforms.update() == 2048
    assert waveforms["b"].envelope(0, 4096, 2)[0].tolist() == [0.25, 0.0]
    stems.frames_ready = 4096
    waveforms.update()
    assert waveforms["b"].envelope(0, 4096, 2)[0].tolist() == [0.25, -1.0]
    assert waveforms["a"].envelope(0, 4096, 2)[0].tolist() == [0.25, 0.25]
    assert waveforms.mix is None


def test_rebind_reads_a_copy_of_the_same_stems_and_keeps_the_envelopes(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, 2, 5000)).astype(np.float32)
    stems = StemSet(["a", "b"], 44100, data, mix=data.sum(0))
    waves = StemWaveforms(stems)
    before = waves["a"].envelope(0, 5000, 50)
    copy = np.lib.format.open_memmap(
        tmp_path / "s.npy", mode="w+", dtype=np.float32, shape=data.shape
    )
    copy[:] = data
    moved = StemSet(["a", "b"], 44100, copy, mix=data.sum(0))
    waves.rebind(moved)
    assert waves.stemset is moved and np.shares_memory(waves["b"].samples, copy)
    np.testing.assert_array_equal(waves["a"].envelope(0, 5000, 50), before)
    with pytest.raises(ValueError, match="does not hold the stems"):
        waves.rebind(StemSet(["a", "b"], 44100, data[:, :, :100]))


def test_a_memory_mapped_song_lets_go_of_the_pages_it_has_read(tmp_path, monkeypatch):
    """A long song's stems file read for its envelopes: the pages go again as they are read,
    or the whole file counted in the app's memory (4.9 GB for 60 minutes)."""
    from stemgui import spool
    from stemgui.stems import waveform as waveform_module

    monkeypatch.setattr(waveform_module, "_BLOCK_FRAMES", 1000)
    monkeypatch.setattr(spool, "_RELEASE_BYTES", 1)
    released = []
    monkeypatch.setattr(
        spool, "release_pages", lambda a, start, stop, flush: released.append((start, stop))
    )
    data = spool.reserved_memmap(tmp_path / "stems.f32", (2, 2, 2500))
    data[:] = 0.5
    stemset = StemSet(("drums", "bass"), 8000, data)
    waveforms = StemWaveforms(stemset)
    assert released == [(0, 1000), (1000, 2000), (2000, 2500)]
    assert waveforms["bass"].envelope(0, 2500, 5)[1].tolist() == [0.5] * 5
