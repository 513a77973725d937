"""The arguments of ``stemgui-separate``: the parser, the types that check each flag as it is
parsed, and the usage checks made before the model loads.

Arguments that would fail every track are refused here with a usage error (exit status 2),
before the model loads, rather than once per track after it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stemgui import __version__
from stemgui.errors import ExportError
from stemgui.export.naming import (
    DEFAULT_TEMPLATE,
    check_extension,
    template_keys,
    template_parts,
)
from stemgui.export.rates import holds
from stemgui.playback.pitch import SEMITONES
from stemgui.playback.stretch import MAX_SPEED, MIN_SPEED
from stemgui.separation import MAX_OVERLAP, MAX_SEGMENT, MAX_SHIFTS, MIN_SEGMENT


def _checked(kind: type, ok: Any, words: str) -> Any:
    """An argparse type: ``kind(text)`` if ``ok`` of it holds, else the usage error ``words``
    (exit 2 before the model loads; these failed on every track, after it)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}")
        return value

    return parse


def _path(named: str) -> Any:
    """An argparse type: a path as written; an empty one (an unset shell variable) is refused,
    telling to name ``named``: ``Path("")`` is the current folder, which ``""`` as a track would
    search whole, and ``-o ""`` write into."""

    def parse(text: str) -> Path:
        if not text:
            raise argparse.ArgumentTypeError(f"an empty path; name {named}")
        return Path(text)

    return parse


