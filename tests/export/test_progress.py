"""``export``'s progress per block, its cancel between blocks, and ``skip_existing``."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.encode import AudioFormat
from stemgui.audio.stream import BLOCK_FRAMES
from stemgui.errors import ExportCancelled, ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, NAMES, RATE, everything_under, on_disk

FRAMES = 2 * BLOCK_FRAMES + BLOCK_FRAMES // 2  # three blocks a file: two whole, one half


def make_stems(tmp_path, spooled: bool, frames: int = FRAMES) -> StemSet:
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((4, 2, frames)) * 0.1).astype(np.float32)
    if spooled:  # a long song's stems, on disk
        data = on_disk(tmp_path, data)
    return StemSet(NAMES, RATE, data, mix=np.asarray(data).sum(axis=0))


@pytest.mark.parametrize("spooled", [False, True])
def test_progress_rises_block_by_block_to_one(tmp_path, spooled):
    stems = make_stems(tmp_path, spooled)
    request = ExportRequest(folder=tmp_path / "out", stems=["vocals", "drums"], fmt=FLOAT32)
    seen: list[float] = []
    export(stems, request, "t", "m", on_progress=seen.append)
    per_file = np.cumsum([BLOCK_FRAMES, BLOCK_FRAMES, BLOCK_FRAMES // 2])
    expected = [*(per_file / (2 * FRAMES)), *((FRAMES + per_file) / (2 * FRAMES)), 1.0]
    assert seen == pytest.approx(expected)


def test_every_pass_over_the_samples_is_counted(tmp_path):
    """Rescaled together: a peak pass over every file, then the pass that writes each; each
    file rescaled on its own: its peak pass and its writing pass. Both end exactly at 1."""
    stems = make_stems(tmp_path, spooled=False)
    for together in (True, False):
        seen: list[float] = []
        request = ExportRequest(folder=tmp_path / str(together), rescale_together=together)
        export(stems, request, "t", "m", on_progress=seen.append)
        assert len(seen) == 4 * 2 * 3 + 1  # 4 files, two passes of 3 blocks each; the end
        assert seen[-2] == pytest.approx(1.0) and seen[-1] == 1.0
        assert all(a < b for a, b in itertools.pairwise(seen[:-1]))


@pytest.mark.parametrize("spooled", [False, True])
def test_a_cancel_between_blocks_leaves_no_file_and_no_temporary_file(tmp_path, spooled):
    stems = make_stems(tmp_path, spooled)
    out = tmp_path / "out"
    cancel = threading.Event()
    blocks = []

    def progress(fraction):
        blocks.append(fraction)
        if len(blocks) == 7:  # the third of four files begun: its first block
            cancel.set()

    request = ExportRequest(folder=out, fmt=FLOAT32)
    with pytest.raises(ExportCancelled, match="export of t cancelled"):
        export(stems, request, "t", "m", on_progress=progress, cancel=cancel)
    assert len(blocks) == 7  # stopped at the next block, not at the end
    assert not out.exists()  # nor the folders it made


def test_a_cancelled_export_over_an_earlier_one_leaves_it_whole(tmp_path):
    stems = make_stems(tmp_path, spooled=False)
    out = tmp_path / "out"
    export(stems, ExportRequest(folder=out), "t", "m")
    before = {p: (out / p).read_bytes() for p in everything_under(out) if (out / p).is_file()}
    cancel = threading.Event()

    def progress(fraction):
        if fraction > 0.9:  # the last file's last blocks
            cancel.set()

    louder = StemSet(NAMES, RATE, stems.data * 2)
    request = ExportRequest(folder=out, overwrite=True)
    with pytest.raises(ExportCancelled):
        export(louder, request, "t", "m", on_progress=progress, cancel=cancel)
    after = {p: (out / p).read_bytes() for p in everything_under(out) if (out / p).is_file()}
    assert after == before  # no temporary file beside them either


def test_skip_existing_writes_only_the_missing_files(tmp_path):
    stems = make_stems(tmp_path, spooled=False, frames=1000)
    out = tmp_path / "out"
    kept = out / "m" / "t" / "bass.wav"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"an earlier bass")
    with pytest.raises(ExportError, match="exists already"):
        export(stems, ExportRequest(folder=out), "t", "m")
    request = ExportRequest(folder=out, skip_existing=True)
    assert [name for name, _path in plan(request, NAMES, "t", "m")] == list(NAMES)
    written = export(stems, request, "t", "m")
    assert [p.name for p in written] == ["drums.wav", "other.wav", "vocals.wav"]
    assert kept.read_bytes() == b"an earlier bass"
    assert sorted(p.name for p in kept.parent.iterdir()) == sorted(f"{n}.wav" for n in NAMES)
    seen: list[float] = []
    assert export(stems, request, "t", "m", on_progress=seen.append) == []  # all there
    assert sorted(p.name for p in kept.parent.iterdir()) == sorted(f"{n}.wav" for n in NAMES)


def test_a_file_written_again_with_skip_existing_matches_its_stems(tmp_path):
    """Rescaled together, a stem deleted and exported again with skip_existing gets the one
    divisor of all the files, not one of its own: the stems still add up to the song."""
    stems = make_stems(tmp_path, spooled=False, frames=1000)
    stems.data[0] *= 20  # drums over full scale: every file is divided
    out = tmp_path / "out"
    request = ExportRequest(folder=out, fmt=AudioFormat(bits=24), rescale_together=True)
    first = export(stems, request, "t", "m")
    vocals = first[-1].read_bytes()
    first[-1].unlink()
    again = export(stems, replace(request, skip_existing=True), "t", "m")
    assert again == [first[-1]]
    assert first[-1].read_bytes() == vocals
    assert sf.info(first[-1]).frames == 1000
