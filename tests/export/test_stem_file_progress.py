"""The percent of a Stems file's export follows its encoding, nearly all the time it takes: the
pass that finds the tracks' divisor first (a fraction of a second for a 4-minute song) counts
nothing, so the status bar does not say 50 % after a second and then creep."""

from __future__ import annotations

import threading

import pytest

from stemgui.audio.stem_mp4 import StemFileFormat
from stemgui.errors import ExportCancelled
from stemgui.export.exporter import ExportRequest, export
from tests.export.export_rig import RATE, everything_under
from tests.export.stem_file_rig import tonal_stems


def test_each_stem_encoded_counts_a_quarter(tmp_path):
    seen: list[float] = []
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat())
    export(tonal_stems(0.5), request, "s", "m", on_progress=seen.append)  # one block a pass
    assert seen == [0.25, 0.5, 0.75, 1.0, 1.0]  # the last: the file in place


def test_a_cancel_in_the_peak_pass_stops_it_and_leaves_no_file(tmp_path, monkeypatch):
    from stemgui.audio import stream

    cancel = threading.Event()
    peaks = []

    def cancelled_after(block):
        peaks.append(block.shape[-1])
        cancel.set()  # as the first block's peak is found: the next is not read
        return 0.0

    monkeypatch.setattr(stream, "block_peak", cancelled_after)
    stems = tonal_stems(2 * stream.BLOCK_FRAMES / RATE + 0.5)  # three blocks
    seen: list[float] = []
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat())
    with pytest.raises(ExportCancelled):
        export(stems, request, "s", "m", on_progress=seen.append, cancel=cancel)
    assert peaks == [stream.BLOCK_FRAMES] and seen == []
    assert everything_under(tmp_path) == []
