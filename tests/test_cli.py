"""``stemgui-separate`` end to end with a tiny known-answer model, in process.

The model multiplies the mixture by a fixed factor per stem, so every written stem has a known
answer: ``stem_k = factor_k * mix``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemgui import __main__ as entry
from stemgui import cli
from stemgui.cli.arguments import audio_format, build_parser
from stemgui.cli.batch import TrackRun
from stemgui.logs import LOG_FILE_NAME, reset_logging
from stemgui.separation import registry
from stemgui.separation.checkpoint import save_model
from stemgui.separation.hashing import file_sha256
from tests.pipes import without_waiting
from tests.reliability.helpers import FACTORS, NAMES, RATE, TinyNet, write_song


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Log file and model store folders in tmp (empty), the tiny architecture registered, cwd in
    tmp; logging handlers removed after."""
    from stemgui.separation import store

    monkeypatch.setenv("STEMGUI_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(store, "default_bundled_dir", lambda: tmp_path / "bundled")
    monkeypatch.setattr(store, "default_user_dir", lambda: tmp_path / "user")
    monkeypatch.chdir(tmp_path)
    registry.register("TinyNet", TinyNet)
    yield
    registry.unregister("TinyNet")
    reset_logging()


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "models" / "tiny.stemgui"
    path.parent.mkdir()
    save_model(TinyNet().eval(), path)
    return path


@pytest.fixture
def bundled(tmp_path, model_file) -> str:
    """``model_file`` installed as the bundled default model ``tiny-bundled``."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    sha256 = file_sha256(model_file)
    name = f"tiny-{sha256[:8]}.stemgui"
    (folder / name).write_bytes(model_file.read_bytes())
    manifest = {
        "schema": 1,
        "models": [
            {"name": "tiny-bundled", "file": name, "sha256": sha256, "default": True,
             "description": "scales the mix"},
        ],
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return "tiny-bundled"


def read(path: Path) -> np.ndarray:
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE
    return samples.T


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


# ----------------------------------------------------------------------------- arguments


def test_parser_defaults_match_the_demucs_cli():
    args = build_parser().parse_args(["song.mp3"])
    assert args.tracks == [Path("song.mp3")]
    assert args.out == Path("separated")
    assert args.filename == "{model}/{track}/{stem}.{ext}"
    assert (args.name, args.device, args.segment, args.overlap, args.shifts) == (
        None,
        "auto",
        None,
        0.25,
        0,
    )
    assert (args.two_stems, args.flac, args.mp3, args.int24, args.float32) == (
        None,
        False,
        False,
        False,
        False,
    )
    assert (args.mp3_bitrate, args.clip_mode, args.overwrite, args.verbose) == (
        320,
        "rescale",
        False,
        False,
    )


def test_the_help_says_the_range_of_every_number_it_refuses_outside_one():
    """--segment and --shifts said their ranges; --overlap (refused above 0.9, as the README
    says) and --mp3-bitrate (refused off mp3's rates) said only their defaults."""
    words = " ".join(build_parser().format_help().split())
    for said in ("0.1-60", "0-20", "overlap between chunks, 0-0.9", "32-320 kbps"):
        assert said in words, said


def test_parser_reads_every_flag():
    args = build_parser().parse_args(
        [
            "a.wav",
            "b",
            "-n",
            "htdemucs",
            "-o",
            "out",
            "--filename",
            "{track}_{stem}.{ext}",
            "--two-stems",
            "vocals",
            "--segment",
            "5.5",
            "--overlap",
            "0.5",
            "--shifts",
            "2",
            "-d",
            "cpu",
            "--mp3",
            "--mp3-bitrate",
            "192",
            "--clip-mode",
            "clamp",
            "--overwrite",
            "-v",
            "--samplerate",
            "48000",
        ]
    )
    assert args.tracks == [Path("a.wav"), Path("b")]
    assert args.samplerate == 48000 and build_parser().parse_args(["a", "--samplerate", "song"])
    assert (args.name, args.out, args.filename) == ("htdemucs", Path("out"), "{track}_{stem}.{ext}")
    assert (args.two_stems, args.segment, args.overlap, args.shifts) == ("vocals", 5.5, 0.5, 2)
    assert (args.device, args.mp3, args.mp3_bitrate, args.clip_mode) == ("cpu", True, 192, "clamp")
    assert args.overwrite and args.verbose


@pytest.mark.parametrize(
    "argv",
    [
        ["a.wav", "--flac", "--mp3"],
        ["a.wav", "--int24", "--float32"],
        ["a.wav", "--mp3", "--int24"],  # --int24 was ignored without a word
        ["--shifts", "x"],
        ["a.wav", "--shifts", "-1"],  # these failed on every track, after the model loaded
        ["a.wav", "--shifts", "1000000000"],  # a billion delays drawn (gigabytes), for ever
        ["a.wav", "--shifts", "21"],
        ["a.wav", "--overlap", "1"],
        ["a.wav", "--overlap", "0.99999"],  # one sample a step: days for a song
        ["a.wav", "--segment", "nan"],
        ["a.wav", "--segment", "0.0001"],
        ["a.wav", "--segment", "1e9"],  # a free-length network padded the song to it: 160 TiB
        ["a.wav", "--speed", "0"],
        ["a.wav", "--speed", "3"],
        ["a.wav", "--semitones", "7"],
        ["a.wav", "--semitones", "1.5"],
        ["a.wav", "-d", "cuda:7"],
        ["a.wav", "-n", ""],  # said ".: no model named ''"
        [""],  # an unset shell variable: searched the current folder, and every folder in it
        ["a.wav", "-o", ""],  # wrote into the current folder
        ["a.wav", "--samplerate", "fast"],
        ["a.wav", "--samplerate", "100"],
        ["a.wav", "--samplerate", "96000", "--mp3"],  # mp3 cannot hold it: said before any work
    ],
)
def test_conflicting_or_bad_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == 2
    assert "stemgui-separate: error:" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["flac", "mp3"])
def test_float32_with_another_format_names_the_flag(kind, capsys):
    with pytest.raises(SystemExit):
        cli.main(["a.wav", f"--{kind}", "--float32"])
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == f"stemgui-separate: error: --float32 writes wav only; leave it out for {kind}"


@pytest.mark.parametrize("rate", ["100", "0", "-5", "99999"])
def test_an_mp3_bit_rate_mp3_has_not_names_the_flag_and_the_rates(rate, capsys):
    """It said "mp3 bit rate 100 kbps is not one of (32, 40, ...)": neither the flag nor what
    to do."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["a.wav", "--mp3", "--mp3-bitrate", rate])
    assert caught.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error == (
        f"stemgui-separate: error: --mp3-bitrate {rate}: mp3 is written at 32, 40, 48, 56, 64, "
        "80, 96, 112, 128, 160, 192, 224, 256 or 320 kbps; choose one of these"
    )


@pytest.mark.parametrize(
    "argv, words",
    [
        ([""], "argument tracks: an empty path; name a file or a folder"),
        (["a.wav", "-o", ""], "argument -o/--out: an empty path; name a folder for the stems"),
    ],
)
def test_an_empty_path_is_told_what_to_name(argv, words, capsys):
    """An empty -o was told to "name a file or a folder": a file there is refused."""
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert capsys.readouterr().err.splitlines()[-1] == f"stemgui-separate: error: {words}"


def test_no_track_and_bad_template_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        cli.main(["a.wav", "--filename", "../{stem}.{ext}"])
    assert caught.value.code == 2
    assert "outside the output folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "template, words",
    [
        ("{track}.{ext}", "has no {stem}: every stem would get the same file"),
        ("  /{stem}.{ext}", "has no name (only spaces or dots)"),
        # literal braces: the text "{stem}" in every name; failed on each track, model loaded
        ("{{stem}}.{ext}", "has no {stem}: every stem would get the same file"),
    ],
)
def test_a_template_that_cannot_name_every_stem_exits_2_before_the_model_loads(
    capsys, template, words
):
    with pytest.raises(SystemExit) as caught:
        cli.main(["a.wav", "--filename", template])
    assert caught.value.code == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, template, ending",
    [
        (["--mp3"], "{track}-{stem}.wav", ".wav"),
        ([], "{stem}.mp3", ".mp3"),
        (["--flac"], "{stem}.WAV", ".WAV"),
    ],
)
def test_a_template_ending_in_another_formats_extension_exits_2(capsys, flags, template, ending):
    with pytest.raises(SystemExit) as caught:
        cli.main(["a.wav", *flags, "--filename", template])
    assert caught.value.code == 2
    assert f"ends in {ending} but the files are" in capsys.readouterr().err


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
    ("flags", "expected"),
    [
        ([], ("wav", 16, False)),
        (["--int24"], ("wav", 24, False)),
        (["--float32"], ("wav", 32, True)),
        (["--flac", "--int24"], ("flac", 24, False)),
        (["--mp3", "--mp3-bitrate", "128"], ("mp3", 16, False)),
    ],
)
def test_audio_format_from_flags(flags, expected):
    fmt = audio_format(build_parser().parse_args(["a.wav", *flags]))
    assert (fmt.kind, fmt.bits, fmt.float) == expected
    assert fmt.extension == expected[0]
    assert fmt.mp3_bitrate == (128 if "--mp3" in flags else 320)


# ----------------------------------------------------------------------------- runs


def test_good_and_corrupt_track(tmp_path, model_file, capsys):
    good = write_song(tmp_path / "in" / "good.wav")
    bad = tmp_path / "in" / "bad.mp3"
    bad.write_bytes(b"\xff\xfb\x90" + bytes(range(256)) * 8)
    status = cli.main([str(bad), str(tmp_path / "in" / "good.wav"), "-n", str(model_file),
                       "--float32"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1
    bad_lines = [line for line in err.splitlines() if "bad.mp3" in line]
    assert len(bad_lines) == 1, err
    assert bad_lines[0].startswith("error:")
    assert "Traceback" not in err
    out = tmp_path / "separated" / "tiny" / "good"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.wav" for n in NAMES)
    for name, factor in zip(NAMES, FACTORS):
        np.testing.assert_allclose(read(out / f"{name}.wav"), factor * good, atol=1e-6)
    assert not (tmp_path / "separated" / "tiny" / "bad").exists()
    log = (tmp_path / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "Traceback" in log and "bad.mp3" in log


def test_a_link_that_loops_back_on_itself_is_said_so_with_what_to_do(tmp_path, model_file, capsys):
    """A folder given that loops back on itself through links (a link to a link to it) said
    "cannot be read: Too many levels of symbolic links", nothing to do about it: it says the
    link loops, where to, and what to do, for a link on the way to a song too."""
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    (tmp_path / "album").symlink_to("album")
    song = tmp_path / "album" / "one.wav"
    assert cli.main(["a", str(song), "-n", str(model_file)]) == 1
    todo = "give the folder or song it was meant for instead, or fix or remove the link"
    assert error_lines(capsys.readouterr().err)[:2] == [
        f"error: a: is a link that loops back on itself (to b); {todo}",
        f"error: {song}: cannot be reached: {tmp_path / 'album'} is a link that loops back on "
        f"itself (to album); {todo}",
    ]


def test_verbose_shows_the_traceback(tmp_path, model_file, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all")
    assert cli.main([str(bad), "-n", str(model_file), "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_folder_of_good_tracks_exit_0_and_output_folder_skipped(tmp_path, model_file, capsys):
    songs = {name: write_song(tmp_path / "album" / f"{name}.wav", seed=i)
             for i, name in enumerate(["one", "two"])}  # fmt: skip
    write_song(tmp_path / "album" / "separated" / "old" / "x" / "vocals.wav")  # an earlier run
    (tmp_path / "album" / "notes.txt").write_text("not a song")
    out = tmp_path / "album" / "separated"
    argv = [str(tmp_path / "album"), "-n", str(model_file), "-o", str(out), "--two-stems",
            "vocals", "--float32", "--filename", "{track}-{stem}.{ext}"]  # fmt: skip
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert error_lines(capsys.readouterr().err) == []
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert written == [
        "old/x/vocals.wav",
        "one-no_vocals.wav",
        "one-vocals.wav",
        "two-no_vocals.wav",
        "two-vocals.wav",
    ]
    for name, mix in songs.items():
        np.testing.assert_allclose(read(out / f"{name}-vocals.wav"), 0.0625 * mix, atol=1e-6)
        np.testing.assert_allclose(read(out / f"{name}-no_vocals.wav"), 0.875 * mix, atol=1e-6)


def test_a_practice_track_slower_and_in_another_key(tmp_path, model_file, capsys):
    """--speed and --semitones: the stems as the app's player would play them, named so."""
    mix = write_song(tmp_path / "song.wav", seconds=2.0)
    argv = ["song.wav", "-n", str(model_file), "--float32", "--speed", "0.5", "--semitones", "-2"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    folder = tmp_path / "separated" / "tiny" / "song 50% -2st"
    stems = [read(folder / f"{name}.wav") / factor for name, factor in zip(NAMES, FACTORS)]
    assert all(s.shape == (2, 2 * mix.shape[1]) for s in stems)
    # the known-answer model's stems are fractions of the song: so are they at a pace, the
    # windows cut alike in every stem
    for stem in stems[1:]:
        np.testing.assert_allclose(stem, stems[0], atol=1e-4)


def test_the_stems_of_a_48_khz_song_at_its_own_rate_or_another(tmp_path, model_file, capsys):
    """The model runs at 44.1 kHz, so its stems came out at that rate whatever the song's: a 48
    kHz song's stems ran short and slow in a 48 kHz DAW session. --samplerate song writes each
    song's at its own rate, --samplerate N at N Hz; the default stays the model's (Demucs's)."""
    rate = 48000
    t = np.arange(rate) / rate
    song = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]) * 0.3
    sf.write(tmp_path / "song.wav", song.T.astype(np.float32), rate, subtype="FLOAT")
    for flags, expected in (
        ([], RATE),
        (["--samplerate", "song"], rate),
        (["--samplerate", "32000"], 32000),
    ):
        out = f"out-{expected}"
        argv = ["song.wav", "-n", str(model_file), "--float32", "-o", out, *flags]
        assert cli.main(argv) == 0, capsys.readouterr().err
        vocals, written = sf.read(tmp_path / out / "tiny" / "song" / "vocals.wav", dtype="float32")
        assert written == expected
        assert vocals.shape == (expected, 2)  # one second
        if expected == rate:  # back at the song's rate: the known answer, sample for sample
            inner = slice(1000, -1000)  # away from the ends, where the resamplers' filters pad
            np.testing.assert_allclose(vocals.T[:, inner], 0.0625 * song[:, inner], atol=2e-4)


