"""A song exported as one Stems file (``.stem.mp4``): the song and its four stems as AAC tracks,
the manifest DJ software reads, one file per song named as any export, none left on failure."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from stemgui.audio import stem_mp4
from stemgui.audio.mp4_boxes import parse
from stemgui.audio.stem_mp4 import STEM_COLOURS, StemFileFormat
from stemgui.errors import ExportCancelled, ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import NAMES, RATE, everything_under, files_under
from tests.export.stem_file_rig import (
    correlation,
    manifest_of,
    moov_of,
    tonal_stems,
    tracks_of,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A two-second song's Stems file, written once for the tests that read it."""
    stems = tonal_stems()
    folder = tmp_path_factory.mktemp("out")
    request = ExportRequest(folder=folder, stems=["vocals"], fmt=StemFileFormat())
    return stems, export(stems, request, "My Song", "tiny")


def test_one_file_per_song_named_by_the_template_whatever_stems_are_ticked(written):
    _stems, paths = written
    folder = paths[0].parents[2]
    assert paths == [folder / "tiny/My Song/stems.stem.mp4"]
    assert files_under(folder) == ["tiny/My Song/stems.stem.mp4"]


def test_five_tracks_the_song_then_each_stem(written):
    stems, (path,) = written
    tracks = tracks_of(path)
    assert len(tracks) == 5
    for track, name in zip(tracks[1:], NAMES):
        assert correlation(track, stems.stem(name)) > 0.99, name
    assert correlation(tracks[0], stems.data.sum(axis=0)) > 0.99


def test_the_song_track_is_the_sum_of_the_stem_tracks_and_within_full_scale(written):
    _stems, (path,) = written
    song, *parts = tracks_of(path)
    summed = np.sum(parts, axis=0)
    # AAC's error, of each track on its own (the four stems' add up): a few % of the level
    assert np.sqrt(np.mean((song - summed) ** 2)) < 0.05 * np.sqrt(np.mean(song**2))
    assert correlation(song, summed) > 0.999
    assert np.max(np.abs(song)) <= 1.0  # its stems summed peak at 2.4: all divided alike


def test_only_the_song_track_is_default(written):
    import av

    _stems, (path,) = written
    with av.open(str(path)) as container:
        default = [bool(s.disposition & av.stream.Disposition.default) for s in container.streams]
    assert default == [True, False, False, False, False]


def test_manifest_names_the_four_stems_in_order_with_colours_and_no_mastering(written):
    _stems, (path,) = written
    manifest = manifest_of(path)
    assert manifest["version"] == 1
    assert manifest["stems"] == [{"name": n, "color": STEM_COLOURS[n]} for n in NAMES]
    assert manifest["mastering_dsp"]["compressor"]["enabled"] is False
    assert manifest["mastering_dsp"]["limiter"]["enabled"] is False


def test_stems_of_another_order_are_written_in_ni_order(tmp_path):
    stems = tonal_stems(0.5)
    order = [3, 0, 2, 1]  # vocals, drums, other, bass
    shuffled = StemSet([NAMES[i] for i in order], RATE, stems.data[order])
    (path,) = export(shuffled, ExportRequest(folder=tmp_path, fmt=StemFileFormat()), "s", "m")
    assert [s["name"] for s in manifest_of(path)["stems"]] == list(NAMES)
    tracks = tracks_of(path)
    for track, name in zip(tracks[1:], NAMES):
        assert correlation(track, stems.stem(name)) > 0.99, name


def test_song_tags_tempo_and_key_in_the_itunes_list(tmp_path):
    import av

    path = tmp_path / "t.stem.mp4"
    blocks = [[np.zeros((2, 4096), np.float32)] * 5]
    tags = {"title": "Song (Stems)", "artist": "Band", "bpm": "128", "key": "F#m"}
    stem_mp4.write(path, blocks, NAMES, 2, StemFileFormat(), tags)
    with av.open(str(path)) as container:
        metadata = container.metadata
    assert (metadata["title"], metadata["artist"]) == ("Song (Stems)", "Band")
    items = moov_of(path).child(b"udta").child(b"meta").child(b"ilst").children
    kinds = [item.kind for item in items]
    assert b"tmpo" in kinds
    assert items[kinds.index(b"tmpo")].data.endswith((128).to_bytes(2, "big"))
    mean, name, data = parse(items[kinds.index(b"----")].data, frozenset())
    assert (mean.data[4:], name.data[4:]) == (b"com.apple.iTunes", b"initialkey")
    assert data.data == b"\0\0\0\1\0\0\0\0F#m"  # UTF-8 text, no locale


def test_a_song_in_two_stems_is_refused_before_writing(tmp_path):
    data = np.zeros((2, 2, 100), np.float32)
    stems = StemSet(("vocals", "no_vocals"), RATE, data)
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat())
    with pytest.raises(ExportError, match=r"holds four stems.*separated into 2"):
        plan(request, stems.names, "s", "m")
    assert everything_under(tmp_path) == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [({"two_stems": "vocals"}, "not two stems"), ({"mix_gains": [1.0] * 4}, "mix as heard")],
)
def test_two_stems_or_the_mix_heard_cannot_go_in_a_stem_file(tmp_path, extra, words):
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat(), **extra)
    with pytest.raises(ExportError, match=words):
        plan(request, NAMES, "s", "m")


def test_an_existing_file_is_not_overwritten(tmp_path):
    stems = tonal_stems(0.2)
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat(), template="{track}.{ext}")
    (path,) = export(stems, request, "s", "m")
    before = path.read_bytes()
    with pytest.raises(ExportError, match="exists already"):
        export(stems, request, "s", "m")
    assert path.read_bytes() == before


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from stemgui.audio import mp4_boxes

    def full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mp4_boxes, "edit_moov", full)  # after every track is encoded
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat())
    with pytest.raises(ExportError, match=r"stem\.mp4: could not be written: the disk is full"):
        export(tonal_stems(0.2), request, "s", "m")
    assert everything_under(tmp_path) == []


def test_a_cancelled_export_leaves_no_file(tmp_path):
    import threading

    cancel = threading.Event()
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat())
    seen = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.5:  # in the pass that writes
            cancel.set()

    with pytest.raises(ExportCancelled):
        export(tonal_stems(0.5), request, "s", "m", on_progress=progress, cancel=cancel)
    assert everything_under(tmp_path) == []
    assert seen == sorted(seen)
