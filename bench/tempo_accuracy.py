"""How often the tempo estimate and its beat grid (``stemgui.stems.tempo``) give the tempo and the
beats synthetic drums were made with (``tests.stems.drumkit``). Never pass/fail.

Four parts, each on drums of the four styles (four on the floor, hip-hop, breakbeat, drum &
bass), every hit within 3 ms of its beat at random, the first on the song's first frame:

- **tempo**: 30 s at 60, 70, ... 200 BPM: the tempo read right (within 0.5 BPM), twice or half
  the tempo (an octave off), another, or none;
- **grid**: of those read right, how many have a grid, the worst distance from a beat the song
  was made with to the grid's beat nearest it, and how many grids have a beat on the first hit
  (within 5 ms after the start: the metronome clicks it);
- **short**: songs of 16, 20, 24 and 28 beats at 80-200 BPM (6 s at least): grids given and
  their worst distance;
- **changing**: songs whose tempo steps (120 to 121-126 BPM, early, halfway or late) or speeds
  up (1-5 % over 30-180 s): grids given (a steady grid fits none of them) and how far the
  worst given one lies from the beats, in beats;
- **ends**: songs steady in most of their length, each in the four styles: drums 20 dB down
  under a melody's bleed for a third of a minute at 128 BPM (first, middle or last), 160
  beats at 120 BPM then 8 bars slowing down to 60, 75, 90 or 95-99 % of it, an intro of 4 or 8
  bars in free time (hits up to 200 ms off) before 80 s at 120: grids given and the worst
  distance from the steady beats; four on the floor at 120 BPM whose first 8 bars, last 8
  or both are at 117-130 BPM (a tempo step near an end), and 16 s at 119 or 121 BPM before
  44 s at 120 in the four styles (a step whose first beat falls on the later grid): grids
  given (wrongly).

    .venv/bin/python bench/tempo_accuracy.py
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.stems.tempo import Tempo, estimate_tempo
from tests.stems.drumkit import (
    RATE,
    drum_track,
    intro_at,
    slowed_beats,
    slowing_down,
    sped_up,
    sped_up_at,
    stepped_at_ends,
    under_bleed,
)

STYLES = ("four", "hiphop", "break", "dnb")


def worst(tempo: Tempo, beats: np.ndarray) -> float:
    """Seconds from the beat of ``beats`` farthest from the grid to the grid's beat nearest it."""
    nearest = tempo.first_beat + np.round((beats - tempo.first_beat) / tempo.beat) * tempo.beat
    return float(np.max(np.abs(nearest - beats)))


def steady(bpm: float, seconds: float) -> np.ndarray:
    return np.arange(0.0, seconds - 1e-9, 60.0 / bpm)


