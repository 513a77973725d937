"""``stemgui-separate``'s arguments: what the parser reads, and the flags, templates and
names it refuses (exit status 2) before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui import cli
from stemgui.cli.arguments import audio_format, build_parser
from tests.reliability.helpers import write_song


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


def test_unavailable_device_is_a_usage_error_before_the_model_loads(tmp_path, capsys):
    write_song(tmp_path / "song.wav")
    with pytest.raises(SystemExit) as caught:
        cli.main(["song.wav", "-n", "absent.stemgui", "-d", "quantum"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument -d/--device: unknown device 'quantum'" in err
    assert "absent.stemgui" not in err  # refused before the model is looked for


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
