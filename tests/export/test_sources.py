"""What an export reads for each file: the stems, ``no_<stem>`` and the mix."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.export.exporter import ExportRequest, export
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, RATE, on_disk, read


@pytest.mark.parametrize("spooled", [False, True])
def test_two_stems_of_a_song_in_one_stem_write_it_and_a_silent_rest(tmp_path, spooled):
    """The rest is the sum of no stem: silence, in memory and spooled alike (spooled, the
    sum began with the first other stem, and a song in one stem raised IndexError)."""
    data = np.full((1, 2, 1000), 0.25, np.float32)
    data[0, 1] *= -1
    if spooled:  # a long song's stems, on disk: written block by block
        data = on_disk(tmp_path, data)
    stemset = StemSet(("vocals",), RATE, data)
    request = ExportRequest(folder=tmp_path / "out", two_stems="vocals", fmt=FLOAT32)
    written = export(stemset, request, "t", "m")
    assert [p.name for p in written] == ["vocals.wav", "no_vocals.wav"]
    vocals, rest = (read(p) for p in written)
    np.testing.assert_array_equal(vocals, np.asarray(data[0]))
    np.testing.assert_array_equal(rest, np.zeros((2, 1000), np.float32))
