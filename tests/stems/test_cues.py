"""A song's cues (``stemgui.stems.cues``): set, moved and cleared by number, kept in its stem
cache entry beside the corrections of its tempo and key without touching them, read back as
set, a damaged time read as that cue not set."""

from __future__ import annotations

import pytest

from stemgui.stemcache import StemCache
from stemgui.stems.analysis import edit_info, kept_edit
from stemgui.stems.cues import COUNT, FIELD, NO_CUES, Cues
from stemgui.stems.tempo_fix import TempoEdit
from tests.stems.stemcache_rig import _key, _stems


def test_cues_are_set_moved_and_cleared_by_number():
    cues = NO_CUES.placed(3, 12.5).placed(8, 61.0)
    assert cues.numbers() == [3, 8] and cues.at(3) == 12.5 and cues.at(1) is None
    assert cues.placed(3, 20.0).at(3) == 20.0  # set again: moved
    assert cues.placed(1, -0.01).at(1) == 0.0  # before the start: at it
    assert cues.cleared(3).numbers() == [8] and cues.cleared() is NO_CUES
    assert NO_CUES.numbers() == [] and len(NO_CUES.times) == COUNT == 8
    for number in (0, 9):
        with pytest.raises(ValueError, match="1 to 8"):
            NO_CUES.placed(number, 1.0)


def test_cues_are_kept_beside_the_corrections_in_the_entry(tmp_path):
    cache = StemCache(tmp_path / "cache")
    key = _key()
    assert cache.put(key, _stems())
    edit = TempoEdit(factor=2.0, beat_at=1.5)
    cues = NO_CUES.placed(1, 0.25).placed(4, 93.75)
    assert cache.update_info(key, edit_info(edit) | cues.to_info())
    info = cache.get(key).info
    assert info[FIELD] == [0.25, None, None, 93.75, None, None, None, None]
    assert Cues.from_info(info) == cues and kept_edit(info) == edit
    assert cache.update_info(key, cues.cleared(4).to_info())  # written whole
    info = cache.get(key).info
    assert Cues.from_info(info) == cues.cleared(4) and kept_edit(info) == edit


@pytest.mark.parametrize(
    ("kept", "read"),
    [
        (None, NO_CUES),
        ("12.5", NO_CUES),
        ([1.0, "2", True, -1.0, float("nan"), float("inf"), 7], (1.0, *[None] * 5, 7.0, None)),
        ([0.5], (0.5, *[None] * 7)),
        ([*range(10)], tuple(map(float, range(8)))),  # more than eight: the first eight
    ],
)
def test_a_damaged_time_reads_as_that_cue_not_set(kept, read):
    cues = Cues.from_info({FIELD: kept})
    assert cues == (read if isinstance(read, Cues) else Cues(read))
    assert Cues.from_info({}) is NO_CUES and Cues.from_info(None) is NO_CUES