def tempo_and_grid() -> None:
    counts = dict.fromkeys(("right", "twice", "half", "other", "none"), 0)
    wrong, errors, grids, on_first = [], [], 0, 0
    for style in STYLES:
        for bpm in range(60, 201, 10):
            tempo = estimate_tempo(drum_track(bpm, 30.0, style, seed=bpm, noise=0.05), RATE)
            found = None if tempo is None else tempo.bpm
            kind = "none" if found is None else "other"
            for name, times in (("right", 1), ("twice", 2), ("half", 0.5)):
                if found is not None and abs(found - bpm * times) <= 0.5:
                    kind = name
            counts[kind] += 1
            if kind != "right":
                wrong.append(f"{style} {bpm}: {found}")
            elif tempo.beat is not None:
                grids += 1
                errors.append(worst(tempo, steady(bpm, 30.0)))
                on_first += tempo.first_beat <= 0.005
    total = sum(counts.values())
    print(
        f"tempo, {total} songs of 30 s at 60-200 BPM: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    if wrong:
        print("  read wrong: " + "; ".join(wrong))
    print(
        f"grid: {grids} of {counts['right']} read right, worst"
        f" {1000 * max(errors, default=0):.1f} ms off a beat; a beat on the first hit in"
        f" {on_first} of {grids}"
    )


def short() -> None:
    songs, grids, errors = 0, 0, []
    for style in STYLES:
        for bpm in range(80, 201, 20):
            for beats in (16, 20, 24, 28):
                seconds = beats * 60.0 / bpm
                if seconds < 6.0:
                    continue
                songs += 1
                tempo = estimate_tempo(drum_track(bpm, seconds, style, seed=beats), RATE)
                if tempo is not None and tempo.beat is not None and abs(tempo.bpm - bpm) <= 0.5:
                    grids += 1
                    errors.append(worst(tempo, steady(bpm, seconds)))
    print(
        f"short: {grids} grids for {songs} songs of 16-28 beats, worst"
        f" {1000 * max(errors, default=0):.1f} ms off a beat"
    )


def changing_songs() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, song, the times of its beats) of songs whose tempo changes, one at a time."""
    for to in (121, 122, 124, 126):
        for before, after in ((15, 60), (30, 30), (60, 15), (240, 30)):
            song = np.concatenate(
                [drum_track(120, before, seed=1), drum_track(to, after, seed=2)], axis=1
            )
            beats = np.concatenate([steady(120, before), before + steady(to, after)])
            yield f"120 then {to} ({before} + {after} s)", song, beats
    for by in (0.01, 0.02, 0.05):
        for seconds in (30, 60, 180):
            song = sped_up(drum_track(120, seconds, seed=3), by)
            beats = seconds * sped_up_at(steady(120, seconds) / seconds, by)
            yield f"{by:.0%} faster over {seconds} s", song, beats[beats < song.shape[1] / RATE]


def changing() -> None:
    songs, given = 0, []
    for name, song, beats in changing_songs():
        songs += 1
        tempo = estimate_tempo(song, RATE)
        if tempo is not None and tempo.beat is not None:
            given.append(f"{name} ({worst(tempo, beats) / tempo.beat:.2f})")
    print(f"changing: {len(given)} grids for {songs} songs whose tempo changes")
    if given:
        print("  given (worst distance, in beats): " + "; ".join(given))


def steady_ends() -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(family, name, song, the times of its steady beats) of songs steady in most of their
    length, off it at an end or under bleed."""
    for style in STYLES:
        for third in range(3):
            song = under_bleed(drum_track(128, 60.0, style, seed=third), 20.0 * third, 20.0)
            yield "bleed", f"{style} {third + 1}/3", song, steady(128, 60.0)
        for to in (0.6, 0.75, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99):
            song = slowing_down(drum_track(120, 100.0, style, seed=4), 120, 160, 32, to)
            beats = slowed_beats(120, 160, 32, to)[:161]  # those before it slows down
            yield "ritardando", f"{style} to {to:.0%}", song, beats
        for bars in (4, 8):
            free = drum_track(120, 2.0 * bars, style, jitter_ms=200, seed=3)
            song = np.concatenate([free, drum_track(120, 80.0, style, seed=1)], axis=1)
            yield "free intro", f"{style} {bars} bars", song, 2.0 * bars + steady(120, 80.0)


def ends() -> None:
    results: dict[str, list[float | None]] = {}
    missed: dict[str, list[str]] = {}
    for family, name, song, beats in steady_ends():
        tempo = estimate_tempo(song, RATE)
        has_grid = tempo is not None and tempo.beat is not None
        results.setdefault(family, []).append(worst(tempo, beats) if has_grid else None)
        if not has_grid:
            missed.setdefault(family, []).append(name)
    for family, errors in results.items():
        given = [e for e in errors if e is not None]
        print(
            f"{family}: {len(given)} grids for {len(errors)} songs, worst"
            f" {1000 * max(given, default=0):.1f} ms off a steady beat"
        )
        if family in missed:
            print("  none: " + "; ".join(missed[family]))
    songs: dict[tuple[str, str], int] = {}
    given: dict[tuple[str, str], list[str]] = {}
    for family, name, song in stepped_songs():
        songs[family] = songs.get(family, 0) + 1
        tempo = estimate_tempo(song, RATE)
        if tempo is not None and tempo.beat is not None:
            given.setdefault(family, []).append(name)
    for (family, what), count in songs.items():
        print(f"{family}: {len(given.get((family, what), []))} grids for {count} songs ({what})")
        if (family, what) in given:
            print("  given: " + "; ".join(given[family, what]))


def stepped_songs() -> Iterator[tuple[tuple[str, str], str, np.ndarray]]:
    """((family, what its songs are), name, song) of songs whose tempo steps near an end."""
    for bpm in (117, 118, 119, 123, 125, 130):
        for early, late, where in (
            (True, False, "first"),
            (False, True, "last"),
            (True, True, "both"),
        ):
            family = ("steps at an end", "8 bars at 117-130 BPM")
            yield family, f"{bpm} BPM {where}", stepped_at_ends(bpm, early, late)
    for style in STYLES:
        for bpm in (119, 121):
            family = ("intros at another tempo", "16 s at 119 or 121 BPM, then 44 s at 120")
            yield family, f"{style} {bpm} BPM", intro_at(bpm, style=style)


def main() -> None:
    tempo_and_grid()
    short()
    changing()
    ends()


if __name__ == "__main__":
    main()
