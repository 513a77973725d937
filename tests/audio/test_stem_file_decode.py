"""A Stems file (``.stem.mp4``) dropped in the app is read as its song, the first track: not
its stems, and not longer than the song by the AAC encoder's padding."""

from __future__ import annotations

from stemgui.audio.decode import decode, probe
from stemgui.audio.stem_mp4 import StemFileFormat
from stemgui.export.exporter import ExportRequest, export
from tests.export.stem_file_rig import correlation, tonal_stems


def test_a_stem_file_decodes_as_its_song(tmp_path):
    stems = tonal_stems(1.5)
    request = ExportRequest(folder=tmp_path, fmt=StemFileFormat(), template="{track}.{ext}")
    (path,) = export(stems, request, "song", "m")
    assert path.name == "song.stem.mp4"
    assert (probe(path).channels, probe(path).codec) == (2, "aac")
    decoded = decode(path)
    assert decoded.samples.shape == (2, stems.frames)
    assert correlation(decoded.samples, stems.data.sum(axis=0)) > 0.99
    assert correlation(decoded.samples, stems.stem("drums")) < 0.9  # not the first stem
