"""How often the key estimate (``stemgui.stems.key``) names the key synthetic songs were made in.

Songs from ``training.synth`` (FluidSynth, Debian's GM soundfont, the FluidSynth vocal line so that
no Sinsy build is needed), each drawn from its seed with a tonic and a mode, are heard as the app
hears a separated song: its stems but the drums (``stemset_key``), and, beside it, the mixture
with its drums. Each answer is counted as exact, the relative key (C major for A minor: the same
notes), a fifth away, the parallel key (C minor for C major), other, or none; each row names the
song's chords as numerals of its key (by the app's profiles, ``PROFILE``), so that the loops read
wrong show; then one line for each set of profiles in ``PROFILES``, the app's and those it was
chosen over, so that the choice can be checked again. Also prints how long an estimate takes
against decoding nothing: reading the stems once. Never pass/fail.

``--held-out`` makes the songs in loops that ``training.synth`` never draws (``HELD_OUT``: modal
rock and pop, cadences it lacks), each in the key musicians name it in: a change to the estimate
that reads the generator's loops better but these worse has learnt the generator, not keys.

    .venv/bin/python bench/key_accuracy.py                  # 40 songs of 30 s, seeds 100-139
    .venv/bin/python bench/key_accuracy.py --songs 10 --first-seed 7
    .venv/bin/python bench/key_accuracy.py --held-out --songs 36   # each of 12 loops 3 times
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.stems.key import PROFILE, PROFILES, Key, estimate_key, stemset_key
from stemgui.stems.stemset import StemSet
from training.synth.recipe import STEMS, SongRecipe, make_recipe
from training.synth.song import render_song

HEARD = ("stems", "mixture")  # the stems but the drums, the mixture with its drums
NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
SUFFIXES = {"min7": "7", "dom7": "7", "maj7": "maj7", "sus4": "sus4", "dim": "°"}

# Loops the generator never draws: (the scale they are drawn in, its mode; their chords as
# [degree, quality] of that scale; the key they are in, as semitones above that scale's tonic,
# and its mode; their numerals in that key)
HELD_OUT = (
    ("major", [[4, "maj"], [3, "maj"], [0, "maj"], [4, "maj"]], 7, "major", "I bVII IV I"),
    ("major", [[4, "maj"], [3, "maj"], [4, "maj"], [0, "maj"]], 7, "major", "I bVII I IV"),
    ("major", [[1, "min"], [4, "maj"], [1, "min"], [4, "maj"]], 2, "minor", "i IV i IV"),
    ("minor", [[0, "min"], [5, "maj"], [6, "maj"], [0, "min"]], 0, "minor", "i VI VII i"),
    ("minor", [[0, "min"], [6, "maj"], [5, "maj"], [4, "maj"]], 0, "minor", "i VII VI V"),
    ("minor", [[0, "min"], [3, "min"], [0, "min"], [4, "maj"]], 0, "minor", "i iv i V"),
    ("minor", [[0, "min"], [6, "maj"], [0, "min"], [4, "min"]], 0, "minor", "i VII i v"),
    ("minor", [[0, "min"], [3, "min"], [6, "maj"], [2, "maj"]], 0, "minor", "i iv VII III"),
    ("major", [[0, "maj"], [3, "maj"], [0, "maj"], [4, "maj"]], 0, "major", "I IV I V"),
    ("major", [[0, "maj"], [5, "min"], [1, "min"], [4, "maj"]], 0, "major", "I vi ii V"),
    ("major", [[0, "maj"], [3, "maj"], [5, "min"], [4, "maj"]], 0, "major", "I IV vi V"),
    ("major", [[0, "maj"], [4, "maj"], [3, "maj"], [0, "maj"]], 0, "major", "I V IV I"),
)


def numerals(recipe: SongRecipe) -> str:
    """The recipe's chords as numerals of its key: "i VI III VII", "ii7 V7 Imaj7 Imaj7"."""
    said = []
    for degree, quality in recipe.progression:
        numeral = NUMERALS[int(degree)]
        if quality in ("min", "min7", "dim"):
            numeral = numeral.lower()
        said.append(numeral + SUFFIXES.get(quality, ""))
    return " ".join(said)


def song_of(seed: int, seconds: float, held_out: bool) -> tuple[SongRecipe, Key, str]:
    """(the recipe of song ``seed``, the key it is in, its chords as numerals); held out, in
    the loop ``HELD_OUT[seed % len(HELD_OUT)]`` instead of its own."""
    recipe = make_recipe(seed, seconds, vocal_engine="fluidsynth")
    if not held_out:
        return recipe, Key(recipe.tonic, recipe.mode), numerals(recipe)
    scale, chords, above, mode, said = HELD_OUT[seed % len(HELD_OUT)]
    recipe = dataclasses.replace(recipe, mode=scale, progression=chords)
    return recipe, Key((recipe.tonic + above) % 12, mode), said


def relation(found: Key | None, made: Key) -> str:
    if found is None:
        return "none"
    if found == made:
        return "exact"
    relative = (made.tonic + (9 if made.mode == "major" else 3)) % 12
    if found.mode != made.mode and found.tonic == relative:
        return "relative"
    if found.mode == made.mode and (found.tonic - made.tonic) % 12 in (5, 7):
        return "fifth"
    if found.mode != made.mode and found.tonic == made.tonic:
        return "parallel"
    return "other"


def tally(count: collections.Counter, songs: int) -> str:
    """How ``count`` reads: "29/40 exact (relative 5, other 6)"."""
    said = ", ".join(f"{what} {n}" for what, n in count.most_common() if what != "exact")
    return f"{count['exact']}/{songs} exact" + (f" ({said})" if said else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--held-out", action="store_true", help="songs in loops the generator never draws"
    )
    args = parser.parse_args()
    counts = {(profile, heard): collections.Counter() for profile in PROFILES for heard in HEARD}
    spent = {"estimate": 0.0, "read": 0.0}
    print(f"{'seed':>5}  {'made in':<10} {'stems but drums':<24} {'mixture':<24} chords")
    for seed in range(args.first_seed, args.first_seed + args.songs):
        recipe, made, chords = song_of(seed, args.seconds, args.held_out)
        song = render_song(recipe)
        stems = StemSet(list(STEMS), song.samplerate, song.stems, mix=song.mixture)
        start = time.perf_counter()
        heard = stemset_key(stems)
        spent["estimate"] += time.perf_counter() - start
        start = time.perf_counter()
        float(np.sum(song.stems[1:], dtype=np.float64))  # the reference: read the stems once
        spent["read"] += time.perf_counter() - start
        whole = estimate_key(song.mixture, song.samplerate)
        row = []
        for profile in PROFILES:
            answers = (heard, whole)
            if profile != PROFILE:
                answers = (
                    stemset_key(stems, profile),
                    estimate_key(song.mixture, song.samplerate, profile),
                )
            for name, found in zip(HEARD, answers):
                what = relation(found, made)
                counts[profile, name][what] += 1
                if profile == PROFILE:
                    row.append(f"{found.name if found else '-':<12}{what:<12}")
        print(f"{seed:>5}  {made.name:<10} {row[0]} {row[1]} {chords}", flush=True)
    for profile in PROFILES:
        said = "; ".join(f"{name} {tally(counts[profile, name], args.songs)}" for name in HEARD)
        whose = " (the app's)" if profile == PROFILE else ""
        print(f"{profile}{whose}: {said}")
    print(
        f"estimate {1000 * spent['estimate'] / args.songs:.1f} ms a song, "
        f"{spent['estimate'] / max(spent['read'], 1e-9):.1f} times reading its stems once"
    )


if __name__ == "__main__":
    main()
