"""``export``: exactly the chosen files, with the right content, and never over existing files."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from stemgui.audio.encode import AudioFormat
from stemgui.errors import EncodeError, ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan, stem_names
from stemgui.stems.stemset import StemSet

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")
FLOAT32 = AudioFormat(kind="wav", bits=32, float=True, clip="none")


@pytest.fixture
def stems() -> StemSet:
    """Four distinct stereo stems, 0.05 s, every value exactly representable in float32."""
    rng = np.random.default_rng(0)
    data = (rng.integers(-(2**12), 2**12, size=(4, 2, 2205)) / 2**14).astype(np.float32)
    return StemSet(NAMES, RATE, data, mix=data.sum(axis=0))


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def read(path):
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T  # (channels, frames)


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


def test_existing_targets_refuse_everything_and_are_listed(tmp_path, stems):
    folder = tmp_path / "m" / "t"
    folder.mkdir(parents=True)
    (folder / "bass.wav").write_bytes(b"keep me")
    (folder / "vocals.wav").write_bytes(b"and me")
    request = ExportRequest(folder=tmp_path)
    with pytest.raises(ExportError) as caught:
        export(stems, request, "t", "m")
    message = str(caught.value)
    assert caught.value.path == tmp_path
    assert "2 files exist already" in message
    assert str(folder / "bass.wav") in message and str(folder / "vocals.wav") in message
    assert files_under(tmp_path) == ["m/t/bass.wav", "m/t/vocals.wav"]  # nothing written
    assert (folder / "bass.wav").read_bytes() == b"keep me"


def test_overwrite_replaces_existing_targets(tmp_path, stems):
    target = tmp_path / "m/t/bass.wav"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    refused = ExportRequest(folder=tmp_path, stems=["bass"], fmt=FLOAT32)
    with pytest.raises(ExportError, match="exists already; choose another folder") as caught:
        export(stems, refused, "t", "m")
    assert caught.value.path == target
    request = ExportRequest(folder=tmp_path, stems=["bass"], fmt=FLOAT32, overwrite=True)
    assert export(stems, request, "t", "m") == [target]
    np.testing.assert_array_equal(read(target), stems.stem("bass"))


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


def test_failed_write_removes_the_files_of_this_export(tmp_path, stems, monkeypatch):
    import stemgui.audio.stream as stream

    real = stream.write_blocks
    calls = []

    def flaky(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise EncodeError(path, "disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", flaky)
    with pytest.raises(ExportError, match="could not be written: disk full") as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert caught.value.path == tmp_path / "m/t/other.wav"
    assert len(calls) == 3
    assert files_under(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # nor the folders it made for them (m/t stayed)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mine.txt").write_text("kept")  # a folder that was there stays
    calls.clear()
    with pytest.raises(ExportError):
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert files_under(tmp_path) == ["m/mine.txt"]


def test_a_folder_removed_while_exporting_is_said_once(tmp_path, stems, monkeypatch):
    """It was said twice over: "could not be written: cannot be written: the folder ..."."""
    import shutil

    import stemgui.audio.stream as stream

    real = stream.write_blocks
    calls = []

    def removing(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:  # a drive unplugged, a folder deleted in a file manager
            shutil.rmtree(tmp_path / "out")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", removing)
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=tmp_path / "out"), "t", "m")
    assert str(caught.value) == (
        f"{tmp_path / 'out/m/t/bass.wav'}: cannot be written: the folder "
        f"{tmp_path / 'out/m/t'} does not exist; create it"
    )


def test_a_failed_overwrite_leaves_the_earlier_export_whole(tmp_path, stems, monkeypatch):
    """Disk full on the third stem of an export over an earlier one: all the earlier files stay
    as they were, not two new stems beside two old ones."""
    import stemgui.audio.stream as stream

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    real, calls = stream.write_blocks, []

    def full(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise EncodeError(path, "disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", full)
    with pytest.raises(ExportError, match="disk full"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == before
    assert not [p for p in (tmp_path / "m" / "t").iterdir() if p.name.startswith(".")]
    monkeypatch.setattr(stream, "write_blocks", real)
    written = export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert all((tmp_path / p).read_bytes() != before[p] for p in files_under(tmp_path))
    assert [p.name for p in written] == [f"{n}.wav" for n in stems.names]


def test_a_rename_refused_at_the_end_puts_the_earlier_export_back(tmp_path, stems, monkeypatch):
    """The last step fails (Windows refuses to replace a file a DAW holds open): the files
    already renamed are taken back out and the earlier export's files return."""
    import os

    import stemgui.audio.atomic as atomic

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    for p in files_under(tmp_path):  # last week's export
        os.utime(tmp_path / p, ns=(10**18, 10**18))
    real, calls = atomic.put_in_place, []

    def refused(part, path, overwrite):
        calls.append(path)
        if len(calls) == 3:
            # another export's cleanup meanwhile: the earlier files moved aside were taken
            # for a killed run's (a rename keeps a file's age)
            assert atomic.clean_stale_parts(path.parent, older_than=60) == []
            raise PermissionError(13, "Permission denied", str(path))
        return real(part, path, overwrite)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    with pytest.raises(ExportError, match="could not be written"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert len(calls) == 3
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == before
    assert all((tmp_path / p).stat().st_mtime_ns == 10**18 for p in files_under(tmp_path))


def test_a_target_that_is_a_folder_is_refused_before_any_file(tmp_path, stems):
    (tmp_path / "m" / "t" / "other.wav").mkdir(parents=True)
    with pytest.raises(ExportError, match="is a folder") as caught:
        export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert caught.value.path == tmp_path / "m" / "t" / "other.wav"
    assert files_under(tmp_path) == []


def test_what_a_killed_export_left_in_its_folder_goes_with_the_next(tmp_path, stems):
    import os
    import subprocess
    import sys
    import time

    from stemgui.audio.atomic import part_path_for

    folder = tmp_path / "m" / "t"
    folder.mkdir(parents=True)
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    stale = folder / f".drums.wav.{killed.pid}-0badf00d.stemgui-part"
    stale.write_bytes(b"half a stem")
    two_minutes_ago = time.time() - 120
    os.utime(stale, (two_minutes_ago, two_minutes_ago))
    # Another export of this process, into the same folder: its finished files wait for its
    # last one (a long song's mp3s, minutes), so age is no sign that it was abandoned.
    running = part_path_for(folder / "bass.wav")
    running.write_bytes(b"another export, done with this stem")
    hour_ago = time.time() - 3600
    os.utime(running, (hour_ago, hour_ago))
    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert not stale.exists() and running.exists()


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


def test_a_name_cut_with_its_stem_says_so(tmp_path):
    """A template whose text before {stem} is longer than a name holds: the name was cut, the
    stem with it, and the clash was said as "put {stem} in it", which it was."""
    template = "{track}/" + "a" * 300 + "{stem}.{ext}"
    with pytest.raises(ExportError, match="gives stems 'drums' and 'bass' the same file") as caught:
        plan(ExportRequest(folder=tmp_path, template=template), NAMES, "t", "m")
    said = str(caught.value)
    assert "cut to 240 bytes, and the stem was cut off" in said and "put {stem}" not in said


@pytest.mark.parametrize("spooled", [False, True])
def test_rescaled_together_the_stems_keep_their_levels_and_add_up(tmp_path, spooled):
    frames = 1000
    levels = {"drums": 1.35, "bass": 0.5, "other": 0.25, "vocals": 0.75}  # drums over full scale
    data = np.stack([np.full((2, frames), levels[n], np.float32) for n in NAMES])
    if spooled:  # a long song's stems, on disk: written block by block
        spool = np.memmap(tmp_path / "spool.f32", np.float32, "w+", shape=data.shape)
        spool[:] = data
        data = spool
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


def test_a_file_where_the_template_needs_a_folder_is_named_before_any_work(tmp_path, stems):
    (tmp_path / "m").write_text("notes")  # where {model}/{track}/... needs a folder
    with pytest.raises(ExportError, match="is a file where the export needs a folder") as caught:
        plan(ExportRequest(folder=tmp_path), stems.names, "t", "m")
    assert caught.value.path == tmp_path / "m"
    with pytest.raises(ExportError, match="needs a folder"):  # was NotADirectoryError
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert (tmp_path / "m").read_text() == "notes"


def test_a_folder_that_cannot_be_made_says_what_to_do(tmp_path, stems, monkeypatch):
    import errno
    from pathlib import Path

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)  # a song on a read-only disk
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    # was "could not be written: Read-only file system", and nothing about what to do; then
    # it named the folder it could not make (m/t), whose permissions cannot be changed
    assert caught.value.reason == (
        f"could not be written: the folder {tmp_path} is not writable; "
        "choose another folder or change its permissions"
    )


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
        spool = np.memmap(tmp_path / "spool.f32", np.float32, "w+", shape=data.shape)
        data = spool
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