def test_an_mp3_is_never_written_below_the_bit_rate_asked(tmp_path, model_file, capsys):
    """LAME, asked for 320 kbps at 22.05 kHz, wrote 160 without a word. --samplerate 22050 with
    it is a usage error saying what the rate holds; a 22.05 kHz song at its own rate keeps the
    bit rate asked at the stems' rate (as a 96 kHz song's mp3s do); 160 at 22.05 kHz is kept."""
    import av

    with pytest.raises(SystemExit) as caught:
        cli.main(["song.wav", "--mp3", "--samplerate", "22050"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: --samplerate 22050: an mp3 at that rate holds at most 160 kbps, not 320; pass "
        "--mp3-bitrate 160 or less, or choose wav or flac\n"
    )
    t = np.arange(22050) / 22050
    sf.write(tmp_path / "song.wav", np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.3, 22050)
    for flags, out, rate, kbps in (
        (["--samplerate", "song"], "own", RATE, 320),
        (["--samplerate", "22050", "--mp3-bitrate", "160"], "low", 22050, 160),
    ):
        argv = ["song.wav", "-n", str(model_file), "--mp3", "-o", out, *flags]
        assert cli.main(argv) == 0, capsys.readouterr().err
        with av.open(str(tmp_path / out / "tiny" / "song" / "vocals.mp3")) as container:
            context = container.streams.audio[0].codec_context
            assert (context.sample_rate, context.bit_rate) == (rate, kbps * 1000)


@pytest.mark.parametrize(
    ("rate", "frames"), [(48000, 48_007), (96000, 96_001), (88200, 44_103), (32000, 32_005)]
)
def test_the_stems_at_the_song_s_rate_have_its_frame_count(tmp_path, model_file, capsys, rate,
                                                           frames):  # fmt: skip
    """Resampled to the model's 44.1 kHz and back, a 48,007-frame 48 kHz song's stems had 48,006
    frames (julius's floor, twice): a frame short of the song they go beside in a session."""
    t = np.arange(frames) / rate
    song = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)]) * 0.3
    sf.write(tmp_path / "song.flac", song.T, rate, subtype="PCM_24")
    argv = ["song.flac", "-n", str(model_file), "--samplerate", "song", "--flac"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    for name, factor in zip(NAMES, FACTORS):
        stem, written = sf.read(tmp_path / "separated" / "tiny" / "song" / f"{name}.flac")
        assert written == rate and stem.shape == (frames, 2)
        inner = slice(1000, -1000)  # away from the ends, where the resamplers' filters pad
        np.testing.assert_allclose(stem.T[:, inner], factor * song[:, inner], atol=3e-4)


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


def test_a_song_whose_files_exist_in_a_folder_that_cannot_be_written_is_skipped(
    tmp_path, model_file, monkeypatch, capsys
):
    """With --skip-existing nothing is written there: the folder's permissions do not matter."""
    from tests.fakes import unwritable

    write_song(tmp_path / "song.wav")
    folder = tmp_path / "separated" / "tiny" / "song"
    folder.mkdir(parents=True)
    for name in NAMES:
        (folder / f"{name}.wav").write_bytes(b"mine")
    unwritable(monkeypatch, folder)
    assert cli.main(["song.wav", "-n", str(model_file), "--skip-existing"]) == 0
    assert "song.wav: its 4 file(s) exist already; skipped" in capsys.readouterr().err


def test_missing_track_folder_without_songs_and_missing_model(tmp_path, model_file, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["nowhere.wav", "empty", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "nowhere.wav" in line]) == 1
    assert "empty: no audio files in this folder; name the songs, or a folder that holds" in err
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(tmp_path / "absent.stemgui")]) == 1
    assert len(error_lines(capsys.readouterr().err)) == 1
    assert cli.main(["song.wav", "-n", str(tmp_path / "empty")]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: {tmp_path / 'empty'}: is a folder; name a model file in it")
    assert cli.main(["song.wav", "-n", "empty"]) == 1  # relative: said "no model named"
    (line,) = error_lines(capsys.readouterr().err)
    assert line.startswith("error: empty: is a folder; name a model file in it")


def test_only_folders_without_songs_end_with_the_batch_summary(tmp_path, model_file, capsys):
    """Given only an empty folder, the run said "empty: no audio files in this folder" and
    stopped there, without the summary every other failed batch ends with."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "bare").mkdir()
    assert cli.main(["empty", "bare", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[:2] == [  # what was wrong, not what to do: now both
        "error: empty: no audio files in this folder; name the songs, or a folder that holds some",
        "error: bare: no audio files in this folder; name the songs, or a folder that holds some",
    ]
    assert len(lines) == 3 and lines[2].startswith("error: 2 of 2 track(s) failed; details in ")


def test_a_track_or_model_whose_name_is_too_long_is_one_line_and_the_others_run(
    tmp_path, model_file, capsys
):
    """A name over 255 bytes (a paste gone wrong): "OSError: File name too long" from pathlib's
    is_dir was a traceback, and no song of the batch was separated."""
    write_song(tmp_path / "song.wav")
    long = "x" * 300 + ".wav"
    assert cli.main([long, "song.wav", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[0] == f"error: {long}: cannot be read: File name too long"
    assert len(lines) == 2 and lines[1].startswith("error: 1 of 2 track(s) failed")
    assert (tmp_path / "separated" / "tiny" / "song" / "bass.wav").is_file()
    for name in ("x" * 300 + ".stemgui", "x" * 300):  # a model file, a name in the store
        assert cli.main(["song.wav", "-n", name, "--overwrite"]) == 1
        (line,) = error_lines(capsys.readouterr().err)
        assert line.startswith(f"error: {name}: ")


def test_a_model_or_track_error_of_several_lines_is_said_on_one(
    tmp_path, model_file, monkeypatch, capsys
):
    """A bag file that is not YAML was said over five lines (the parser's, down to a lone
    "^"), and a track's error of several lines (torch's) as many: one line each is promised."""
    from stemgui.separation.separator import Separator

    write_song(tmp_path / "song.wav")
    (tmp_path / "bag.yaml").write_text("models: [\n", encoding="utf-8")
    assert cli.main(["song.wav", "-n", "bag.yaml"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "error: bag.yaml: bag file is not readable YAML: line 2, column 1: expected the node "
        "content, but found '<stream end>'; correct it, or download it again"
    )

    def fail(self, *args, **kwargs):
        raise RuntimeError("the kernel failed\n\n  on this input\n")

    monkeypatch.setattr(Separator, "separate", fail)
    assert cli.main(["song.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: song.wav: unexpected error (the kernel failed on this input), a fault in "
        f"stemgui. Details are in the log file {tmp_path / 'logs' / LOG_FILE_NAME}."
    )


def test_a_bug_exporting_one_track_is_one_line_and_the_other_tracks_run(
    tmp_path, model_file, monkeypatch, capsys
):
    """An IndexError while exporting a.wav ended the batch with a traceback, b.wav never
    tried: only RuntimeError, MemoryError, ValueError and OSError were caught per track."""
    from stemgui.export import exporter

    export = exporter.export

    def buggy(stems, request, track, *args, **kwargs):
        if Path(track).name == "a.wav":
            raise IndexError("list index out of range")
        return export(stems, request, track, *args, **kwargs)

    monkeypatch.setattr(exporter, "export", buggy)
    write_song(tmp_path / "a.wav")
    write_song(tmp_path / "b.wav")
    assert cli.main(["a.wav", "b.wav", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    log_file = tmp_path / "logs" / LOG_FILE_NAME
    assert "Traceback" not in err
    assert error_lines(err) == [
        "error: a.wav: unexpected error (list index out of range), a fault in stemgui. "
        f"Details are in the log file {log_file}.",
        f"error: 1 of 2 track(s) failed; details in {log_file}",
    ]
    assert "IndexError: list index out of range" in log_file.read_text(encoding="utf-8")
    assert not (tmp_path / "separated" / "tiny" / "a").exists()
    assert (tmp_path / "separated" / "tiny" / "b" / "vocals.wav").is_file()


def test_a_track_that_runs_out_of_memory_says_so(tmp_path, model_file, monkeypatch, capsys):
    """Said as the app says it, how to make room; not a fault of stemgui's."""
    from stemgui.separation.separator import Separator

    def greedy(self, *args, **kwargs):
        return np.empty(2**62, dtype=np.uint8)  # numpy's MemoryError: more than any machine has

    monkeypatch.setattr(Separator, "separate", greedy)
    write_song(tmp_path / "a.wav")
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: a.wav: not enough memory to separate this song. Close other programs, then retry."
    )


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_or_an_exit_while_exporting_still_stops_the_batch(
    tmp_path, model_file, monkeypatch, stop
):
    """A bug in one track lets the next run; Ctrl-C and an exit are no bug: they end the run."""
    from stemgui.export import exporter

    tried = []

    def stopped(stems, request, track, *args, **kwargs):
        tried.append(Path(track).name)
        raise stop()

    monkeypatch.setattr(exporter, "export", stopped)
    write_song(tmp_path / "a.wav")
    write_song(tmp_path / "b.wav")
    if stop is SystemExit:
        with pytest.raises(SystemExit):
            cli.main(["a.wav", "b.wav", "-n", str(model_file)])
    else:
        assert cli.main(["a.wav", "b.wav", "-n", str(model_file)]) == 130
    assert tried == ["a.wav"]


