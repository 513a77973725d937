"""``export`` of a part of the song, and of the stems at another rate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.encode import AudioFormat
from stemgui.errors import ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, NAMES, RATE, files_under, on_disk, read


@pytest.mark.parametrize("spooled", [False, True])
def test_a_part_of_the_song_is_exported_under_a_name_of_its_own(tmp_path, stems, spooled):
    """A loop region as a sample: its frames only, not over the whole song's files."""
    from stemgui.export.naming import span_label

    data = on_disk(tmp_path, stems.data) if spooled else stems.data
    stemset = StemSet(NAMES, RATE, data, mix=stems.mix)
    request = ExportRequest(
        folder=tmp_path, stems=["bass"], mix_gains=(0, 1, 0, 0.5), fmt=FLOAT32, span=(0.01, 0.03)
    )
    bass, mix = export(stemset, request, "My Song", "tiny")
    assert bass == tmp_path / "tiny/My Song 0m00.01s-0m00.03s/bass.wav"
    from stemgui.audio.tags import read_tags

    assert read_tags(bass)["title"] == "My Song (Bass, 0m00.01s-0m00.03s)"
    np.testing.assert_array_equal(read(bass), stems.data[1][:, 441:1323])
    np.testing.assert_allclose(
        read(mix), (stems.data[1] + 0.5 * stems.data[3])[:, 441:1323], atol=1e-7
    )
    assert span_label(62.51, 78.04) == "1m02.51s-1m18.04s"
    assert span_label(0, 59.999) == "0m00.00s-1m00.00s"
    with pytest.raises(ExportError, match="part of the song to export is empty"):
        export(stemset, ExportRequest(folder=tmp_path / "e", fmt=FLOAT32, span=(1, 1)), "s", "m")


def test_a_part_reaching_past_the_song_is_named_after_the_part_written(tmp_path, stems):
    """A span asked for beyond the song's ends was cut to the song, but the files were named
    after the times asked for: "0m00.00s-0m09.00s" for 0.05 s of stems."""
    part = export(stems, ExportRequest(folder=tmp_path, span=(-2, 9)), "My Song", "m")
    assert part[0] == tmp_path / "m" / "My Song 0m00.00s-0m00.05s" / "drums.wav"
    (tail,) = export(
        stems, ExportRequest(folder=tmp_path, stems=["bass"], span=(0.03, 9)), "s", "m"
    )
    assert tail.parent.name == "s 0m00.03s-0m00.05s" and sf.info(tail).frames == 2205 - 1323


@pytest.mark.parametrize("template", ["{stem}.{ext}", "{model}/{stem}-take.{ext}"])
def test_a_part_of_the_song_without_track_in_the_template_has_names_of_its_own(
    tmp_path, stems, template
):
    """Without {track} the loop's files were the whole song's ("vocals.wav"): a sample exported
    after the song was refused as "exists already", and with overwriting replaced it."""
    whole = export(stems, ExportRequest(folder=tmp_path, template=template), "My Song", "m")
    part = export(
        stems, ExportRequest(folder=tmp_path, template=template, span=(0.01, 0.03)), "My Song", "m"
    )
    stem, _, ext = whole[3].name.rpartition(".")
    assert part[3] == whole[3].with_name(f"{stem} 0m00.01s-0m00.03s.{ext}")
    assert not set(part) & set(whole)
    assert [sf.info(p).frames for p in (whole[3], part[3])] == [2205, 882]