@pytest.mark.parametrize("spooled", [False, True])
def test_a_part_of_the_song_is_exported_under_a_name_of_its_own(tmp_path, stems, spooled):
    """A loop region as a sample: its frames only, not over the whole song's files."""
    from stemgui.export.naming import span_label

    data = stems.data
    if spooled:
        data = np.memmap(tmp_path / "spool.f32", np.float32, "w+", shape=stems.data.shape)
        data[:] = stems.data
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

    data = stems.data
    if spooled:
        data = np.memmap(tmp_path / "spool.f32", np.float32, "w+", shape=stems.data.shape)
        data[:] = stems.data
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


def test_a_song_s_name_too_long_for_a_file_is_cut_in_the_file_names(tmp_path, stems):
    """A name (not a path) over 255 bytes was looked up as a file: OSError, "File name too
    long", instead of the names cut to fit as ``render`` does."""
    (bass,) = export(stems, ExportRequest(folder=tmp_path, stems=["bass"]), "日" * 120, "m")
    assert bass.parent.name == "日" * 80  # 240 bytes
    assert sf.info(bass).frames == stems.frames


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


@pytest.mark.parametrize("spooled", [False, True])
def test_names_as_long_as_safe_name_allows_are_written(tmp_path, stems, spooled):
    """75 Japanese characters and the stem: 236 bytes, within the 240 of ``safe_name``. Each
    file took a temporary name and a second one built on it, which went past 255 bytes."""
    data = stems.data
    if spooled:  # a long song's stems, written block by block
        data = np.memmap(tmp_path / "spool.f32", np.float32, "w+", shape=stems.data.shape)
        data[:] = stems.data
    stemset = StemSet(NAMES, RATE, data)
    track = "あ" * 75
    request = ExportRequest(folder=tmp_path / "out", template="{track}-{stem}.{ext}", fmt=FLOAT32)
    written = export(stemset, request, track, "m")
    assert [p.name for p in written] == [f"{track}-{n}.wav" for n in NAMES]
    assert files_under(tmp_path / "out") == sorted(f"{track}-{n}.wav" for n in NAMES)
    np.testing.assert_array_equal(read(written[3]), stems.stem("vocals"))