def _device(text: str) -> str:
    """A device this machine has (auto, cpu, cuda, cuda:N, mps), kept as written."""
    if text == "auto":  # always there; and the default, parsed on every run: no torch import
        return text
    from stemgui.separation.device import resolve_device

    try:
        resolve_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemgui-separate",
        description="Separate songs into stems (drums, bass, other, vocals) and write them as "
        "audio files.",
    )
    parser.add_argument(
        "tracks",
        nargs="*",
        type=_path("a file or a folder"),
        help="audio files, or folders searched for audio files",
    )
    parser.add_argument(
        "-n",
        "--name",
        type=_checked(str, bool, "a model name or a model file"),
        help="model name (see --list-models) or path to a model file (our checkpoint, an "
        "official Demucs .th file, or a bag .yaml); default: the bundled model",
    )
    parser.add_argument("--list-models", action="store_true", help="list the models and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug messages, tracebacks")
    parser.add_argument(
        "-o",
        "--out",
        type=_path("a folder for the stems"),
        default=Path("separated"),
        help="output folder (%(default)s)",
    )
    parser.add_argument(
        "--filename",
        default=DEFAULT_TEMPLATE,
        help="file name template under the output folder (not under its model folder, as "
        "Demucs's is), with {track}, {stem}, {model}, {ext} (default: %(default)s)",
    )
    parser.add_argument(
        "-d",
        "--device",
        type=_device,
        default="auto",
        help="auto (default: cuda, then mps, then cpu), cpu, cuda, cuda:N (the Nth GPU) or mps",
    )
    parser.add_argument(
        "--segment",
        type=_checked(
            float,
            lambda v: MIN_SEGMENT <= v <= MAX_SEGMENT,
            f"a number of seconds from {MIN_SEGMENT:g} to {MAX_SEGMENT:g}",
        ),
        help=f"chunk length in seconds, {MIN_SEGMENT:g}-{MAX_SEGMENT:g} (default: the model's own)",
    )
    parser.add_argument(
        "--overlap",
        type=_checked(
            float, lambda v: 0 <= v <= MAX_OVERLAP, f"a fraction from 0 to {MAX_OVERLAP:g}"
        ),
        default=0.25,
        help=f"overlap between chunks, 0-{MAX_OVERLAP:g} (%(default)s)",
    )
    parser.add_argument(
        "--shifts",
        type=_checked(
            int, lambda v: 0 <= v <= MAX_SHIFTS, f"a whole number from 0 to {MAX_SHIFTS}"
        ),
        default=0,
        help=f"random time shifts averaged, 0-{MAX_SHIFTS}; each one costs a full pass "
        "(%(default)s)",
    )
    parser.add_argument(
        "--two-stems",
        metavar="STEM",
        help="write only STEM and no_STEM (the sum of the other stems)",
    )
    parser.add_argument(  # not Demucs's: the app's speed and key, for practice tracks
        "--speed",
        type=_checked(float, lambda v: MIN_SPEED <= v <= MAX_SPEED, "a speed from 0.25 to 2"),
        default=1.0,
        help="write the stems this many times as fast, the pitch kept (0.8: a practice track)",
    )
    parser.add_argument(
        "--semitones",
        type=_checked(int, lambda v: v in SEMITONES, "a whole number from -6 to 6"),
        default=0,
        help="write the stems this many semitones higher (negative: lower), the pace kept",
    )
    parser.add_argument(  # not Demucs's (it writes the model's rate): the app's choice
        "--samplerate",
        type=_samplerate,
        default="model",
        metavar="RATE",
        help="the files' sample rate: model (default, the stems' own: 44100 for the bundled "
        "model), song (each song's own, so that the stems line up with it in a DAW session at "
        "that rate; the model's where a format cannot hold it) or a number of Hz",
    )
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--int24", action="store_true", help="24-bit wav/flac")
    depth.add_argument("--float32", action="store_true", help="32-bit float wav")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--flac", action="store_true", help="write flac instead of wav")
    kind.add_argument("--mp3", action="store_true", help="write mp3 instead of wav")
    parser.add_argument(
        "--mp3-bitrate",
        type=int,
        default=320,
        help="mp3 bit rate, one of mp3's from 32-320 kbps (%(default)s)",
    )
    # Demucs's speed and encoder-effort flags: taken, so that its scripts run, and said to
    # do nothing here (one song at a time on every core; LAME at a constant bit rate).
    parser.add_argument("-j", "--jobs", type=int, help="Demucs's; ignored here (a warning)")
    parser.add_argument("--mp3-preset", type=int, help="Demucs's; ignored here (a warning)")
    parser.add_argument(
        "--clip-mode",
        choices=["rescale", "clamp", "none"],
        default="rescale",
        help="avoid clipping by rescaling the whole stem (default) or by clamping samples; none "
        "leaves them as they are (past full scale --float32 keeps them, the others saturate)",
    )
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite", action="store_true", help="replace existing files instead of refusing"
    )
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep the files that exist and write the rest; a song whose files all exist is not "
        "separated again (to finish a batch that was stopped)",
    )
    parser.add_argument(  # not Demucs's: the app's stems of the same song, model and options
        "--no-cache",
        action="store_true",
        help="separate every song afresh: do not write out the stems the app kept in its stem "
        "cache for the same song, model and options (nor tag them with the tempo and key "
        "corrected there)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def audio_format(args: argparse.Namespace) -> Any:
    """The ``AudioFormat`` the flags ask for."""
    from stemgui.audio.encode import MP3_BITRATES, AudioFormat

    kind = "mp3" if args.mp3 else "flac" if args.flac else "wav"
    if kind == "mp3" and args.mp3_bitrate not in MP3_BITRATES:  # AudioFormat's named no flag
        *most, last = map(str, MP3_BITRATES)
        raise ValueError(
            f"--mp3-bitrate {args.mp3_bitrate}: mp3 is written at {', '.join(most)} or {last} "
            "kbps; choose one of these"
        )
    if kind == "mp3" and args.int24:  # was ignored without a word
        raise ValueError("mp3 has no bit depth; leave out --int24")
    if kind != "wav" and args.float32:  # said "flac is written with 16 or 24 bits, not 32"
        raise ValueError(f"--float32 writes wav only; leave it out for {kind}")
    bits = 32 if args.float32 else 24 if args.int24 else 16
    return AudioFormat(
        kind=kind,
        bits=bits,
        float=args.float32,
        mp3_bitrate=args.mp3_bitrate,
        clip=args.clip_mode,
    )


def unknown_arguments(unknown: Sequence[str]) -> str:
    """argparse's words for arguments it does not know, and how to name a song or a folder
    whose name starts with ``-`` (``-x.wav``), which argparse takes for an option
    (``_dashed_name``)."""
    words = f"unrecognized arguments: {' '.join(unknown)}"
    said = _dashed_name([a for a in unknown if a.startswith("-")])
    return words if said is None else f"{words}; {said}"


def option_like_song(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """How to name a song or a folder of ``argv`` (before ``--``) that argparse would read as
    one of ``parser``'s short options, the rest of its name the option's value or more flags
    (``-notes.mp3``: ``-n otes.mp3``, the model "otes.mp3"; ``-odd.wav``: the output folder
    ``dd.wav``; ``-vocals.mp3``: ``-v -o cals.mp3``), ``_dashed_name``; None when there is
    none. A value glued to its option that names no file there and no song (``-ostems``,
    ``-nhtdemucs``) is the option's, as argparse takes it."""
    glued = []
    for arg in argv:
        if arg == "--":
            break
        # argparse's table of its options, which it has no public one for: "-n" of "-notes.mp3"
        if len(arg) > 2 and arg[1] != "-" and arg[:2] in parser._option_string_actions:
            glued.append(arg)
    return _dashed_name(glued, options=True)


def _dashed_name(args: Sequence[str], options: bool = False) -> str | None:
    """How to name the first of ``args`` (names that start with ``-``) that is a file or a
    folder, or else the first named as a song (an audio extension) that is not there, a typo
    say; None for none. ``options``: say that it is not the short option it starts with."""
    from stemgui.audio.files import SUPPORTED_EXTENSIONS

    # os.path's test: Path.exists raised "File name too long" on a name over 255 bytes
    if (arg := next((a for a in args if os.path.exists(a)), None)) is not None:
        what = f"is {'a folder' if os.path.isdir(arg) else 'a file'}"
    elif (
        arg := next((a for a in args if Path(a).suffix.lower() in SUPPORTED_EXTENSIONS), None)
    ) is not None:
        what = "looks like a song"
    else:
        return None
    if options:
        what += f", not the option {arg[:2]}"
    return f"{arg} {what}: write ./{arg}, or put -- before it (-- {arg})"


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be written under ``folder`` (made if need be), or None."""
    from stemgui.audio.atomic import file_system_limits

    existing = folder.absolute()
    # os.path's tests: Path.exists raised "File name too long" on a name over 255 bytes
    while not os.path.exists(existing) and existing != existing.parent:
        if os.path.islink(existing):  # no folder can be made there: a drive not mounted, say
            return f"{existing} is a link to {os.readlink(existing)}, which does not exist"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    name_max, path_max = file_system_limits(existing)
    for name in folder.absolute().relative_to(existing).parts:
        if (size := len(os.fsencode(name))) > name_max:
            return f"the name {name!r} is too long for the disk ({size} bytes; it takes {name_max})"
    if path_max is not None and (size := len(os.fsencode(folder.absolute()))) > path_max:
        return f"the path is too long ({size} bytes; the system takes {path_max})"
    if not os.access(existing, os.W_OK | os.X_OK):  # a read-only disk too, for root
        return f"{existing} cannot be written"
    try:  # /proc and /sys pass os.access for root, and refuse every file after the separation
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        return f"{existing} cannot be written"
    return None


def _samplerate(text: str) -> str | int:
    """``--samplerate``: "model", "song" or a whole number of Hz from 8000 to 384000."""
    if text in ("model", "song"):
        return text
    words = "model, song or a sample rate in Hz from 8000 to 384000"
    return _checked(int, lambda v: 8000 <= v <= 384_000, words)(text)


def check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """Exit with a usage error (status 2) for arguments that would fail every track: no track,
    a format or file name template that cannot be written, an output folder that is a file or
    cannot be written. Return the ``AudioFormat`` the flags ask for."""
    if not args.tracks:
        parser.error("give at least one track (an audio file or a folder)")
    try:
        fmt = audio_format(args)
    except ValueError as error:
        parser.error(str(error))
    if isinstance(args.samplerate, int) and not holds(fmt, args.samplerate):
        from stemgui.audio.encode import MP3_SAMPLERATES, mp3_max_bitrate

        if args.samplerate in MP3_SAMPLERATES:  # LAME would write a lower bit rate
            most = mp3_max_bitrate(args.samplerate)
            parser.error(
                f"--samplerate {args.samplerate}: an mp3 at that rate holds at most {most} kbps, "
                f"not {fmt.mp3_bitrate}; pass --mp3-bitrate {most} or less, or choose wav or flac"
            )
        parser.error(
            f"--samplerate {args.samplerate}: mp3 cannot hold audio at that rate; choose wav or "
            f"flac, or one of mp3's rates ({', '.join(map(str, MP3_SAMPLERATES))})"
        )
    try:
        template_parts(args.filename, args.out)
        check_extension(args.filename, fmt.extension, args.out)
        if "stem" not in template_keys(args.filename):  # every run writes two stems or more
            raise ExportError(
                args.out,
                f"file name template {args.filename!r} has no {{stem}}: every stem would get "
                "the same file; put {stem} in it",
            )
    except ExportError as error:
        parser.error(error.reason)
    if os.path.exists(args.out) and not args.out.is_dir():  # before any song is separated
        parser.error(f"-o {args.out}: is a file, not a folder; name a folder for the stems")
    if (problem := _unwritable(args.out)) is not None:  # found after every song otherwise
        parser.error(f"-o {args.out}: {problem}; name a folder you can write to")
    return fmt
