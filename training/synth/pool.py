"""A pool of rendered songs on disk, and new songs remixed from its stems.

Layout (what :func:`training.data.discover` reads as stems folders)::

    FOLDER/<song>/{drums,bass,other,vocals,mixture}.flac   24-bit, 44.1 kHz, stereo
    FOLDER/<song>/recipe.json                                the recipe, soundfont and renderer
    FOLDER/<song>/song.mid                                   the composed parts (not for remixes)

``mixture.flac`` is the sum of the four stems before encoding; after 24-bit quantisation the
file's mixture and the sum of the stem files differ by at most a few 2**-23.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from stemgui.audio.atomic import atomic_path
from stemgui.audio.encode import AudioFormat, write_audio
from training.synth import fluid, mix
from training.synth.notes import to_midi
from training.synth.recipe import STEMS, SongRecipe, make_recipe
from training.synth.song import SAMPLERATE, Song, render_song

log = logging.getLogger(__name__)

FLAC = AudioFormat(kind="flac", bits=24, clip="none")


def song_name(seed: int) -> str:
    return f"synth-{seed:06d}"


def write_song(song: Song, folder: str | Path, fmt: AudioFormat = FLAC) -> Path:
    """Write the stems, mixture, recipe and MIDI of ``song`` into ``folder`` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in [*zip(STEMS, song.stems), ("mixture", song.mixture)]:
        write_audio(folder / f"{name}.{fmt.extension}", audio, song.samplerate, fmt, overwrite=True)
    parts = [part for stem in STEMS for part in song.parts.get(stem, [])]
    to_midi(parts, song.recipe.tempo).write(str(folder / "song.mid"))
    record = song.recipe.to_dict()
    record["soundfont"] = Path(song.soundfont).name
    record["samplerate"] = song.samplerate
    # Last: a folder with a recipe.json is complete (render_pool skips it when resuming).
    write_json(folder / "recipe.json", record)
    return folder


def write_json(path: Path, record: dict) -> None:
    """``record`` as JSON at ``path``, whole or not at all (an interrupted write leaves no
    half a recipe to be taken for a finished song)."""
    with atomic_path(path, overwrite=True) as part:
        part.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _render_one(seed: int, seconds: float, engine: str, soundfont: str | None, target: Path):
    """Render and write one pool song; returns its recipe (what crosses a process boundary)."""
    recipe = make_recipe(seed, seconds, vocal_engine=engine)
    write_song(render_song(recipe, soundfont), target)
    return recipe


def render_pool(
    folder: str | Path,
    songs: int,
    seconds: float,
    seed: int = 0,
    *,
    soundfont: str | Path | None = None,
    vocal_engine: str = "sinsy",
    jobs: int = 1,
    on_song: Callable[[int, SongRecipe], None] | None = None,
) -> list[Path]:
    """Render ``songs`` songs of ``seconds`` each (seeds ``seed .. seed + songs - 1``).

    A song whose folder already holds a ``recipe.json`` is skipped, so an interrupted pool
    resumes where it stopped. ``jobs`` > 1 renders in that many worker processes (spawned; each
    loads the soundfont once); a song's samples do not depend on the process that renders it.
    ``on_song(index, recipe)`` is called in this process after each song is written.
    """
    targets = [Path(folder) / song_name(seed + index) for index in range(songs)]
    _no_file_at(targets)
    todo = [i for i, target in enumerate(targets) if not _finished(target)]
    if len(todo) < songs:
        log.info("%d of %d songs already in %s, skipped", songs - len(todo), songs, folder)
        kept = [targets[i] for i in sorted(set(range(songs)) - set(todo))]
        _warn_made_otherwise(folder, kept, seconds, vocal_engine, soundfont)
    font = str(soundfont) if soundfont else None
    if jobs <= 1:
        for index in todo:
            recipe = _render_one(seed + index, seconds, vocal_engine, font, targets[index])
            if on_song is not None:
                on_song(index, recipe)
        return targets
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {
            pool.submit(_render_one, seed + i, seconds, vocal_engine, font, targets[i]): i
            for i in todo
        }
        try:
            for future in as_completed(futures):
                recipe = future.result()
                if on_song is not None:
                    on_song(futures[future], recipe)
        except BaseException:  # Ctrl-C or a song that failed: the songs not started are not
            pool.shutdown(wait=False, cancel_futures=True)  # rendered first (was every one)
            raise
    return targets


def _no_file_at(targets: list[Path]) -> None:
    """Refuse, before any song is made, a file where one of ``targets``, a song's folder, goes:
    "[Errno 17] File exists" once the songs before it were made.

    Raises:
        ValueError: naming the file and what to do.
    """
    for target in targets:
        if os.path.lexists(target) and not target.is_dir():
            raise ValueError(
                f"{target}: is a file where a song's folder goes; move it away, or write the "
                "songs into another folder"
            )


