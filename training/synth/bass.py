"""Bass parts that follow the harmony: roots, root and fifth, walking lines, octaves.

Every chord span (``recipe.chord_beats`` beats) starts on the chord's root in the bass register
(:data:`LOW` to ``LOW + 11``); the pattern fills the rest of the span from the chord's tones, and
walking lines approach the next root chromatically.
"""

from __future__ import annotations

import numpy as np

from training.synth import theory
from training.synth.notes import Note, Part
from training.synth.recipe import SongRecipe

LOW = 31  # G1: roots lie in [G1, F#2]


def root_pitch(chord: theory.Chord) -> int:
    """The MIDI pitch the bass plays for ``chord``'s root."""
    return theory.pitch_in_range(chord.root, LOW)


def _span(
    pattern: str,
    chord: theory.Chord,
    following: theory.Chord,
    beats: int,
    rng: np.random.Generator,
) -> list[tuple[float, float, int]]:
    """(start, duration, pitch) notes of one chord span, starts relative to the span."""
    root = root_pitch(chord)
    fifth = root + (chord.fifth - chord.root) % 12
    third = root + chord.intervals[1]
    if pattern == "roots":
        grid = 0.5 if rng.random() < 0.7 else 1.0
        return [(t, grid * 0.85, root) for t in np.arange(0, beats, grid)]
    if pattern == "root_fifth":
        pitches = [root, fifth, root + 12 if rng.random() < 0.3 else root, fifth]
        return [(float(b), 0.9, pitches[b % 4]) for b in range(beats)]
    if pattern == "octaves":
        return [(t, 0.4, root + 12 * (i % 2)) for i, t in enumerate(np.arange(0, beats, 0.5))]
    if pattern == "walking":
        target = root_pitch(following)
        line = [root]
        tones = [third, fifth, root + 12, fifth - 12 if fifth - 12 >= LOW - 5 else fifth]
        for _ in range(beats - 2):
            line.append(int(rng.choice(tones)))
        if beats >= 2:
            line.append(target + (1 if rng.random() < 0.5 else -1))
        return [(float(b), 0.95, p) for b, p in enumerate(line)]
    raise ValueError(f"unknown bass pattern {pattern!r}")


def bass_part(recipe: SongRecipe) -> Part:
    """The song's bass part: one pattern over every chord span of the song."""
    rng = np.random.default_rng([recipe.seed, 2])
    beats = recipe.bars * 4
    span = recipe.chord_beats
    notes = []
    for start in range(0, beats, span):
        chord = recipe.chord_at(start)
        following = recipe.chord_at(start + span)
        for offset, duration, pitch in _span(recipe.bass_pattern, chord, following, span, rng):
            velocity = 96 if offset == 0 else 84
            if recipe.humanize:
                velocity += int(rng.integers(-6, 7))
            notes.append(Note(start + float(offset), float(duration), int(pitch), velocity))
    return Part("bass", recipe.bass_program, notes)