@pytest.mark.parametrize("fmt", [FLOAT32, AudioFormat(kind="flac", bits=16)])
def test_the_whole_song_at_its_own_rate_has_its_own_frame_count(tmp_path, fmt):
    """A 4,807-frame 48 kHz song decodes to 4,416 frames at 44.1 kHz, which julius gave back as
    4,806: every file one frame short of the song in a 48 kHz session. Its stems, the mix, two
    stems and a pace get the song's count (a pace: the count it plays to); a part of the song,
    or another rate, as before."""
    from stemgui.export.pace import Pace

    rng = np.random.default_rng(1)
    data = (rng.standard_normal((4, 2, 4416)) * 0.05).astype(np.float32)
    stemset = StemSet(NAMES, RATE, data, mix=data.sum(0), song=(48000, 4807))
    request = ExportRequest(
        folder=tmp_path, mix_gains=(1, 1, 0, 1), fmt=fmt, samplerate=48000, overwrite=True
    )
    for path in export(stemset, request, "s", "m"):
        assert sf.info(path).frames == 4807, path.name
    for path in export(stemset, replace(request, two_stems="bass"), "s", "m"):
        assert sf.info(path).frames == 4807, path.name
    slow = export(stemset, replace(request, pace=Pace(0.5, 0)), "s", "m")
    assert {sf.info(path).frames for path in slow} == {2 * 4807}
    part = export(stemset, replace(request, span=(0.01, 0.05)), "s", "m")
    assert {sf.info(path).frames for path in part} == {1920}
    other = export(stemset, replace(request, samplerate=32000), "s", "m")
    assert {sf.info(path).frames for path in other} == {4416 * 320 // 441}


@pytest.mark.parametrize("spooled", [False, True])
def test_the_files_can_be_at_another_rate_resampled_as_julius_does(tmp_path, stems, spooled):
    """At the song's own rate (48 kHz): the stems were always written at the model's, 44.1."""
    import julius
    import torch

    data = on_disk(tmp_path, stems.data) if spooled else stems.data
    stemset = StemSet(NAMES, RATE, data, mix=stems.mix)
    request = ExportRequest(
        folder=tmp_path, stems=["bass"], mix_gains=(0, 1, 0, 0.5), fmt=FLOAT32, samplerate=48000
    )
    bass, mix = export(stemset, request, "My Song", "m")
    expected = julius.resample_frac(torch.from_numpy(stems.data[1]), RATE, 48000).numpy()
    samples, rate = sf.read(bass, dtype="float32", always_2d=True)
    assert rate == 48000 and samples.shape == (2400, 2)  # 0.05 s
    np.testing.assert_allclose(samples.T, expected, rtol=0, atol=1e-6)
    heard = stems.data[1] + 0.5 * stems.data[3]
    heard = julius.resample_frac(torch.from_numpy(heard), RATE, 48000).numpy()
    np.testing.assert_allclose(sf.read(mix, dtype="float32")[0].T, heard, atol=1e-6)
    part = replace(request, span=(0.01, 0.03), stems=[], mix_gains=None, two_stems="vocals")
    vocals, rest = export(stemset, part, "My Song", "m")
    assert sf.info(vocals).samplerate == 48000 and sf.info(vocals).frames == 960
    np.testing.assert_allclose(
        sf.read(rest, dtype="float32")[0].T,
        julius.resample_frac(torch.from_numpy(stems.data[:3, :, 441:1323].sum(0)), RATE, 48000),
        atol=1e-6,
    )


def test_a_part_too_short_for_the_rate_it_is_written_at_is_refused(tmp_path, stems):
    """One frame of the stems at 44.1 kHz is none at 22.05 kHz: four empty files were written."""
    request = ExportRequest(folder=tmp_path, samplerate=22050, span=(0, 1 / RATE))
    with pytest.raises(ExportError, match="part of the song to export is empty at 22050 Hz"):
        export(stems, request, "s", "m")
    assert files_under(tmp_path) == []
    (one,) = export(stems, replace(request, samplerate=None, stems=["bass"]), "s", "m")
    assert sf.info(one).frames == 1  # at the stems' own rate it is a frame


def test_a_rescaled_export_at_another_rate_stays_below_full_scale(tmp_path, stems):
    """The one divisor is found on the resampled files: their peaks fall between the stems'
    samples (white noise at full scale reaches 1.76 at 48 kHz)."""
    loud = StemSet(NAMES, RATE, stems.data * (1 / np.abs(stems.data).max()), mix=stems.mix)
    request = ExportRequest(
        folder=tmp_path,
        fmt=AudioFormat(kind="wav", bits=32, float=True, clip="rescale"),  # shows what clips
        rescale_together=True,
        samplerate=48000,
    )
    peaks = [np.abs(sf.read(p)[0]).max() for p in export(loud, request, "s", "m")]
    assert 0.98 < max(peaks) < 0.9901  # 1 / 1.01


def test_a_rate_the_format_cannot_hold_is_refused_before_writing(tmp_path, stems):
    mp3 = AudioFormat(kind="mp3")
    request = ExportRequest(folder=tmp_path, fmt=mp3, samplerate=96000)
    with pytest.raises(ExportError, match="mp3 cannot hold audio at 96000 Hz; choose wav or flac"):
        export(stems, request, "s", "m")
    with pytest.raises(ExportError, match="a sample rate of 0 Hz is impossible"):
        plan(replace(request, samplerate=0, fmt=FLOAT32), NAMES, "s", "m")
    assert files_under(tmp_path) == []
