"""``python -m training synth``: render a pool of synthetic songs (or remix one) to disk.

    python -m training synth --out data/synth --songs 200 --seconds 30 --seed 0
    python -m training synth --out data/remix --songs 500 --remix-from data/synth
    python -m training synth --out resources/demo --demo demo --seconds 28 --seed 30 \\
        --soundfont /usr/share/sounds/sf3/MuseScore_General.sf3

A pool song is a stems folder (``<out>/synth-<seed>/{drums,bass,other,vocals,mixture}.flac``,
``recipe.json``, ``song.mid``); ``--demo NAME`` writes one song's mixture as ``<out>/NAME.mp3``
(192 kbps, with a 2-second fade-out) and its recipe as ``<out>/NAME.json`` instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from training.options import (
    count,
    given_path,
    input_path,
    short_names,
    song_seconds,
    writable_folder,
)

log = logging.getLogger(__name__)

DEMO_FADE = 2.0  # seconds of fade-out at the end of a demo song
# Songs in one pool or remix command: 10000 songs of 30 s are 83 hours of audio, about 225 GB of
# flac and 8 hours at 10x real time; a larger count started work that could not end (1e12 songs
# built a list of their folders before the first one, until the memory ran out).
MAX_SONGS = 10_000
# As a recipe's seed.value: a seed of 250 digits named a song folder too long for any disk.
MAX_SEED = 2**32 - 1


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``synth`` command to an ``argparse`` subparsers object; returns its parser.

    The parser's default ``func`` is :func:`run` (``args.func(args)`` returns an exit code).
    """
    parser = subparsers.add_parser(
        "synth",
        help="render synthetic multitrack songs (stems + mixture + recipe) to a folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=given_path,
        required=True,
        help="output folder, one sub-folder per song (required)",
    )
    parser.add_argument(
        "--songs",
        type=count(1, MAX_SONGS),
        default=1,
        help=f"number of songs, 1-{MAX_SONGS} (default: %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=song_seconds,
        default=30.0,
        help="length of each rendered song, 1-600 s; remixes keep the lengths of the pool's "
        "songs (default: %(default)g)",
    )
    parser.add_argument(
        "--seed",
        type=count(0, MAX_SEED),
        default=0,
        help=f"seed of the first song, 0-{MAX_SEED}, the next ones counting up; a seed gives "
        "the same song at the same --seconds, --soundfont and --vocals (default: %(default)s)",
    )
    parser.add_argument(
        "--soundfont",
        type=input_path,
        help="sf2/sf3 file (default: FluidR3 GM, MuseScore General, TimGM6mb)",
    )
    parser.add_argument(
        "--vocals",
        choices=("auto", "sinsy", "fluidsynth"),
        default="auto",
        help="singer: Sinsy (pysinsy) or a FluidSynth choir program; auto: Sinsy if installed "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--jobs",
        type=count(1, os.cpu_count() or 1),  # each worker loads the soundfont (FluidR3: 148 MB)
        default=1,
        help="worker processes rendering songs in parallel, at most one a core; refused with "
        "--demo, one song (default: %(default)s)",
    )
    parser.add_argument(
        "--remix-from",
        type=input_path,
        metavar="POOL",
        help="instead of rendering, write --songs remixes of the stems of this pool, with "
        "--seed; --soundfont, --vocals and --jobs are refused with it (default: render)",
    )
    parser.add_argument(
        "--demo",
        metavar="NAME",
        type=_demo_name,
        help="write one song's mixture as OUT/NAME.mp3 (192 kbps) and its recipe as NAME.json "
        "(default: a pool of stem folders)",
    )
    parser.set_defaults(func=run)
    return parser


def _demo_name(text: str) -> str:
    """A file name without its extension; a path (``../x``) would write outside --out."""
    if not text or Path(text).name != text or text in (".", "..") or "\\" in text:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a name, not a path (the song goes into --out as NAME.mp3)"
        )
    return text


def _write_demo(song, out: Path, name: str) -> Path:
    from stemgui.audio.encode import AudioFormat, write_audio
    from training.synth.pool import write_json

    fmt = AudioFormat(kind="mp3", mp3_bitrate=192, clip="none")
    path = write_audio(out / f"{name}.mp3", song.mixture, song.samplerate, fmt, overwrite=True)
    record = song.recipe.to_dict()
    record["soundfont"] = Path(song.soundfont).name
    record["samplerate"] = song.samplerate
    record["fade_out"] = DEMO_FADE
    write_json(out / f"{name}.json", record)
    return path