def test_a_model_whose_network_cannot_run_is_named(tmp_path, model_file, monkeypatch, capsys):
    """'separation failed (RuntimeError: The size of tensor a (28) must match ...)' blamed the
    song for a network whose shapes do not line up: the model is named, and what to do."""
    from stemgui.errors import ModelRunError
    from stemgui.separation.separator import Separator

    def fail(self, *args, **kwargs):
        raise ModelRunError(
            "the model's TinyNet network cannot separate any song (x); choose another model"
        )

    monkeypatch.setattr(Separator, "separate", fail)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: song.wav: model tiny: the model's TinyNet network cannot separate any song (x); "
        "choose another model with -n"
    )


def test_a_model_whose_network_cannot_run_stops_the_batch(
    tmp_path, model_file, monkeypatch, capsys
):
    """Every track after the first failed alike, each said as its own failure: the batch stops
    at the first, saying the tracks not tried and to choose another model."""
    from stemgui.errors import ModelRunError
    from stemgui.separation.separator import Separator

    tried = []

    def fail(self, *args, **kwargs):
        tried.append(1)
        raise ModelRunError(
            "the model's TinyNet network cannot separate any song (x); choose another model"
        )

    monkeypatch.setattr(Separator, "separate", fail)
    for name in ("a", "b", "c"):
        write_song(tmp_path / f"{name}.wav")
    assert cli.main(["a.wav", "b.wav", "c.wav", "-n", str(model_file)]) == 1
    assert len(tried) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[:2] == [
        "error: a.wav: model tiny: the model's TinyNet network cannot separate any song (x); "
        "choose another model with -n",
        "error: the 2 track(s) after a.wav were not tried: model tiny would fail them alike",
    ]
    assert lines[-1].startswith("error: 1 of 3 track(s) failed")


