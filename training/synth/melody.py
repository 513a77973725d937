"""The vocal line: two-bar phrases on the scale, chord tones on strong beats, one syllable a note.

Notes never cross a barline (the MusicXML writer relies on it). Syllables are Japanese kana,
the language of Sinsy's bundled voice; the FluidSynth stand-in ignores them.
"""

from __future__ import annotations

import numpy as np

from training.synth import theory
from training.synth.notes import Note, Part
from training.synth.recipe import SongRecipe

SYLLABLES = tuple("らるなにのかさたまみよあいおえうねそこひ")

# One bar of a phrase: (start, duration) of the sung notes, in beats.
OPENING_BARS = (
    ((0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.0, 2.0)),
    ((0.5, 0.5), (1.0, 1.5), (2.5, 0.5), (3.0, 1.0)),
    ((0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 0.5), (3.5, 0.5)),
    ((1.0, 0.5), (1.5, 0.5), (2.0, 0.5), (2.5, 0.5), (3.0, 1.0)),
)
CLOSING_BARS = (
    ((0.0, 2.5),),
    ((0.0, 1.0), (1.0, 2.0)),
    ((0.0, 0.5), (0.5, 0.5), (1.0, 2.5)),
    ((0.0, 3.0),),
)


def vocal_part(recipe: SongRecipe) -> Part:
    """The song's vocal line over its sections with vocals (a rest elsewhere)."""
    rng = np.random.default_rng([recipe.seed, 4])
    notes: list[Note] = []
    bar = 0
    pitch = (recipe.vocal_low + recipe.vocal_high) // 2
    for section in recipe.structure:
        shift = 2 if section.energy else 0  # choruses sit higher
        low, high = recipe.vocal_low + shift, recipe.vocal_high + shift
        scale = theory.scale_pitches(recipe.tonic, recipe.mode, low, high)
        for bar_in_section in range(section.bars):
            if section.vocals:
                closing = bar_in_section % 2 == 1 or bar_in_section == section.bars - 1
                cells = CLOSING_BARS if closing else OPENING_BARS
                rhythm = cells[int(rng.integers(len(cells)))]
                for onset, length in rhythm:
                    beat = bar * 4 + onset
                    chord = recipe.chord_at(beat)
                    if onset in (0.0, 2.0) or length >= 2.0:
                        # a chord tone within a fourth of the last note (stepwise-ish lines)
                        tones = [
                            p
                            for p in range(max(low, pitch - 5), min(high, pitch + 5) + 1)
                            if p % 12 in chord.pitch_classes
                        ]
                        pitch = int(rng.choice(tones)) if tones else pitch
                    else:
                        index = min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))
                        index += int(rng.choice([-2, -1, 1, 1, 2]))
                        index = int(np.clip(index, 0, len(scale) - 1))
                        pitch = scale[index]
                    syllable = SYLLABLES[int(rng.integers(len(SYLLABLES)))]
                    velocity = 96 + (int(rng.integers(-8, 9)) if recipe.humanize else 0)
                    notes.append(Note(beat, length, int(pitch), velocity, syllable))
            bar += 1
    return Part("vocals", recipe.vocal_program, notes)
