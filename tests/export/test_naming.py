"""File name templates and safe names: known answers for every rule of ``stemgui.export.naming``."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.errors import ExportError
from stemgui.export.naming import (
    DEFAULT_TEMPLATE,
    MAX_NAME_BYTES,
    render,
    safe_name,
    template_parts,
)

VALUES = {"track": "Song", "stem": "vocals", "model": "htdemucs", "ext": "wav"}


def test_default_template_renders_model_track_stem(tmp_path):
    assert render(DEFAULT_TEMPLATE, tmp_path, **VALUES) == tmp_path / "htdemucs/Song/vocals.wav"


def test_flat_template_and_literal_text(tmp_path):
    path = render("{track} - {stem} ({model}).{ext}", tmp_path, **VALUES)
    assert path == tmp_path / "Song - vocals (htdemucs).wav"


def test_backslash_separates_folders_too(tmp_path):
    assert render(r"{model}\{stem}.{ext}", tmp_path, **VALUES) == tmp_path / "htdemucs/vocals.wav"


def test_literal_braces_are_kept(tmp_path):
    assert render("{{x}}{stem}.{ext}", tmp_path, **VALUES) == tmp_path / "{x}vocals.wav"


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{track}/{name}.{ext}", "unknown key {name}"),
        ("{Stem}.{ext}", "unknown key {Stem}"),
        ("{stem.upper}.{ext}", "unknown key"),
        ("{stem[0]}.{ext}", "unknown key"),
        ("{stem!r}.{ext}", "without a format"),
        ("{stem:>10}.{ext}", "without a format"),
        ("{stem.{ext}", "braces"),
        ("", "empty"),
        ("   ", "empty"),
        ("/abs/{stem}.{ext}", "relative"),
        ("C:/x/{stem}.{ext}", "relative"),
        ("\\\\server\\{stem}", "relative"),
        ("../{stem}.{ext}", "outside the output folder"),
        ("{model}/../../{stem}.{ext}", "outside the output folder"),
        ("./", "names no file"),
    ],
)
def test_bad_templates_are_refused(tmp_path, template, words):
    with pytest.raises(ExportError) as caught:
        render(template, tmp_path, **VALUES)
    assert words in str(caught.value)
    assert caught.value.path == tmp_path


def test_template_check_alone_gives_parts():
    assert template_parts("./{model}//{track}/./{stem}.{ext}") == [
        "{model}",
        "{track}",
        "{stem}.{ext}",
    ]


def test_empty_result_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"gives a folder or file with no name \(for 't', stem"):
        render("{model}/{stem}", tmp_path, track="t", stem="", model="m", ext="wav")
    with pytest.raises(ExportError, match="has no name \\(only spaces or dots\\); remove it"):
        template_parts("  /{stem}.{ext}", tmp_path)  # before any song is separated


def test_values_cannot_add_folders_or_climb(tmp_path):
    path = render(
        DEFAULT_TEMPLATE, tmp_path, track="../../etc/passwd", stem="a/b", model="..", ext="wav"
    )
    assert path.parent.parent.parent == tmp_path
    assert path.relative_to(tmp_path).parts == ("_", "_._.._etc_passwd", "a_b.wav")  # not hidden


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("plain", "plain"),
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),
        ("tab\there\x00", "tab_here_"),
        ("trailing dots...", "trailing dots"),
        ("  spaced  ", "spaced"),
        ("ends. . .", "ends"),
        ("CON", "CON_"),
        ("con.wav", "con_.wav"),
        ("Lpt1.tar.gz", "Lpt1_.tar.gz"),
        ("COM10", "COM10"),
        ("CONSOLE", "CONSOLE"),
        ("", "_"),
        (".", "_"),
        ("..", "_"),
        (".hidden", "_hidden"),  # hidden on Linux and macOS: the stems out of sight
        (" .hidden", "_hidden"),  # not once its leading space is gone either
        ("..x", "_.x"),
        ("Björk – Jóga", "Björk – Jóga"),
        ("東京事変", "東京事変"),
        ("Beyonce\u0301", "Beyoncé"),  # NFD composed to NFC
        # a Latin-1 "café" in a UTF-8 folder, as Python reads it: the command line stopped on it
        ("caf\udce9", "caf_"),
    ],
)
def test_safe_name(name, safe):
    assert safe_name(name) == safe


def test_long_names_are_shortened_keeping_extension():
    name = "é" * 300 + ".flac"
    safe = safe_name(name)
    assert safe.endswith(".flac")
    assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    assert safe.startswith("é" * 100)
    assert "\ufffd" not in safe  # never cut a character in half


def test_non_ascii_values_survive_rendering(tmp_path):
    path = render(
        DEFAULT_TEMPLATE,
        tmp_path,
        track="Sigur Rós: Hoppípolla?",
        stem="vocals",
        model="htdemucs",
        ext="flac",
    )
    assert path == tmp_path / "htdemucs" / "Sigur Rós_ Hoppípolla_" / "vocals.flac"
    assert isinstance(path, Path)


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{track}/{stem}.ogg", "ends in .ogg"),  # FLAC bytes in an .ogg file: players refuse it
        ("{track}/{stem}", "has no extension"),
        ("{track}.v2/{stem}", "has no extension"),
        ("{stem}.wav", "ends in .wav"),
        ("{stem}/.{ext}", "nothing before the extension"),  # written as "_wav"
        ("{track}/.FLAC", "nothing before the extension"),
    ],
)
def test_a_file_name_must_end_in_its_format_s_extension(template, why):
    from stemgui.errors import ExportError
    from stemgui.export.naming import check_extension

    with pytest.raises(ExportError, match=why):
        check_extension(template, "flac")
    check_extension("{track}/{stem}.{ext}", "flac")
    check_extension("{track}/{stem}.FLAC", "flac")


def test_a_long_name_is_shortened_before_the_part_of_the_song_it_names(tmp_path):
    """The span's ".40s" is no extension: kept as one, two loops of a long-named song (both
    ending at 0.40 s) got one folder and the second export found the first's files there."""
    track = ("Night Drive - Extended Club Mix " * 8)[:236]
    folders = [
        render(DEFAULT_TEMPLATE, tmp_path, **{**VALUES, "track": track}, track_label=label).parent
        for label in ("0m00.10s-0m00.40s", "0m00.20s-0m00.40s")
    ]
    assert [f.name[-18:] for f in folders] == [" 0m00.10s-0m00.40s", " 0m00.20s-0m00.40s"]
    assert all(f.name.startswith("Night Drive - Extended") for f in folders)
    assert all(len(f.name.encode("utf-8")) <= MAX_NAME_BYTES for f in folders)
    cut = safe_name("x" * 300 + " 1m02.50s-1m18.40s", extension=False)
    assert cut == "x" * MAX_NAME_BYTES  # cut at the end: no ".40s" taken for an extension


