"""The "other" stem's parts: block chords, pads, arpeggios and counter-lines over the harmony.

Chord voicings keep close to the previous one (smooth voice leading) inside a register of about
an octave and a half; each layer of ``recipe.other_layers`` is one GM program playing one kind.
"""

from __future__ import annotations

import numpy as np

from training.synth import theory
from training.synth.notes import Note, Part
from training.synth.recipe import SongRecipe

# Rhythms of block chords inside one bar: (start, duration) in beats.
CHORD_RHYTHMS = (
    ((0.0, 4.0),),
    ((0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 1.5), (1.5, 1.5), (3.0, 1.0)),
    ((0.5, 0.4), (1.5, 0.4), (2.5, 0.4), (3.5, 0.4)),
    ((0.0, 0.75), (0.75, 0.75), (1.5, 1.0), (2.5, 1.5)),
)


def voicing(chord: theory.Chord, center: int, low: int = 52, high: int = 76) -> list[int]:
    """The chord's pitch classes as pitches near ``center`` in [low, high], ascending."""
    return sorted({theory.nearest_pitch(pc, center, low, high) for pc in chord.pitch_classes})


def _layer(recipe: SongRecipe, kind: str, rng: np.random.Generator) -> list[Note]:
    beats = recipe.bars * 4
    span = recipe.chord_beats
    rhythm = CHORD_RHYTHMS[int(rng.integers(len(CHORD_RHYTHMS)))]
    arp_step = float(rng.choice([0.5, 0.25])) if recipe.tempo < 130 else 0.5
    center = int(rng.integers(60, 67))
    notes: list[Note] = []
    line_pitch = center + 7
    for start in range(0, beats, span):
        chord = recipe.chord_at(start)
        voiced = voicing(chord, center)
        center = round(float(np.mean(voiced)))
        if kind == "pad":
            notes += [Note(float(start), float(span), p, 70) for p in voiced]
        elif kind == "chords":
            for onset, length in rhythm:
                if onset < span:
                    vel = 88 if onset == 0 else 76
                    length = min(length, span - onset)
                    notes += [Note(start + onset, length * 0.95, p, vel) for p in voiced]
        elif kind == "arpeggio":
            tones = voiced + [p + 12 for p in voiced]
            order = tones if rng.random() < 0.5 else tones[::-1]
            for i, onset in enumerate(np.arange(0.0, span, arp_step)):
                pitch = order[i % len(order)]
                notes.append(Note(start + float(onset), arp_step * 0.9, pitch, 80 - 10 * (i % 2)))
        elif kind == "counter":
            for onset in np.arange(0.0, span, 2.0):
                tone = theory.nearest_pitch(
                    int(rng.choice(chord.pitch_classes)), line_pitch, 62, 81
                )
                line_pitch = tone
                notes.append(Note(start + float(onset), min(2.0, span - onset) * 0.95, tone, 78))
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    if recipe.humanize:
        shifts = rng.integers(-6, 7, len(notes))
        notes = [
            Note(n.start, n.duration, n.pitch, int(np.clip(n.velocity + shift, 1, 127)))
            for n, shift in zip(notes, shifts)
        ]
    return notes


def other_parts(recipe: SongRecipe) -> list[Part]:
    """One part per layer of ``recipe.other_layers``."""
    parts = []
    for index, (kind, program) in enumerate(recipe.other_layers):
        rng = np.random.default_rng([recipe.seed, 3, index])
        parts.append(Part(f"other-{kind}", int(program), _layer(recipe, str(kind), rng)))
    return parts
