"""``stemgui-separate``'s output folder: -o and --filename checked before any work, the stems of
earlier runs told from songs, leftovers of killed runs, existing files kept unless --overwrite."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import soundfile as sf

from stemgui import cli
from tests.reliability.helpers import NAMES, RATE, error_lines, write_song


def test_a_stem_that_would_replace_a_song_is_refused_before_any_work(tmp_path, model_file, capsys):
    song = tmp_path / "vocals.wav"
    write_song(song)
    before = song.read_bytes()
    argv = ["vocals.wav", "-n", str(model_file), "-o", ".", "--filename", "{stem}.{ext}"]
    assert cli.main([*argv, "--overwrite"]) == 1
    assert "a stem would be written over the song vocals.wav" in capsys.readouterr().err
    assert song.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["vocals.wav"]  # no stem written


def test_an_output_folder_that_is_a_file_exits_2_before_any_work(tmp_path, capsys):
    (tmp_path / "stems").write_text("")
    with pytest.raises(SystemExit) as caught:
        cli.main([str(tmp_path / "song.wav"), "-o", str(tmp_path / "stems")])
    assert caught.value.code == 2
    assert "stems: is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:  # a folder under a file: found after each song
        cli.main([str(tmp_path / "song.wav"), "-o", str(tmp_path / "stems" / "new")])
    assert caught.value.code == 2
    assert f"{tmp_path / 'stems'} is a file, not a folder" in capsys.readouterr().err


def test_an_output_folder_behind_a_broken_link_exits_2_before_any_work(tmp_path, capsys):
    (tmp_path / "stems").symlink_to(tmp_path / "unmounted" / "stems")
    with pytest.raises(SystemExit) as caught:  # was: "is a file" after the model, every song
        cli.main([str(tmp_path / "song.wav"), "-o", str(tmp_path / "stems" / "new")])
    assert caught.value.code == 2
    said = capsys.readouterr().err
    assert f"{tmp_path / 'stems'} is a link to {tmp_path / 'unmounted' / 'stems'}" in said
    assert "which does not exist; name a folder you can write to" in said


@pytest.mark.parametrize(
    "out, words",
    [
        ("x" * 300, "is too long for the disk (300 bytes; it takes"),
        ("/".join(["d" * 200] * 25), "the path is too long (5"),
    ],
)
def test_an_output_folder_whose_name_is_too_long_exits_2_before_any_work(out, words, capsys):
    with pytest.raises(SystemExit) as caught:  # was: a traceback, "OSError: File name too long"
        cli.main(["song.wav", "-o", out])
    assert caught.value.code == 2
    said = capsys.readouterr().err
    assert words in said and "Traceback" not in said


def test_an_output_folder_above_the_songs_keeps_them_and_skips_only_stems(
    tmp_path, model_file, capsys
):
    write_song(tmp_path / "album" / "one.wav")
    write_song(tmp_path / "album" / "mix.wav")  # a song named like a stem is still a song
    write_song(tmp_path / "tiny" / "old" / "vocals.wav")  # an earlier run's stem, under -o .
    assert cli.main(["album", ".", "-n", str(model_file), "-o", "."]) == 0, capsys.readouterr()
    said = capsys.readouterr().err
    assert "left out 1 file(s) that look like stems of an earlier run" in said  # not in silence
    assert str(Path("tiny/old/vocals.wav")) in said
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.wav"))
    assert "tiny/one/drums.wav" in written  # was: "album: no audio files in this folder"
    assert "tiny/mix/drums.wav" in written
    assert not any(p.startswith("tiny/vocals/") for p in written)  # the old stem: not a song


def test_a_folder_inside_an_earlier_output_is_not_separated_again(tmp_path, model_file, capsys):
    """The model folder of an earlier run (album -o album), or a song's folder in it, given
    again: its stems were separated as songs (separated/htdemucs/vocals/drums.wav), for only
    the -o folder's stems were known. Songs that live in a folder named like a model, and a
    song named like a stem beside another, are still songs."""
    write_song(tmp_path / "album" / "one.wav")
    assert cli.main(["album", "-n", str(model_file), "-o", "album"]) == 0
    write_song(tmp_path / "music" / "htdemucs" / "mine.wav")
    write_song(tmp_path / "music" / "htdemucs" / "mix.wav")
    capsys.readouterr()
    argv = ["album/tiny", "album/tiny/one", "music/htdemucs", "-n", str(model_file)]
    assert cli.main(argv) == 1  # the two folders of stems, one line each
    stems = "4 file(s) that look like stems of an earlier run (album/tiny/one/bass.wav, …)"
    assert error_lines(capsys.readouterr().err)[:2] == [  # was: "no audio files in this folder"
        f"error: {folder}: this folder holds nothing but {stems}; name one by itself to separate it"
        for folder in ("album/tiny", "album/tiny/one")
    ]
    written = sorted(p.relative_to(tmp_path / "separated").as_posix()
                     for p in (tmp_path / "separated").rglob("*.wav"))  # fmt: skip
    assert [p.split("/")[1] for p in written] == ["mine"] * 4 + ["mix"] * 4


def test_stems_of_an_earlier_run_with_another_template_are_not_songs(tmp_path, model_file):
    write_song(tmp_path / "s1.wav")
    argv = [".", "-n", str(model_file), "-o", ".", "--filename", "{track}-{stem}.{ext}"]
    assert cli.main(argv) == 0
    assert cli.main([*argv, "--overwrite"]) == 0  # took s1-bass.wav for a song: s1-bass-drums
    names = sorted(p.name for p in tmp_path.glob("*.wav"))
    assert names == ["s1-bass.wav", "s1-drums.wav", "s1-other.wav", "s1-vocals.wav", "s1.wav"]


def test_stems_of_a_run_with_the_default_template_are_not_songs_after_a_change(
    tmp_path, model_file
):
    write_song(tmp_path / "s1.wav")
    argv = [".", "-n", str(model_file), "-o", "."]
    assert cli.main(argv) == 0  # tiny/s1/drums.wav ...
    assert cli.main([*argv, "--filename", "{track}-{stem}.{ext}"]) == 0
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.wav"))
    assert [n for n in names if not n.startswith("tiny/")] == [  # not tiny-drums-bass.wav ...
        "s1-bass.wav",
        "s1-drums.wav",
        "s1-other.wav",
        "s1-vocals.wav",
        "s1.wav",
    ]


def test_stems_at_a_pace_named_in_the_file_name_are_not_songs(tmp_path, model_file, capsys):
    """Without {track} the pace is in the file's name ("drums 80%.wav"), which the patterns of
    earlier stems missed: run again, the stems were songs, refused as "a stem would be written
    over the song tiny/drums 80%.wav"."""
    write_song(tmp_path / "solo" / "song.wav")
    argv = ["solo", "-n", str(model_file), "-o", "solo", "--filename", "{model}/{stem}.{ext}"]
    assert cli.main([*argv, "--speed", "0.8"]) == 0
    assert cli.main([*argv, "--speed", "0.8", "--overwrite"]) == 0
    assert cli.main([*argv, "--semitones", "-2"]) == 0
    assert error_lines(capsys.readouterr().err) == []
    names = sorted(p.relative_to(tmp_path / "solo").as_posix() for p in tmp_path.rglob("*.wav"))
    paced = [f"tiny/{stem} {pace}.wav" for stem in NAMES for pace in ("80%", "100% -2st")]
    assert names == sorted(["song.wav", *paced])