@pytest.mark.parametrize("label", ["", "0m00.10s-0m00.40s"])
def test_a_long_track_gives_way_to_the_stem_in_a_file_name(tmp_path, label):
    """ "{track}_{stem}.{ext}" with 80 Japanese characters (240 bytes): the name was cut at its
    end, the stem with it, and every stem of the song got the same file."""
    names = [
        render(
            "{track}_{stem}.{ext}",
            tmp_path,
            **{**VALUES, "track": "あ" * 80, "stem": stem},
            track_label=label,
        ).name
        for stem in ("drums", "vocals")
    ]
    ending = f" {label}" if label else ""
    assert [n.rpartition("あ")[2] for n in names] == [f"{ending}_drums.wav", f"{ending}_vocals.wav"]
    assert all(len(n.encode("utf-8")) <= MAX_NAME_BYTES for n in names)
    twice = render("{track}-{track}-{stem}.{ext}", tmp_path, **{**VALUES, "track": "é" * 200})
    assert twice.name.endswith("-vocals.wav") and len(twice.name.encode()) <= MAX_NAME_BYTES


def test_a_template_without_track_gets_the_part_of_the_song_in_its_file_name(tmp_path):
    label = "1m02.50s-1m18.40s"
    name = render("{model}/{stem}.{ext}", tmp_path, **VALUES, track_label=label)
    assert name == tmp_path / VALUES["model"] / f"{VALUES['stem']} {label}.wav"
    long = render("{stem}" + "x" * 300 + ".{ext}", tmp_path, **VALUES, track_label=label)
    assert long.name.endswith(f"x {label}.wav")  # the label and extension kept whole
    assert len(long.name.encode("utf-8")) <= MAX_NAME_BYTES
    assert render("{stem}", tmp_path, **VALUES, track_label=label).name.endswith(f" {label}")


@pytest.mark.parametrize(
    "template", ["{track}/{stem}.{ext}/", "{stem}.{ext}\\", "./{stem}.{ext}/."]
)
def test_a_separator_typed_after_the_file_name_is_left_out_as_between_folders(tmp_path, template):
    """ "{track}/{stem}.{ext}/" was refused as having "no extension" (its empty last part),
    while "{track}//{stem}.{ext}" wrote {track}/{stem}.{ext}: a part with no name is none."""
    from stemgui.export.naming import check_extension

    check_extension(template, "flac")
    path = render(template, tmp_path, **VALUES)
    assert path.suffix == f".{VALUES['ext']}" and path.parent.name in (tmp_path.name, "Song")
