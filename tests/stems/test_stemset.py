"""StemSet: shapes, views without copies, frames_ready, memmap storage."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.stems.stemset import StemSet

NAMES = ("drums", "bass", "other", "vocals")


def _data(frames=1000, channels=2, sources=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((sources, channels, frames)).astype(np.float32)


def test_shape_properties():
    data = _data(frames=44100)
    stems = StemSet(NAMES, 44100, data)
    assert (stems.sources, stems.channels, stems.frames) == (4, 2, 44100)
    assert stems.duration == pytest.approx(1.0)
    assert stems.frames_ready == 44100 and stems.complete
    assert stems.mix is None


def test_stem_and_block_are_views():
    data = _data()
    stems = StemSet(NAMES, 44100, data)
    assert stems.data is data
    vocals = stems.stem("vocals")
    assert np.shares_memory(vocals, data)
    np.testing.assert_array_equal(vocals, data[3])
    block = stems.block(100, 250)
    assert block.shape == (4, 2, 150) and np.shares_memory(block, data)
    np.testing.assert_array_equal(block, data[:, :, 100:250])
    assert stems.block(900, 5000).shape == (4, 2, 100)  # clipped at the end


def test_unknown_stem_names_the_stems():
    stems = StemSet(NAMES, 44100, _data())
    with pytest.raises(KeyError, match="drums, bass, other, vocals"):
        stems.stem("piano")


@pytest.mark.parametrize(
    "names, data, mix",
    [
        (NAMES[:3], _data(), None),  # one name short
        (("a", "a", "b", "c"), _data(), None),  # duplicate names
        (NAMES, _data()[0], None),  # 2-D
        (NAMES, _data(), np.zeros((2, 999), np.float32)),  # mix of the wrong length
    ],
)
def test_bad_shapes_are_refused(names, data, mix):
    with pytest.raises(ValueError):
        StemSet(names, 44100, data, mix)


def test_other_float_dtypes_become_float32():
    stems = StemSet(NAMES, 44100, _data().astype(np.float64), _data()[0].astype(np.float64))
    assert stems.data.dtype == np.float32 and stems.mix.dtype == np.float32


def test_frames_ready_only_grows_within_bounds():
    stems = StemSet(NAMES, 44100, _data(), frames_ready=0)
    assert not stems.complete
    stems.frames_ready = 300
    stems.frames_ready = 300
    assert stems.frames_ready == 300
    with pytest.raises(ValueError, match="only grows"):
        stems.frames_ready = 299
    with pytest.raises(ValueError):
        stems.frames_ready = 1001
    stems.frames_ready = 1000
    assert stems.complete


def test_allocate_on_a_memmap(tmp_path):
    path = tmp_path / "stems.f32"
    stems = StemSet.allocate(NAMES, 44100, 2, 5000, path=path)
    assert isinstance(stems.data, np.memmap)
    assert stems.frames_ready == 0 and stems.frames == 5000
    assert path.stat().st_size == 4 * 2 * 5000 * 4
    stems.data[2, :, 10:20] = 0.5  # a separation writes in place
    stems.frames_ready = 20
    assert np.all(stems.stem("other")[:, 10:20] == 0.5)
    assert isinstance(stems.block(0, 20), np.memmap)  # still a view of the file


def test_allocate_in_memory_is_silent():
    stems = StemSet.allocate(NAMES, 48000, 1, 10)
    assert stems.data.shape == (4, 1, 10) and not stems.data.any()