def run(args: argparse.Namespace) -> int:
    """Carry out a parsed ``synth`` command; returns the exit code."""
    from tqdm import tqdm

    from training.synth import fluid, sing
    from training.synth.pool import remix_pool, render_pool
    from training.synth.recipe import make_recipe
    from training.synth.song import render_song

    if args.demo and args.remix_from:  # the remixes were written, the demo left unsaid
        raise ValueError(
            f"--demo {args.demo} renders one song and --remix-from remixes a pool's: give one"
        )
    if args.demo and args.songs > 1:  # one song was written, the others left unsaid
        raise ValueError(
            f"--demo {args.demo} writes one song, not --songs {args.songs}: leave --songs out, "
            "or --demo out for a pool of songs"
        )
    if args.demo and args.jobs > 1:  # the song was rendered here, the workers never started
        raise ValueError(
            f"--demo {args.demo} renders one song in this process: --jobs {args.jobs} would "
            "change nothing; leave it out"
        )
    unused = [
        f"--soundfont {args.soundfont}" if args.soundfont else "",
        f"--vocals {args.vocals}" if args.vocals != "auto" else "",
        f"--jobs {args.jobs}" if args.jobs > 1 else "",
    ]
    if args.remix_from and any(unused):  # the remixes were written as if they were not given
        raise ValueError(
            f"--remix-from {args.remix_from} remixes the pool's stems and renders nothing: "
            f"{', '.join(filter(None, unused))} would change nothing; leave them out"
        )
    out = Path(args.out)
    writable_folder(out, "--out")  # a file, or under one: said so, not "[Errno 17] File exists"
    for path in [out / f"{args.demo}.mp3", out / f"{args.demo}.json"] if args.demo else []:
        short_names(path, f"--demo {args.demo}")  # these failed once the song was rendered
        if os.path.isdir(path):
            raise ValueError(f"--demo {args.demo}: {path} is a folder; name another demo")
    if args.remix_from:  # the pool is checked before anything is written
        written = remix_pool(args.remix_from, out, args.songs, seed=args.seed)
        print(f"{len(written)} remixes of {args.remix_from} in {out}")
        return 0
    soundfont = Path(args.soundfont) if args.soundfont else fluid.default_soundfont()
    if not soundfont.is_file():  # a folder was said as "no such soundfont"
        what = "is a folder" if soundfont.is_dir() else "is not a file"
        what = what if soundfont.exists() else "no such soundfont"
        raise FileNotFoundError(f"{soundfont}: {what}; name an .sf2 or .sf3 file")
    engine = args.vocals
    if engine == "auto":
        engine = "sinsy" if sing.available() else "fluidsynth"
    elif engine == "sinsy" and (reason := sing.unavailable()):  # a traceback at the first song
        raise ValueError(
            f"--vocals sinsy: Sinsy cannot be loaded ({reason}); install pysinsy (the train "
            "extra, with cmake), or give --vocals fluidsynth"
        )
    # Loaded before --out is made: a soundfont FluidSynth cannot read, or without drums, is
    # said first.
    started = time.perf_counter()
    if args.jobs <= 1:
        # Many songs: decode a compressed (sf3) soundfont once rather than per render.
        fluid.renderer(soundfont, preload=True if args.songs >= 20 else None)
    else:  # the workers load their own: here its presets alone, not its samples
        fluid.FluidRenderer(soundfont, preload=False).close()
    loaded = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)

    if args.demo:
        recipe = make_recipe(args.seed, args.seconds, vocal_engine=engine)
        song = render_song(recipe, soundfont, fade_out=DEMO_FADE)
        path = _write_demo(song, out, args.demo)
        elapsed = time.perf_counter() - loaded
        print(f"{path}: {args.seconds:g} s rendered in {elapsed:.1f} s (vocals: {engine})")
        return 0

    bar = tqdm(total=args.songs, unit="song", desc="synth")
    audio_seconds = 0.0

    def done(index, recipe) -> None:
        nonlocal audio_seconds
        audio_seconds += recipe.seconds
        rate = audio_seconds / max(1e-9, time.perf_counter() - loaded)
        bar.set_postfix_str(f"{rate:.2f}x real time")
        bar.update(1)

    render_pool(
        out,
        args.songs,
        args.seconds,
        args.seed,
        soundfont=soundfont,
        vocal_engine=engine,
        jobs=args.jobs,
        on_song=done,
    )
    bar.close()
    elapsed = time.perf_counter() - loaded
    print(
        f"{bar.n} songs, {audio_seconds:.0f} s of audio in {elapsed:.1f} s "
        f"({audio_seconds / max(elapsed, 1e-9):.2f}x real time; soundfont {soundfont.name} "
        f"loaded in {loaded - started:.1f} s; vocals: {engine})"
    )
    return 0