def test_two_tracks_that_would_write_the_same_files_are_refused_before_any_work(
    tmp_path, model_file, capsys
):
    write_song(tmp_path / "album" / "cd1" / "01.wav", seed=1)
    write_song(tmp_path / "album" / "cd2" / "01.wav", seed=2)
    assert cli.main(["album", "-n", str(model_file), "-o", "out", "--overwrite"]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    first, second = (Path("album") / cd / "01.wav" for cd in ("cd1", "cd2"))
    assert line.startswith(f"error: {first} and {second} would both write out/tiny/01/")
    assert not (tmp_path / "out").exists()  # one song's stems silently replaced the other's


@pytest.mark.parametrize(
    ("template", "levels"), [(None, 2), ("{stem}.{ext}", 0), ("a/{track}/{model}/{stem}.{ext}", 3)]
)
def test_leftovers_are_looked_for_as_deep_as_the_template_writes(tmp_path, model_file, template,
                                                                 levels):  # fmt: skip
    """Every start walked the whole -o tree for temporary files of killed runs: seconds for
    138,000 files, longer with -o ~/Music. They are looked for where the template writes (and
    above), the folders further down left unread."""
    (tmp_path / "album").mkdir()
    parts = [tmp_path / "out"]
    for depth in range(5):
        parts.append(parts[-1] / f"level{depth + 1}")
    hour_ago = time.time() - 3600
    leftovers = []
    for folder in parts:
        folder.mkdir(parents=True, exist_ok=True)
        leftover = folder / ".vocals.wav.0011.stemgui-part"
        leftover.write_bytes(b"x")
        os.utime(leftover, (hour_ago, hour_ago))
        leftovers.append(leftover)
    flags = [] if template is None else ["--filename", template]
    assert cli.main(["album", "-n", str(model_file), "-o", "out", *flags]) == 1  # no songs
    assert [p.exists() for p in leftovers] == [False] * (levels + 1) + [True] * (5 - levels)


def test_existing_stems_are_kept_unless_overwrite(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    target = tmp_path / "separated" / "tiny" / "song" / "bass.wav"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"mine")
    argv = ["song.wav", "-n", str(model_file)]
    assert cli.main(argv) == 1
    lines = error_lines(capsys.readouterr().err)
    relative = target.relative_to(tmp_path)  # the output folder is given relative to cwd
    assert lines[0] == (
        f"error: song.wav: {relative}: exists already; choose another folder or pass --overwrite"
    )
    assert len(lines) == 2 and lines[1].startswith("error: 1 of 1 track(s) failed; details in ")
    assert target.read_bytes() == b"mine"
    assert sorted(p.name for p in target.parent.iterdir()) == ["bass.wav"]
    assert cli.main([*argv, "--overwrite"]) == 0
    assert sf.info(target).frames == int(0.3 * RATE)


@pytest.mark.parametrize("refused", [os.W_OK, os.X_OK], ids=["not-writable", "not-enterable"])
def test_a_folder_under_o_that_cannot_be_written_is_said_before_separating(
    tmp_path, model_file, monkeypatch, capsys, refused
):
    """-o can be written, but the song's folder the template makes in it exists already and
    cannot be written or entered (another user's): said after the song was separated, minutes
    lost, as "separation failed (PermissionError ...)"; now before the song is even read."""
    from stemgui.separation.separator import Separator
    from tests.fakes import unwritable

    write_song(tmp_path / "song.wav")
    folder = tmp_path / "separated" / "tiny" / "song"
    folder.mkdir(parents=True)
    unwritable(monkeypatch, folder, refused=refused)
    runs = []
    separate = Separator.separate
    monkeypatch.setattr(
        Separator, "separate", lambda self, *a, **k: runs.append(1) or separate(self, *a, **k)
    )
    assert cli.main(["song.wav", "-n", str(model_file)]) == 1
    assert runs == []
    relative = folder.relative_to(tmp_path)
    assert error_lines(capsys.readouterr().err)[0] == (
        f"error: song.wav: {relative}: the folder is not writable; choose another folder or "
        "change its permissions"
    )
    assert list(folder.iterdir()) == []