def _warn_made_otherwise(
    folder: str | Path,
    kept: list[Path],
    seconds: float,
    vocal_engine: str,
    soundfont: str | Path | None,
) -> None:
    """Warn of the songs already in ``folder`` (``kept``: skipped, they stay as they are) that
    were made otherwise than asked: of another length, singer or soundfont."""
    records = [json.loads((song / "recipe.json").read_text(encoding="utf-8")) for song in kept]
    font = Path(soundfont) if soundfont else fluid.default_soundfont()
    made = [
        ("last", {f"{r['seconds']:g} s" for r in records}, f"{seconds:g} s"),
        ("are sung by", {r["vocal_engine"] for r in records}, vocal_engine),
        ("were played on", {str(r.get("soundfont")) for r in records}, font.name),
    ]
    for what, found, asked in made:
        if found != {asked}:
            log.warning(
                "songs already in %s %s %s, not the %s asked for; render into another folder "
                "for songs made that way",
                folder,
                what,
                "/".join(sorted(found)),
                asked,
            )


def remix_pool(
    pool: str | Path, out: str | Path, songs: int, seed: int = 0, *, ceiling: float = 0.95
) -> list[Path]:
    """Write ``songs`` new songs, each stem taken from a different random song of ``pool``.

    The sources do not share tempo or key: these remixes are tempo-agnostic, like the remix
    augmentation of training. Stems are cut to the shortest, limited together on their sum
    (the same gain for every stem), and each folder's ``recipe.json`` names the source song of
    every stem.

    Raises:
        ValueError: ``out`` is ``pool`` or inside it; ``pool`` holds under 2 songs.
    """
    from training.data import discover, read_track

    whole = Path(pool).resolve()
    if whole in (Path(out).resolve(), *Path(out).resolve().parents):
        raise ValueError(
            f"{out}: is inside the pool {pool} it remixes: the next remix would take these "
            "remixes for songs of the pool, and the same seed give other songs; write them "
            "into a folder outside it"
        )
    tracks = discover([pool])
    if len(tracks) < 2:
        raise ValueError(f"{pool}: remixing needs at least 2 songs, found {len(tracks)}")
    out = Path(out)
    targets = [out / f"remix-{seed:04d}-{index:05d}" for index in range(songs)]
    _no_file_at(targets)
    made = [folder for folder in (out, *out.parents) if not folder.exists()]  # innermost first
    out.mkdir(parents=True, exist_ok=True)  # a folder it cannot write: refused here
    rng = np.random.default_rng([seed, 99])
    written = []
    try:
        for index, target in enumerate(targets):
            picks = rng.choice(len(tracks), size=len(STEMS), replace=len(tracks) < len(STEMS))
            signals = []
            for source, pick in enumerate(picks):
                data = read_track(tracks[int(pick)])  # (1 + sources, channels, frames)
                signals.append(data[1 + source].astype(np.float64))
            frames = min(s.shape[-1] for s in signals)
            stems = np.stack([s[:, :frames] for s in signals])
            gain = mix.limiter_gain(stems.sum(0), SAMPLERATE, ceiling=ceiling)
            stems = (stems * gain).astype(np.float32)
            record = {
                "remix_seed": seed,
                "index": index,
                "sources": {stem: tracks[int(p)].name for stem, p in zip(STEMS, picks)},
            }
            written.append(_write_remix(target, stems, record))
    except BaseException:  # a damaged song of the pool, Ctrl-C: no empty folders left behind
        if not written:
            for folder in made:
                with contextlib.suppress(OSError):  # one that holds anything stays
                    folder.rmdir()
        raise
    return written


def _write_remix(target: Path, stems: np.ndarray, record: dict) -> Path:
    """Write the ``(sources, channels, frames)`` ``stems``, their mixture and ``record`` into
    ``target``, whole or not at all: a write that fails removes the remix's files (an earlier
    run's there too, half replaced) and the folder if that leaves it empty."""
    from stemgui.audio.atomic import remove_quietly

    files = [target / f"{name}.flac" for name in (*STEMS, "mixture")] + [target / "recipe.json"]
    target.mkdir(exist_ok=True)
    try:
        for path, audio in zip(files, [*stems, stems.sum(0)]):
            write_audio(path, audio, SAMPLERATE, FLAC, overwrite=True)
        write_json(files[-1], record)  # last, as a pool song's
    except BaseException:
        for path in files:
            remove_quietly(path)
        with contextlib.suppress(OSError):  # one that holds anything else stays
            target.rmdir()
        raise
    return target


def load_recipe(folder: str | Path) -> SongRecipe:
    """The recipe of a pool song, to render it again: ``render_song(load_recipe(f))``.

    Raises:
        ValueError: its ``recipe.json`` is missing or damaged, naming it.
    """
    path = Path(folder) / "recipe.json"
    try:
        return SongRecipe.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path}: cannot be read as a song's recipe ({error}); delete its folder, and"
            " the same synth command renders the song again"
        ) from error


def _finished(folder: Path) -> bool:
    """Whether a pool song was written whole: its recipe.json, written last, reads."""
    if not (folder / "recipe.json").exists():
        return False
    try:
        load_recipe(folder)
    except ValueError as error:
        log.warning("%s; rendering it again", error)
        return False
    return True