def test_a_failed_clean_up_still_puts_the_earlier_files_back(tmp_path, stems, monkeypatch):
    """The rename of the third file is refused and a temporary file cannot be removed: the
    error is the export's, not the removal's, and the earlier files all come back."""
    import errno
    from pathlib import Path

    import stemgui.audio.atomic as atomic

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    real_put, calls = atomic.put_in_place, []

    def refused(part, path, overwrite):
        calls.append(path)
        if len(calls) == 3:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_put(part, path, overwrite)

    real_unlink = Path.unlink

    def stuck(self, missing_ok=False):
        if atomic.is_part(self) and self.exists():
            raise OSError(errno.EBUSY, "Device or resource busy", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    monkeypatch.setattr(Path, "unlink", stuck)
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    with pytest.raises(ExportError, match="not writable"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    kept = [p for p in files_under(tmp_path) if not atomic.is_part(tmp_path / p)]
    assert {p: (tmp_path / p).read_bytes() for p in kept} == before  # the stuck ones logged


def test_a_name_the_disk_cannot_hold_is_refused_before_separating(tmp_path, monkeypatch):
    """Said by ``plan`` (before the separation), naming the file, not after every stem."""
    import os

    folder = tmp_path
    while len(os.fsencode(folder)) < 3800:  # a deep folder: the whole path past 4095 bytes
        folder = folder / ("p" * 200)
    folder.mkdir(parents=True)
    with pytest.raises(ExportError, match="the path is too long") as caught:
        plan(ExportRequest(folder=folder), NAMES, "t" * 200, "m")
    assert caught.value.path == folder / "m" / ("t" * 200) / "drums.wav"
    assert "choose a folder nearer the top" in str(caught.value)
    assert plan(ExportRequest(folder=folder), NAMES, "t" * 20, "m")  # one that fits
    # eCryptfs takes names of 143 bytes: 60 Japanese characters are 180
    real = os.pathconf
    monkeypatch.setattr(
        os, "pathconf", lambda p, key: 143 if key == "PC_NAME_MAX" else real(p, key)
    )
    with pytest.raises(ExportError, match=r"too long for the disk it goes on \(180 bytes"):
        plan(ExportRequest(folder=tmp_path), NAMES, "あ" * 60, "m")
    stems = StemSet(NAMES, RATE, np.zeros((4, 2, 100), np.float32))
    track = "あ" * 45  # 135 bytes: its temporary names are cut to fit too
    written = export(stems, ExportRequest(folder=tmp_path, stems=["bass"]), track, "m")
    assert written == [tmp_path / "m" / track / "bass.wav"]


def test_a_folder_whose_name_the_disk_cannot_hold_is_refused_with_its_name(tmp_path):
    """A folder of 300 letters typed in the export dialog raised OSError (File name too long)
    from ``plan``, on every key typed after it, instead of saying what to do."""
    folder = tmp_path / ("x" * 300)
    with pytest.raises(ExportError, match=r"the name 'x+' is too long .* \(300 bytes; it takes"):
        plan(ExportRequest(folder=folder), NAMES, "t", "m")


def test_a_folder_that_cannot_be_entered_is_said_not_writable(tmp_path, stems, monkeypatch):
    """One in another user's folder raised PermissionError from ``plan`` (Path.is_dir), in
    the export dialog at every key typed and out of its Export button."""
    import errno
    import os

    locked = tmp_path / "theirs"
    locked.mkdir()
    real = os.stat

    def stat(path, *args, **kwargs):  # as for a user without the folder's x permission
        if str(path).startswith(f"{locked}{os.sep}"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", stat)
    request = ExportRequest(folder=locked / "stems")
    assert plan(request, NAMES, "t", "m")[0] == ("drums", locked / "stems/m/t/drums.wav")
    with pytest.raises(ExportError) as caught:
        export(stems, request, "t", "m")
    assert caught.value.reason == (  # the one that refused, not those to be made in it
        f"could not be written: the folder {locked} is not writable; "
        "choose another folder or change its permissions"
    )


def test_a_folder_through_a_link_to_nothing_says_the_link_leads_nowhere(tmp_path):
    """~/Music/USB linked to a drive not mounted was said to be "a file where the export
    needs a folder"."""
    (tmp_path / "USB").symlink_to(tmp_path / "media" / "usb")
    for folder in (tmp_path / "USB", tmp_path / "USB" / "stems"):
        with pytest.raises(ExportError) as caught:
            plan(ExportRequest(folder=folder), NAMES, "t", "m")
        assert str(caught.value) == (
            f"{tmp_path / 'USB'}: is a link to {tmp_path / 'media' / 'usb'}, which is not there "
            "(a drive not connected?); connect it or choose another folder"
        )


def test_two_parts_of_a_long_named_song_get_folders_of_their_own(tmp_path, stems):
    """Each folder ends with the whole part, the song's name shortened: its ".03s" taken for an
    extension, two loops ending together shared a folder (the second found "files exist")."""
    track = ("Night Drive - Extended Club Mix " * 8)[:236]
    first = export(stems, ExportRequest(folder=tmp_path, span=(0.01, 0.03)), track, "m")
    second = export(stems, ExportRequest(folder=tmp_path, span=(0.02, 0.03)), track, "m")
    assert first[0].parent.name.endswith(" 0m00.01s-0m00.03s")
    assert second[0].parent.name.endswith(" 0m00.02s-0m00.03s")
    assert [sf.info(p).frames for p in (first[0], second[0])] == [882, 441]


def test_a_long_track_name_leaves_room_for_the_stem(tmp_path, stems):
    """ "{track}_{stem}.{ext}" with an 80-character Japanese name: refused before as giving
    two stems one file, though {stem} is in it."""
    track = "あ" * 80
    request = ExportRequest(folder=tmp_path, template="{track}_{stem}.{ext}")
    written = export(stems, request, track, "m")
    assert [p.name.rpartition("_")[2] for p in written] == [f"{n}.wav" for n in NAMES]
    assert all(p.name.startswith("あ" * 70) for p in written)


def test_a_link_to_nothing_at_a_target_is_found_before_writing(tmp_path, stems, monkeypatch):
    """A dangling symbolic link: refused before any file is written (exists() follows it and
    said no: the rename found it after every stem); replaced with overwriting, and put back
    if that export fails."""
    import stemgui.audio.atomic as atomic
    import stemgui.audio.stream as stream

    link = tmp_path / "m" / "t" / "vocals.wav"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "nowhere.wav")
    real_write = stream.write_blocks
    monkeypatch.setattr(stream, "write_blocks", lambda *a, **k: pytest.fail("a file was written"))
    with pytest.raises(ExportError, match="exists already") as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert caught.value.path == link
    monkeypatch.setattr(stream, "write_blocks", real_write)
    real_put = atomic.put_in_place

    def refused(part, path, overwrite):
        if path == link:
            raise PermissionError(13, "Permission denied", str(path))
        return real_put(part, path, overwrite)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    with pytest.raises(ExportError, match="not writable"):
        export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert link.is_symlink() and sorted(p.name for p in link.parent.iterdir()) == ["vocals.wav"]
    monkeypatch.setattr(atomic, "put_in_place", real_put)
    export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert not link.is_symlink() and sf.info(link).frames == stems.frames
    assert not (tmp_path / "nowhere.wav").exists()


def test_a_song_whose_name_starts_with_a_dot_is_exported_in_sight(tmp_path, stems):
    """ " .hidden.wav": its leading space removed, its stems went to a hidden folder ".hidden"."""
    song = tmp_path / " .hidden.wav"
    request = ExportRequest(folder=tmp_path / "out", stems=["bass"])
    assert export(stems, request, song, "m") == [tmp_path / "out/m/_hidden/bass.wav"]


def test_a_folder_through_one_not_made_yet_makes_only_the_one_written_to(tmp_path, stems):
    """A folder typed as ``a/../b`` left an empty folder ``a`` beside ``b``."""
    request = ExportRequest(folder=tmp_path / "a" / ".." / "b", template="{stem}.{ext}")
    written = export(stems, request, "t", "m")
    assert written == [tmp_path / f"b/{n}.wav" for n in NAMES]  # named as they are reached
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    (tmp_path / "b" / "c").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "b" / "c")  # a link that exists goes where it leads
    written = export(stems, replace(request, folder=tmp_path / "link" / ".." / "d"), "t", "m")
    assert written[0].resolve() == tmp_path / "b" / "d" / "drums.wav"


def test_a_folder_that_cannot_be_read_is_said_not_writable(tmp_path, stems, monkeypatch):
    """Looking in it for what a killed export left raised PermissionError out of ``export``:
    the app said "unexpected error", the command line printed a traceback."""
    import errno
    from pathlib import Path

    locked = tmp_path / "theirs"
    locked.mkdir()
    real_iterdir, real_mkdir = Path.iterdir, Path.mkdir

    def refused(path):  # as for a user without the folder's read, write and x permissions
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    def iterdir(self):
        return refused(self) if locked in (self, *self.parents) else real_iterdir(self)

    def mkdir(self, *args, **kwargs):
        return refused(self) if locked in self.parents else real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=locked), "t", "m")
    assert caught.value.reason == (
        f"could not be written: the folder {locked} is not writable; "
        "choose another folder or change its permissions"
    )