def test_unknown_two_stems_name_fails_once(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", "piano"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines == [
        "error: --two-stems piano: model tiny: there is no stem 'piano'; the stems are drums, "
        "bass, other, vocals"
    ]
    assert not (tmp_path / "separated").exists()
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", ""]) == 1
    assert error_lines(capsys.readouterr().err)[0].startswith("error: --two-stems '': model tiny:")


def test_two_stems_vocals_with_a_model_without_vocals_names_the_model(tmp_path, capsys):
    """The app gives such a model's stems with a note; the CLI refuses before separating,
    naming the model and its stems (it named neither the model nor why)."""
    write_song(tmp_path / "song.wav")
    model = tmp_path / "rhythm.stemgui"
    save_model(TinyNet(sources=("drums", "bass"), factors=(0.5, 0.25)).eval(), model)
    assert cli.main(["song.wav", "-n", str(model), "--two-stems", "vocals"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        "error: --two-stems vocals: model rhythm: there is no stem 'vocals'; the stems are drums, "
        "bass"
    ]
    assert not (tmp_path / "separated").exists()


# ----------------------------------------------------------------------------- python -m stemgui


def test_python_m_stemgui_separate_dispatches(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    assert entry.main(["separate", "song.wav", "-n", str(model_file), "--two-stems", "bass"]) == 0
    assert sorted(p.name for p in (tmp_path / "separated/tiny/song").iterdir()) == [
        "bass.wav",
        "no_bass.wav",
    ]


def test_python_m_stemgui_opens_the_window_with_its_arguments(monkeypatch):
    import types

    calls = []
    fake = types.ModuleType("stemgui.ui.app")
    fake.main = lambda argv=None: calls.append(argv) or 7
    monkeypatch.setitem(sys.modules, "stemgui.ui.app", fake)
    assert entry.main(["song.mp3"]) == 7
    assert entry.main([]) == 7
    assert calls == [["song.mp3"], []]


def test_python_m_stemgui_without_the_window(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "stemgui.ui.app", None)  # the import fails as if absent
    assert entry.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "stemgui-separate" in err


def test_hashed_model_file_name_gives_the_plain_model_folder(tmp_path, model_file, capsys):
    hashed = model_file.with_name(f"tiny-{file_sha256(model_file)[:8]}.stemgui")
    model_file.rename(hashed)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(hashed), "--two-stems", "drums"]) == 0
    assert (tmp_path / "separated/tiny/song/no_drums.wav").is_file()
    tampered = hashed.with_name("tiny-00000000.stemgui")
    hashed.rename(tampered)
    assert cli.main(["song.wav", "-n", str(tampered), "--overwrite"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "tiny-00000000.stemgui" in lines[0]


# ----------------------------------------------------------------------------- models


def test_list_models_prints_bundled_default_and_official(bundled, capsys):
    assert cli.main(["--list-models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["tiny-bundled", "bundled", "(default)", "scales", "the", "mix"]
    official = {line.split()[0]: line for line in lines[1:]}
    assert {"htdemucs", "htdemucs_ft", "htdemucs_6s", "mdx_extra"} <= set(official)
    assert "official" in official["htdemucs"]
    assert "(downloaded on first use)" in official["htdemucs"]
    # in columns, whatever the names' lengths: the descriptions start one under another
    assert lines[0].index("scales the mix") == official["htdemucs"].index("Hybrid Transformer")


def test_list_models_into_a_pipe_closed_early_ends_quietly(tmp_path):
    """`stemgui-separate --list-models | head -1`: the reader is gone before the list is
    written; no BrokenPipeError traceback, and success."""
    import subprocess

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    child = subprocess.Popen(
        [sys.executable, "-m", "stemgui.cli", "--list-models"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    child.stdout.close()  # before the child has imported torch, let alone printed
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors.decode()
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors


def test_default_model_is_the_bundled_one(tmp_path, bundled, capsys):
    mix = write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "--float32", "--two-stems", "bass"]) == 0
    folder = tmp_path / "separated" / bundled / "song"
    np.testing.assert_allclose(read(folder / "bass.wav"), 0.25 * mix, atol=1e-6)
    assert cli.main(["song.wav", "-n", bundled, "--overwrite"]) == 0


def test_no_model_installed_fails_with_one_line(tmp_path, capsys):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "no model is installed; choose one with -n" in lines[0]


def test_a_damaged_bundled_manifest_leaves_a_model_file_named_with_n(tmp_path, model_file, capsys):
    """It stopped every run, -n model.stemgui too, saying what was wrong and not what to do."""
    mix = write_song(tmp_path / "song.wav")
    (tmp_path / "bundled").mkdir()
    manifest = tmp_path / "bundled" / "manifest.json"
    manifest.write_text("{not json", encoding="utf-8")
    for argv in (["song.wav"], ["--list-models"]):
        assert cli.main(argv) == 1
        (line,) = error_lines(capsys.readouterr().err)
        assert line == (
            f"error: {manifest}: model manifest is not readable JSON: Expecting property name "
            "enclosed in double quotes: line 1 column 2 (char 1); to separate without it, name "
            "a model file with -n"
        )
    assert cli.main(["song.wav", "-n", str(model_file), "--float32", "--two-stems", "bass"]) == 0
    bass = tmp_path / "separated" / model_file.stem / "song" / "bass.wav"
    np.testing.assert_allclose(read(bass), 0.25 * mix, atol=1e-6)


def test_official_model_is_downloaded_first(tmp_path, monkeypatch, capsys):
    from stemgui.separation import download
    from stemgui.separation.download_errors import DownloadError

    asked = []

    def offline(url, dest, **kwargs):
        asked.append((url, dest))
        raise DownloadError(dest, "the network is unreachable; check the connection")

    monkeypatch.setattr(download, "download_file", offline)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 1
    assert asked == [
        (
            "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th",
            tmp_path / "user" / "official" / "955717e8-8726e21a.th",
        )
    ]
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "network is unreachable" in lines[0]


def test_a_bag_s_download_says_which_file_of_how_many(tmp_path, monkeypatch, capsys):
    """htdemucs_ft's four files each had a bar of its own named by the file alone: the bar
    seemed to start over, three times."""
    from stemgui.cli import progress
    from stemgui.separation import download
    from stemgui.separation.download_errors import DownloadError

    bars = []
    real_bar = progress.tqdm_progress
    monkeypatch.setattr(progress, "tqdm_progress", lambda text: bars.append(text) or real_bar(text))

    def second_fails(url, dest, **kwargs):
        if len(bars) == 2:
            raise DownloadError(dest, "the network is unreachable; check the connection")
        return dest

    monkeypatch.setattr(download, "download_file", second_fails)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs_ft"]) == 1
    assert bars == ["f7e0c4bc-ba3fe64a.th (file 1 of 4)", "d12395a8-e57c48e6.th (file 2 of 4)"]
    err = capsys.readouterr().err
    assert "downloading model htdemucs_ft, d12395a8-e57c48e6.th (file 2 of 4): https://" in err


def test_ctrl_c_during_a_model_s_download_says_it_resumes(tmp_path, monkeypatch, capsys):
    """It said "files being written were discarded … run again with --skip-existing", where
    the partial model is kept and resumes with the same command."""
    from stemgui.separation import download

    def interrupted(url, dest, **kwargs):
        dest.parent.mkdir(parents=True)
        download.part_path(dest).write_bytes(b"the first bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "download_file", interrupted)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 130
    assert error_lines(capsys.readouterr().err) == [
        "error: interrupted; the download of model htdemucs stopped; what came so far is "
        "kept: run the same command again to resume it"
    ]
    assert (tmp_path / "user" / "official" / "955717e8-8726e21a.th.part").exists()


def test_a_download_removes_the_partial_file_of_a_version_no_longer_published(
    tmp_path, monkeypatch
):
    """htdemucs published again under a new sha256 (in its file's name): the partial download
    of the old file stayed in the models folder for good."""
    from stemgui.separation import download

    stale = tmp_path / "user" / "official" / "955717e8-0badc0de.th.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"the first bytes of an earlier version")
    fetched = []

    def interrupted(url, dest, **kwargs):
        fetched.append(dest.name)
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "download_file", interrupted)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 130
    assert fetched == ["955717e8-8726e21a.th"] and not stale.exists()


@pytest.mark.parametrize("signum", [None, 15])  # Ctrl-C, a kill (SIGTERM)
def test_a_stop_while_the_model_loads_says_so_and_that_nothing_was_written(
    tmp_path, model_file, monkeypatch, capsys, signum
):
    """It said "files being written were discarded (finished songs are kept: run again with
    --skip-existing to separate the rest)" while no song had begun."""
    from stemgui.cli import _Stopped
    from stemgui.separation.store import ModelStore

    def stopped(self, name_or_path):
        raise KeyboardInterrupt if signum is None else _Stopped(signum)

    monkeypatch.setattr(ModelStore, "load", stopped)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == (130 if signum is None else 143)
    assert error_lines(capsys.readouterr().err) == [
        f"error: interrupted; the run stopped while loading model {model_file}: no stem was written"
    ]
    assert not (tmp_path / "separated").exists()


def test_a_models_folder_that_cannot_be_made_is_one_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "user").mkdir(exist_ok=True)
    (tmp_path / "user" / "official").write_text("a file where the folder goes")
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert f"could not save model htdemucs in {tmp_path / 'user' / 'official'}: " in lines[0]


def test_unavailable_device_is_a_usage_error_before_the_model_loads(tmp_path, capsys):
    write_song(tmp_path / "song.wav")
    with pytest.raises(SystemExit) as caught:
        cli.main(["song.wav", "-n", "absent.stemgui", "-d", "quantum"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument -d/--device: unknown device 'quantum'" in err
    assert "absent.stemgui" not in err  # refused before the model is looked for


# ----------------------------------------------------------------------------- logging


def test_logging_setup_is_idempotent_and_quiet_without_verbose(tmp_path, capsys):
    import logging

    from stemgui.logs import setup_logging

    root, ours = logging.getLogger(), logging.getLogger("stemgui")
    before = (len(root.handlers), len(ours.handlers))
    path = setup_logging()
    once = (len(root.handlers), len(ours.handlers))
    assert setup_logging() == path == tmp_path / "logs" / LOG_FILE_NAME
    assert (len(root.handlers), len(ours.handlers)) == once == (before[0] + 1, before[1] + 1)
    logging.getLogger("stemgui.audio.encode").info("engine detail")
    logging.getLogger("stemgui.cli").info("front end news")
    logging.getLogger("stemgui.stems").warning("something odd")
    assert capsys.readouterr().err.splitlines() == ["front end news", "warning: something odd"]
    text = path.read_text(encoding="utf-8")
    assert "engine detail" in text and "front end news" in text and "something odd" in text


def test_a_file_name_that_is_not_utf_8_is_logged(tmp_path, capsys):
    """A Latin-1 "café.mp3" in a UTF-8 folder is "caf\\udce9.mp3" to Python: each line about
    it was lost from the log file, and "--- Logging error ---" and a traceback went to stderr."""
    import logging

    from stemgui.logs import setup_logging

    path = setup_logging(console=False)  # the terminal's stderr writes such bytes escaped
    logging.getLogger("stemgui.audio.decode").warning("%s: damaged", Path("caf\udce9.mp3"))
    assert "Logging error" not in capsys.readouterr().err
    assert "caf\\udce9.mp3: damaged" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("flags", "format_", "subtype"),
    [(["--flac", "--int24"], "FLAC", "PCM_24"), (["--mp3", "--mp3-bitrate", "128"], "MP3", None)],
)
def test_flac_and_mp3_outputs(tmp_path, model_file, flags, format_, subtype):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", "vocals", *flags]) == 0
    ext = format_.lower()
    files = sorted(p.name for p in (tmp_path / "separated/tiny/song").iterdir())
    assert files == [f"no_vocals.{ext}", f"vocals.{ext}"]
    info = sf.info(tmp_path / f"separated/tiny/song/vocals.{ext}")
    assert info.format == format_ and info.samplerate == RATE and info.channels == 2
    if subtype:
        assert info.subtype == subtype


def test_a_link_loop_in_a_folder_is_one_error_line_and_the_other_songs_run(
    tmp_path, model_file, capsys
):
    """Path.resolve raised RuntimeError on a link loop (Python < 3.13): a traceback, and not
    one song of the batch separated."""
    album = tmp_path / "album"
    album.mkdir()
    write_song(album / "01.wav")
    (album / "self.mp3").symlink_to(album / "self.mp3")
    assert cli.main(["album", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "self.mp3" in err
    assert (tmp_path / "separated" / "tiny" / "01" / "vocals.wav").is_file()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_in_a_folder_is_left_out_and_one_named_is_refused(tmp_path, model_file, capsys):
    """A named pipe in a folder was a song that failed (exit status 1); one named by itself
    is refused in words, unopened, and the other songs run."""
    write_song(tmp_path / "album" / "01.wav")
    pipes = (tmp_path / "album" / "02.wav", tmp_path / "pipe.mp3")
    for pipe in pipes:
        os.mkfifo(pipe)
    assert without_waiting(lambda: cli.main(["album", "-n", str(model_file)]), *pipes) == 0
    assert "album/02.wav: left out: not a regular file" in capsys.readouterr().err
    again = ["pipe.mp3", "album", "-n", str(model_file), "--overwrite"]
    assert without_waiting(lambda: cli.main(again), *pipes) == 1
    assert error_lines(capsys.readouterr().err) == [
        "error: pipe.mp3: is not a regular file (a named pipe, a socket or a device); choose an "
        "audio file",
        "error: 1 of 2 track(s) failed; details in " + str(tmp_path / "logs" / LOG_FILE_NAME),
    ]
    assert (tmp_path / "separated" / "tiny" / "01" / "vocals.wav").is_file()


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux's disks")
@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_a_song_whose_file_name_is_not_utf8_is_separated(tmp_path, model_file, kind):
    """A song named in Latin-1 (b"Caf\xe9.wav", from an old disk or archive) stopped the whole
    batch with a traceback: its name, with Python's escape for the byte, could not be encoded
    into the stems' file names, nor into their titles."""
    from tests.audio.test_tempo_key_tags import tags_of

    write_song(tmp_path / "album" / "plain.wav")
    write_song(tmp_path / "x.wav")
    os.rename(b"x.wav", b"album/Caf\xe9 au lait.wav")  # in the current folder, tmp_path
    argv = ["album", "-n", str(model_file)] + (["--mp3"] if kind == "mp3" else [])
    assert cli.main(argv) == 0
    folder = tmp_path / "separated" / "tiny" / "Caf_ au lait"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.{kind}" for s in NAMES)
    assert tags_of(folder / f"vocals.{kind}")["title"] == "Café au lait (Vocals)"


def test_a_song_named_twice_is_separated_once_and_said(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    (tmp_path / "link.wav").symlink_to(tmp_path / "song.wav")
    assert cli.main(["link.wav", "song.wav", "-n", str(model_file)]) == 0
    err = capsys.readouterr().err
    assert "song.wav: the same file as link.wav; separated once, as link.wav" in err
    assert sorted(p.name for p in (tmp_path / "separated" / "tiny").iterdir()) == ["link"]
    assert cli.main(["song.wav", "song.wav", "-n", str(model_file)]) == 0
    assert "song.wav: given twice; separated once, as song.wav" in capsys.readouterr().err


def test_demucs_speed_flags_are_taken_and_said_to_do_nothing(tmp_path, model_file, capsys):
    """A Demucs script with -j 2 failed on an unknown argument before any song."""
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file), "-j", "2", "--mp3-preset", "2"]) == 0
    err = capsys.readouterr().err
    assert "-j/--jobs is Demucs's and does nothing here" in err
    assert "--mp3-preset is Demucs's and does nothing here" in err
    assert (tmp_path / "separated" / "tiny" / "song" / "vocals.wav").is_file()


def test_a_song_named_like_an_option_is_told_how_to_name_it(tmp_path, model_file, capsys):
    """``stemgui-separate -x.wav`` said only "unrecognized arguments: -x.wav"."""
    write_song(tmp_path / "-x.wav")
    with pytest.raises(SystemExit) as caught:
        cli.main(["-x.wav", "-n", str(model_file)])
    assert caught.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "-x.wav is a file" in err and "./-x.wav" in err and "-- -x.wav" in err, err
    assert cli.main(["-n", str(model_file), "--", "-x.wav"]) == 0  # as the line says
    assert (tmp_path / "separated" / "tiny" / "-x" / "vocals.wav").is_file()


def test_a_folder_named_like_an_option_is_told_how_to_name_it(tmp_path, capsys):
    """``stemgui-separate -album`` said "-album is a file" of the folder."""
    (tmp_path / "-album").mkdir()
    with pytest.raises(SystemExit) as caught:
        cli.main(["-album"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "stemgui-separate: error: unrecognized arguments: -album; -album is a folder: write "
        "./-album, or put -- before it (-- -album)"
    )


def test_a_batch_without_a_terminal_says_which_song_runs_and_ends_with_a_summary(
    tmp_path, model_file, capsys
):
    """Without a TTY (no progress bar) a log showed nothing while a song ran, nor how many were
    left, and a run that went well ended without a word on what it did."""
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    assert cli.main(["album", "-n", str(model_file), "-o", "out"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == [
        "album/one.wav: separating (1 of 2)",
        "album/one.wav: 4 file(s) in out/tiny/one",
        "album/two.wav: separating (2 of 2)",
        "album/two.wav: 4 file(s) in out/tiny/two",
        f"done: 2 track(s) separated into {tmp_path / 'out'}",
    ], lines


def test_a_batch_stopped_half_way_is_finished_by_a_rerun_with_skip_existing(
    tmp_path, model_file, monkeypatch, capsys
):
    """After Ctrl-C the rerun failed on every song finished before it ("exists already"; exit 1)
    and --overwrite separated them all again: no way to do just the rest."""
    songs = [write_song(tmp_path / "album" / f"{name}.wav", seed=i)
             for i, name in enumerate(["one", "two"])]  # fmt: skip
    real = TrackRun.__call__

    def stop_at_two(self, track):
        if track.name == "two.wav":
            raise KeyboardInterrupt
        return real(self, track)

    monkeypatch.setattr(TrackRun, "__call__", stop_at_two)
    argv = ["album", "-n", str(model_file), "--float32"]
    assert cli.main(argv) == 130
    assert "run again with --skip-existing to separate the rest" in capsys.readouterr().err
    monkeypatch.setattr(TrackRun, "__call__", real)
    one = tmp_path / "separated" / "tiny" / "one" / "vocals.wav"
    one.write_bytes(b"kept")  # not written again
    assert cli.main([*argv, "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert error_lines(err) == []
    assert "album/one.wav: its 4 file(s) exist already; skipped" in err
    assert one.read_bytes() == b"kept"
    two = tmp_path / "separated" / "tiny" / "two"
    np.testing.assert_allclose(read(two / "vocals.wav"), 0.0625 * songs[1], atol=1e-6)
    with pytest.raises(SystemExit) as caught:  # skip and replace: one or the other
        cli.main([*argv, "--skip-existing", "--overwrite"])
    assert caught.value.code == 2


def test_skip_existing_writes_the_files_a_stopped_song_did_not(tmp_path, model_file, capsys):
    """A batch stopped while a song's files were being written left some of them; the rerun
    with --skip-existing separated that song and then refused it ("exists already"; exit 1), so
    the song could only be finished by --overwrite, which separates every song again."""
    song = write_song(tmp_path / "album" / "one.wav", seed=0)
    folder = tmp_path / "separated" / "tiny" / "one"
    folder.mkdir(parents=True)
    (folder / "drums.wav").write_bytes(b"kept")
    argv = ["album", "-n", str(model_file), "--float32", "--skip-existing"]
    assert cli.main(argv) == 0
    assert error_lines(capsys.readouterr().err) == []
    assert (folder / "drums.wav").read_bytes() == b"kept"
    np.testing.assert_allclose(read(folder / "vocals.wav"), 0.0625 * song, atol=1e-6)
    assert sorted(p.name for p in folder.iterdir()) == [
        "bass.wav",
        "drums.wav",
        "other.wav",
        "vocals.wav",
    ]


def test_skip_existing_skips_a_song_whose_files_are_there_a_link_to_nothing_too(
    tmp_path, model_file, capsys
):
    """A file that is a link to nothing was kept by the export, as it is, but the song was
    separated first all the same, for no file: "one.wav: 0 file(s) in ", counted separated."""
    write_song(tmp_path / "album" / "one.wav")
    argv = ["album", "-n", str(model_file)]
    assert cli.main(argv) == 0
    vocals = tmp_path / "separated" / "tiny" / "one" / "vocals.wav"
    vocals.unlink()
    vocals.symlink_to(tmp_path / "gone.wav")
    capsys.readouterr()
    assert cli.main([*argv, "--skip-existing"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == [
        "album/one.wav: its 4 file(s) exist already; skipped",
        f"done: 0 track(s) separated into {tmp_path / 'separated'}; 1 skipped, their files exist "
        "already",
    ], lines
    assert vocals.is_symlink()


@pytest.mark.parametrize("meanwhile", [["vocals"], NAMES])
def test_skip_existing_keeps_files_another_run_writes_meanwhile(
    tmp_path, model_file, monkeypatch, capsys, meanwhile
):
    """Two runs with --skip-existing over one batch (two machines, one shared folder): the
    files one wrote while the other separated the same song failed the other's song ("another
    program or export wrote this file meanwhile; export again and pass --overwrite")."""
    import stemgui.audio.stream as stream

    song = write_song(tmp_path / "album" / "one.wav")
    real = stream.write_blocks

    def another_run_too(path, *args, **kwargs):
        real(path, *args, **kwargs)
        if path.stem in meanwhile:
            path.write_bytes(b"the other run's")

    monkeypatch.setattr(stream, "write_blocks", another_run_too)
    assert cli.main(["album", "-n", str(model_file), "--float32", "--skip-existing"]) == 0
    lines = capsys.readouterr().err.splitlines()
    folder = tmp_path / "separated" / "tiny" / "one"
    said = f"{len(NAMES) - len(meanwhile)} file(s) in separated/tiny/one"
    if len(meanwhile) == len(NAMES):
        said = "its files were written meanwhile, by another run; kept"
    assert lines[2] == f"album/one.wav: {said}", lines
    for name in NAMES:
        if name in meanwhile:
            assert (folder / f"{name}.wav").read_bytes() == b"the other run's"
        else:
            np.testing.assert_allclose(
                read(folder / f"{name}.wav"), FACTORS[NAMES.index(name)] * song, atol=1e-6
            )
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.wav" for n in NAMES)


def test_a_warning_during_the_progress_bar_gets_a_line_of_its_own(
    tmp_path, model_file, monkeypatch
):
    """On a terminal a warning logged while a song ran (a --segment capped, an out-of-memory
    retry) was written after the bar on its line: "1.wav: 0%| | 0/2.0 [...]warning: ..."."""
    import io

    from stemgui.separation.separator import Separator

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    real = Separator.separate

    def separate(self, *args, **kwargs):
        logging.getLogger("stemgui.separation.separator").warning("something to know")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Separator, "separate", separate)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == 0
    text = terminal.getvalue()
    assert "song.wav (1 of 1):   0%|" in text  # the bar was drawn
    pieces = text.replace("\r", "\n").splitlines()
    said = [p for p in pieces if "something to know" in p]
    assert said == ["warning: song.wav: something to know"], pieces


def test_the_progress_bar_says_which_song_of_how_many(tmp_path, model_file, monkeypatch):
    """On a terminal the bar said "two.wav: 40%" and nothing of the batch: song 2 of 2, or 2 of
    200, looked the same."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    assert cli.main(["album", "-n", str(model_file)]) == 0
    text = terminal.getvalue()
    assert "one.wav (1 of 2):   0%|" in text and "two.wav (2 of 2):   0%|" in text, text
    assert "separating (" not in text  # the bar says it: no line of its own


def test_tqdm_progress_draws_the_byte_count_on_a_terminal_only(capsys, monkeypatch):
    """Piped to a file, the bar filled the log with redraws, glued to the next warning."""
    from stemgui.cli.progress import tqdm_progress

    for terminal in (True, False):
        monkeypatch.setattr(sys.stderr, "isatty", lambda terminal=terminal: terminal)
        with tqdm_progress("htdemucs") as progress:
            progress(0, 2048)
            progress(1024, 2048)
            progress(2048, 2048)
        drawn = capsys.readouterr().err
        assert ("htdemucs" in drawn and "2.00k/2.00k" in drawn) if terminal else drawn == ""


def test_the_files_carry_the_song_s_tempo_and_key(tmp_path, model_file):
    """For DJ software, as the app's exports: the tiny model's stems are the mix scaled, so
    the drums stem has the song's 120 BPM and the others its A minor."""
    from tests.audio.test_tempo_key_tags import tags_of
    from tests.stems.drumkit import drum_track
    from tests.stems.harmony import key_song

    song = 0.5 * drum_track(120, 8.0)[:, : 8 * RATE] + 0.5 * key_song(9, "minor", 8.0)
    sf.write(tmp_path / "song.wav", song.T, RATE, subtype="FLOAT")
    assert cli.main(["song.wav", "-n", str(model_file), "--mp3"]) == 0
    tags = tags_of(tmp_path / "separated" / "tiny" / "song" / "bass.mp3")
    assert (tags["TBPM"], tags["TKEY"], tags["title"]) == ("120", "Am", "song (Bass)")


@pytest.mark.parametrize(
    ("rows", "width", "columns", "bar"),
    [
        (24, 0, None, False),
        (24, 0, "0", False),
        (24, 0, "60", True),
        (24, 80, None, True),
        (0, 0, "60", True),  # a pty made without a size (script): no bar and no line was shown
    ],
)
def test_a_terminal_without_columns_gets_a_line_per_song(
    tmp_path, model_file, monkeypatch, rows, width, columns, bar
):
    """On a terminal of 0 columns (a serial console, a pty made without a size) tqdm drew its
    bar one column short of nothing, cut off; the songs' lines were not said either, as on a
    terminal. Such a terminal gets the lines; COLUMNS, when set above 0, gives the width."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    main_fd, terminal_fd = pty.openpty()
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, width, 0, 0))
    terminal = open(terminal_fd, "w", buffering=1, encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stderr", terminal)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    try:
        assert cli.main(["album", "-n", str(model_file)]) == 0
        terminal.flush()
        os.set_blocking(main_fd, False)
        text = os.read(main_fd, 1 << 16).decode()
    finally:
        terminal.close()
        os.close(main_fd)
    lines = text.replace("\r\n", "\n").split("\n")
    drawn = [line for line in text.split("\r") if "two.wav (2 of 2):   0%|" in line]
    if bar:
        assert drawn and drawn[0].endswith("s/s]"), text  # whole, to its last column
        assert len(drawn[0]) == (int(columns) if columns else width) - 1
        assert "album/two.wav: separating (2 of 2)" not in lines
    else:
        assert not drawn and "%|" not in text, text
        assert "album/two.wav: separating (2 of 2)" in lines, text
