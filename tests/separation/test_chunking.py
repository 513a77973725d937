"""The chunk plan, cross-fade weights and overlap-add, with known answers and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemgui.separation.chunking import (
    blend_weights,
    center_trim,
    overlap_add,
    padded_span,
    plan_chunks,
    read_frames,
    triangle_window,
    window_sum,
)


def test_triangle_window_known_values():
    np.testing.assert_allclose(triangle_window(5), np.array([1, 2, 3, 2, 1]) / 3)
    np.testing.assert_allclose(triangle_window(4), np.array([1, 2, 2, 1]) / 2)
    np.testing.assert_allclose(triangle_window(1), [1.0])
    np.testing.assert_allclose(triangle_window(4, power=2), (np.array([1, 2, 2, 1]) / 2) ** 2)


def test_plan_known_spans():
    plan = plan_chunks(10, 4, 0.25)
    assert plan.stride == 3
    assert plan.count == 3  # the reference adds (9, 10), which (6, 10) already covers
    assert [plan.span(i) for i in range(plan.count)] == [(0, 4), (3, 7), (6, 10)]
    assert [plan.final_before(i) for i in range(plan.count)] == [3, 6, 10]


@settings(max_examples=300, deadline=None)
@given(length=st.integers(1, 5000), segment=st.integers(1, 700), overlap=st.floats(0.0, 0.95))
def test_plan_is_the_reference_up_to_the_first_chunk_that_reaches_the_end(length, segment, overlap):
    """Offsets are range(0, length, int((1 - overlap) * segment)), as demucs.apply does, cut
    after the first chunk that reaches the end of the signal."""
    plan = plan_chunks(length, segment, overlap)
    reference = list(range(0, length, max(1, int((1 - overlap) * segment))))
    starts = [plan.span(i)[0] for i in range(plan.count)]
    assert starts == reference[: len(starts)]
    assert starts[-1] + segment >= length
    assert all(start + segment < length for start in starts[:-1])


@pytest.mark.parametrize(
    ("seconds", "count", "reference"),
    [(60, 10, 11), (20, 4, 4), (7.8, 1, 2), (7.9, 2, 2), (180, 31, 31)],
)
def test_chunk_counts_at_the_official_segment(seconds, count, reference):
    """htdemucs's 7.8 s chunks at overlap 0.25: the reference's last chunk is dropped only when
    the chunk before it already reaches the end."""
    length, segment = round(seconds * 44100), int(7.8 * 44100)
    plan = plan_chunks(length, segment, 0.25)
    assert plan.count == count
    assert len(range(0, length, plan.stride)) == reference


def test_empty_plan_and_bad_arguments():
    assert plan_chunks(0, 10, 0.25).count == 0
    with pytest.raises(ValueError, match="overlap"):
        plan_chunks(10, 4, 1.0)
    with pytest.raises(ValueError, match="segment_length"):
        plan_chunks(10, 0, 0.25)
    with pytest.raises(IndexError):
        plan_chunks(10, 4, 0.25).span(4)


def test_stride_is_at_least_one_frame():
    plan = plan_chunks(5, 2, 0.9)
    assert plan.stride == 1
    assert plan.count == 4


def _brute_window_sum(plan, window):
    total = np.zeros(plan.length)
    for index in range(plan.count):
        start, stop = plan.span(index)
        total[start:stop] += window[: stop - start]
    return total


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(1, 3000),
    segment=st.integers(1, 700),
    overlap=st.floats(0.0, 0.95),
)
def test_chunker_property(length, segment, overlap):
    """Summed windows are positive everywhere, and blending identity chunks gives the input."""
    plan = plan_chunks(length, segment, overlap)
    window = triangle_window(segment)
    brute = _brute_window_sum(plan, window)
    assert brute.min() > 0
    np.testing.assert_allclose(window_sum(plan, window, 0, length), brute, rtol=1e-12)

    signal = np.random.default_rng(length).standard_normal((1, 2, length)).astype(np.float32)
    out = np.zeros_like(signal)
    for index in range(plan.count):
        start, stop = plan.span(index)
        overlap_add(out, signal[..., start:stop], start, blend_weights(plan, window, index))
    np.testing.assert_allclose(out, signal, atol=1e-5)


@settings(max_examples=100, deadline=None)
@given(length=st.integers(1, 2000), segment=st.integers(1, 300), overlap=st.floats(0.0, 0.9))
def test_frames_before_final_before_are_untouched_later(length, segment, overlap):
    plan = plan_chunks(length, segment, overlap)
    starts = [plan.span(i)[0] for i in range(plan.count)]
    assert starts == sorted(set(starts))  # strictly increasing: the next start bounds the rest
    for index in range(plan.count - 1):
        assert plan.final_before(index) == starts[index + 1] > starts[index]
    assert plan.final_before(plan.count - 1) == length


@pytest.mark.parametrize("extra", [0, 1, 2, 7])
def test_padded_span_and_center_trim_line_up(extra):
    signal = np.arange(40, dtype=np.float32)[None]
    start, stop = 10, 20
    first, last = padded_span(start, stop, stop - start + extra)
    assert last - first == stop - start + extra
    assert first == start - extra // 2
    padded = read_frames(signal, first, last)
    np.testing.assert_array_equal(center_trim(padded, stop - start), signal[:, start:stop])


def test_padded_span_rejects_shorter_length():
    with pytest.raises(ValueError, match="shorter"):
        padded_span(0, 10, 9)
    with pytest.raises(ValueError, match="trim"):
        center_trim(np.zeros((1, 3)), 4)


def test_read_frames_zero_fills_delays_and_normalises():
    signal = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    np.testing.assert_array_equal(
        read_frames(signal, -1, 5, delay=1),
        [[0, 0, 1, 2, 3, 0], [0, 0, 4, 5, 6, 0]],
    )
    # normalised inside the song, zeros outside stay zeros
    np.testing.assert_array_equal(
        read_frames(signal, 2, 5, mean=1.0, std=2.0), [[1.0, 0, 0], [2.5, 0, 0]]
    )
    assert read_frames(signal, 0, 3).dtype == np.float32


def test_overlap_add_drops_delayed_frames_and_scales_per_source():
    target = np.zeros((2, 1, 4), dtype=np.float32)
    estimate = np.ones((2, 1, 3), dtype=np.float32)
    overlap_add(
        target, estimate, 0, np.array([1.0, 0.5, 0.25]), scale=np.array([2.0, 4.0]), delay=1
    )
    np.testing.assert_array_equal(target[0, 0], [1.0, 0.5, 0, 0])
    np.testing.assert_array_equal(target[1, 0], [2.0, 1.0, 0, 0])
    overlap_add(target, estimate, 3, np.ones(3))
    np.testing.assert_array_equal(target[0, 0], [1.0, 0.5, 0, 1.0])
