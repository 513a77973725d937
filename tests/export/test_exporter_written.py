"""``export`` writes exactly the chosen files, with the right content, tags and levels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.encode import AudioFormat
from stemgui.errors import ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan, stem_names
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, NAMES, RATE, files_under, on_disk, read


def test_writes_exactly_the_chosen_stems_with_their_samples(tmp_path, stems):
    request = ExportRequest(folder=tmp_path, stems=["vocals", "drums"], fmt=FLOAT32)
    written = export(stems, request, "My Song", "tiny")
    assert written == [tmp_path / "tiny/My Song/vocals.wav", tmp_path / "tiny/My Song/drums.wav"]
    assert files_under(tmp_path) == ["tiny/My Song/drums.wav", "tiny/My Song/vocals.wav"]
    np.testing.assert_array_equal(read(written[0]), stems.stem("vocals"))
    np.testing.assert_array_equal(read(written[1]), stems.stem("drums"))


def test_all_stems_by_default_in_16_bit_with_template(tmp_path, stems):
    request = ExportRequest(folder=tmp_path, template="{track}_{stem}.{ext}")
    written = export(stems, request, tmp_path / "input" / "song.mp3", "tiny")
    assert [p.name for p in written] == [f"song_{n}.wav" for n in NAMES]
    for path, name in zip(written, NAMES):
        assert sf.info(path).subtype == "PCM_16"
        np.testing.assert_allclose(read(path), stems.stem(name), atol=1 / 2**15)


def test_flac_and_24_bit(tmp_path, stems):
    fmt = AudioFormat(kind="flac", bits=24)
    written = export(stems, ExportRequest(folder=tmp_path, stems=["bass"], fmt=fmt), "s", "m")
    assert written == [tmp_path / "m/s/bass.flac"]
    assert sf.info(written[0]).subtype == "PCM_24"
    np.testing.assert_allclose(read(written[0]), stems.stem("bass"), atol=1 / 2**23)


def test_two_stems_writes_stem_and_sum_of_the_others(tmp_path):
    frames = 100
    levels = {"drums": 0.125, "bass": 0.25, "other": 0.0625, "vocals": 0.5}
    data = np.stack([np.full((2, frames), levels[n], np.float32) for n in NAMES])
    data[:, 1] *= -1  # right channel negative: the sum must keep channels apart
    request = ExportRequest(folder=tmp_path, two_stems="vocals", stems=["drums"], fmt=FLOAT32)
    written = export(StemSet(NAMES, RATE, data), request, "t", "m")
    assert [p.name for p in written] == ["vocals.wav", "no_vocals.wav"]
    assert files_under(tmp_path) == ["m/t/no_vocals.wav", "m/t/vocals.wav"]
    np.testing.assert_array_equal(read(written[0]), data[3])
    rest = read(written[1])
    np.testing.assert_array_equal(rest[0], np.full(frames, 0.4375, np.float32))
    np.testing.assert_array_equal(rest[1], np.full(frames, -0.4375, np.float32))


def test_mix_of_what_is_heard(tmp_path, stems):
    gains = (0.0, 0.5, 0.0, 1.0)  # drums and other silent, bass at half
    request = ExportRequest(folder=tmp_path, stems=[], mix_gains=gains, fmt=FLOAT32)
    written = export(stems, request, "t", "m")
    assert written == [tmp_path / "m/t/mix.wav"]
    expected = 0.5 * stems.stem("bass") + stems.stem("vocals")
    np.testing.assert_allclose(read(written[0]), expected, atol=1e-7)


def test_a_mix_with_every_stem_muted_is_refused_naming_the_song(tmp_path, stems):
    """It was written: a file of silence, and nothing said why."""
    from stemgui.stems.mixer import MIN_DB, MixerState

    song = tmp_path / "Night Drive.flac"
    muted = MixerState(NAMES)
    for name in NAMES:
        muted.set_mute(name)
    for gains in ((0.0, 0.0, 0.0, 0.0), muted):
        request = ExportRequest(folder=tmp_path / "out", stems=["bass"], mix_gains=gains)
        with pytest.raises(ExportError, match="every stem is muted") as caught:
            export(stems, request, song, "m")
        assert caught.value.path == song
    with pytest.raises(ExportError, match="the mix of Night Drive as heard is silent"):
        plan(request, NAMES, "Night Drive", "m")
    assert not (tmp_path / "out").exists()
    down = MixerState(NAMES)  # no stem muted: every gain at the slider's bottom, "−∞ dB"
    for name in NAMES:
        down.set_gain_db(name, MIN_DB)
    with pytest.raises(ExportError, match="muted or turned all the way down; unmute or turn up"):
        export(stems, replace(request, mix_gains=down), song, "m")
    muted.set_solo("vocals")  # soloed but muted: still nothing heard
    assert not any(muted.gains)
    muted.set_mute("vocals", False)
    assert export(stems, replace(request, mix_gains=muted), song, "m")[-1].name == "mix.wav"


def test_unknown_stem_is_refused_before_writing(tmp_path, stems):
    with pytest.raises(ExportError, match="no stem 'piano'; the stems are drums, bass"):
        export(stems, ExportRequest(folder=tmp_path, stems=["bass", "piano"]), "t", "m")
    with pytest.raises(ExportError, match="no stem 'guitar'"):
        export(stems, ExportRequest(folder=tmp_path, two_stems="guitar"), "t", "m")
    assert files_under(tmp_path) == []


def test_nothing_requested_is_refused(tmp_path):
    with pytest.raises(ExportError, match="nothing to export"):
        stem_names(ExportRequest(folder=tmp_path, stems=[]), NAMES)


def test_template_giving_two_stems_one_file_is_refused(tmp_path, stems):
    request = ExportRequest(folder=tmp_path, template="{track}.{ext}")
    with pytest.raises(ExportError, match=r"same file; put \{stem\} in it"):
        export(stems, request, "t", "m")
    assert files_under(tmp_path) == []


def test_plan_lists_targets_without_writing(tmp_path):
    request = ExportRequest(folder=tmp_path, two_stems="drums", fmt=AudioFormat(kind="mp3"))
    assert plan(request, NAMES, "t", "m") == [
        ("drums", tmp_path / "m/t/drums.mp3"),
        ("no_drums", tmp_path / "m/t/no_drums.mp3"),
    ]
    assert files_under(tmp_path) == []


def test_stems_differing_only_in_case_clash(tmp_path):
    stems = StemSet(("Keys", "keys"), RATE, np.zeros((2, 2, 10), np.float32))
    with pytest.raises(ExportError, match="gives stems 'Keys' and 'keys' the same file") as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert "differ only in capitals" in str(caught.value)
    assert "put {stem} in it" not in str(caught.value)  # it is in it
    assert files_under(tmp_path) == []
    stems = StemSet(("a/b", "a:b"), RATE, np.zeros((2, 2, 10), np.float32))
    with pytest.raises(ExportError, match=r"'a_b\.wav': names are made safe for every disk"):
        export(stems, ExportRequest(folder=tmp_path), "t", "m")


@pytest.mark.parametrize("spooled", [False, True])
def test_rescaled_together_the_stems_keep_their_levels_and_add_up(tmp_path, spooled):
    frames = 1000
    levels = {"drums": 1.35, "bass": 0.5, "other": 0.25, "vocals": 0.75}  # drums over full scale
    data = np.stack([np.full((2, frames), levels[n], np.float32) for n in NAMES])
    if spooled:  # a long song's stems, on disk: written block by block
        data = on_disk(tmp_path, data)
    stemset = StemSet(NAMES, RATE, data, mix=np.asarray(data).sum(axis=0))
    fmt = AudioFormat(kind="wav", bits=24)
    apart = export(stemset, ExportRequest(folder=tmp_path / "apart", fmt=fmt), "t", "m")
    together = ExportRequest(folder=tmp_path / "together", fmt=fmt, rescale_together=True)
    written = export(stemset, together, "t", "m")
    divisor = 1.01 * 1.35  # the loudest file's, for every file
    for name, one, shared in zip(NAMES, apart, written):
        alone = levels[name] / max(1.01 * levels[name], 1.0)  # each file on its own: drums only
        np.testing.assert_allclose(read(one), alone, atol=2**-23)
        np.testing.assert_allclose(read(shared), levels[name] / divisor, atol=2**-23)
    total = sum(read(path) for path in written)
    np.testing.assert_allclose(total, stemset.mix / divisor, atol=4 * 2**-23)


@pytest.mark.parametrize("kind", ["wav", "flac", "mp3"])
@pytest.mark.parametrize("spooled", [False, True])
def test_each_file_carries_the_song_s_tags_with_the_stem_in_its_title(tmp_path, kind, spooled):
    """In a DJ's library a stem without tags is "vocals" by nobody, beside every other song's."""
    from stemgui.audio.tags import read_tags

    song = tmp_path / "05 - Night Drive.flac"
    with sf.SoundFile(song, "w", RATE, 2, format="FLAC") as handle:
        handle.title, handle.artist, handle.album = "Night Drive", "The Band", "Roads"
        handle.tracknumber, handle.genre, handle.date = "5", "House", "2024"
        handle.write(np.zeros((RATE // 10, 2), np.float32))
    data = np.zeros((4, 2, RATE // 10), np.float32)
    if spooled:  # a long song's stems, written block by block
        data = on_disk(tmp_path, data)
    stemset = StemSet(NAMES, RATE, data)
    fmt = AudioFormat(kind, 16) if kind != "mp3" else AudioFormat("mp3")
    request = ExportRequest(
        folder=tmp_path / "out", stems=["vocals"], mix_gains=(1, 1, 0, 1), fmt=fmt
    )
    vocals, mix = export(stemset, request, song, "tiny")
    shared = {"artist": "The Band", "album": "Roads", "genre": "House", "date": "2024"}
    tags = read_tags(vocals)
    assert tags == {**shared, "title": "Night Drive (Vocals)", "track": "5"}
    assert read_tags(mix)["title"] == "Night Drive (Mix)"
    # a song without tags: its file's name is the title
    untagged = tmp_path / "Demo take.wav"
    sf.write(untagged, np.zeros((100, 2), np.float32), RATE)
    request = ExportRequest(folder=tmp_path / "plain", two_stems="vocals", fmt=fmt)
    written = {path.stem: path for path in export(stemset, request, untagged, "tiny")}
    assert read_tags(written["no_vocals"]) == {"title": "Demo take (No vocals)"}
