"""Drum parts: one-bar grooves per style, varied per bar, with fills at section ends.

A groove is a grid of steps per bar — 16 (sixteenth notes) for straight styles, 12 (eighth-note
triplets) for the shuffle — with one row per GM drum sound. A row is a string: ``X`` accent,
``x`` normal, ``g`` ghost note, ``.`` rest. The last bar of a section of four bars or more
gets a fill (snare and toms over its second half) and the next section opens on a crash.
"""

from __future__ import annotations

import numpy as np

from training.synth.notes import Note, Part
from training.synth.recipe import SongRecipe

KICK, SNARE, CLAP, HAT, PEDAL_HAT, OPEN_HAT, RIDE, CRASH = 36, 38, 39, 42, 44, 46, 51, 49
TOMS = (50, 48, 47, 45, 43, 41)  # high to low

GROOVES: dict[str, dict[int, str]] = {
    "rock": {
        HAT: "X.x.X.x.X.x.X.x.",
        KICK: "X.......X.x.....",
        SNARE: "....X.......X...",
    },
    "funk": {
        HAT: "XxxxXxxxXxxxXxxx",
        KICK: "X..x..x...X..x..",
        SNARE: "....X..g.g..X..g",
    },
    "halftime": {
        HAT: "X.x.X.x.X.x.X.x.",
        KICK: "X.........X.....",
        SNARE: "........X.......",
    },
    "four": {
        KICK: "X...X...X...X...",
        OPEN_HAT: "..x...x...x...x.",
        HAT: "x...x...x...x...",
        CLAP: "....X.......X...",
    },
    "shuffle": {
        HAT: "X.xX.xX.xX.x",
        KICK: "X.....X..x..",
        SNARE: "...X.....X..",
    },
}
VELOCITY = {"X": 110, "x": 84, "g": 42}


def steps_per_bar(style: str) -> int:
    return len(next(iter(GROOVES[style].values())))


def _bar_groove(style: str, rng: np.random.Generator, energy: int) -> dict[int, str]:
    """The style's groove with this song's small variations (kick pickups, ride in choruses)."""
    groove = dict(GROOVES[style])
    steps = steps_per_bar(style)
    if style != "four" and rng.random() < 0.5:
        kick = list(groove[KICK])
        spot = int(rng.choice([s for s in range(steps) if kick[s] == "." and s % 2 == 0]))
        kick[spot] = "x"
        groove[KICK] = "".join(kick)
    if energy and HAT in groove and style != "four" and rng.random() < 0.5:
        groove[RIDE] = groove.pop(HAT)
    return groove


def _fill(style: str, rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """(step, drum, strength) hits over the second half of a bar: snare then toms going down."""
    steps = steps_per_bar(style)
    half = steps // 2
    stride = 1 if rng.random() < 0.6 else 2
    hits = list(range(half, steps, stride))
    toms = list(TOMS[int(rng.integers(0, 2)) :: 1 + int(rng.integers(0, 2))])
    out = []
    for index, step in enumerate(hits):
        position = index / max(1, len(hits) - 1)
        if position < 0.34:
            drum = SNARE
        else:
            drum = toms[min(len(toms) - 1, int((position - 0.34) / 0.66 * len(toms)))]
        out.append((step, drum, "X" if index % 2 == 0 else "x"))
    out.append((half, KICK, "x"))
    return out


def drum_part(recipe: SongRecipe) -> Part:
    """The song's drum part: its style's groove in every bar, fills, crashes at section starts."""
    rng = np.random.default_rng([recipe.seed, 1])
    style = recipe.drum_style
    steps = steps_per_bar(style)
    step_beats = 4.0 / steps
    jitter = 0.004 / recipe.beat_seconds if recipe.humanize else 0.0
    notes: list[Note] = []
    bar = 0
    for section_index, section in enumerate(recipe.structure):
        groove = _bar_groove(style, rng, section.energy)
        for bar_in_section in range(section.bars):
            hits: list[tuple[int, int, str]] = []
            fill = (
                recipe.fills
                and section.bars >= 4
                and bar_in_section == section.bars - 1
                and section_index < len(recipe.structure) - 1
            )
            for drum, row in groove.items():
                for step, mark in enumerate(row):
                    if mark != "." and not (fill and step >= steps // 2):
                        hits.append((step, drum, mark))
            if fill:
                hits.extend(_fill(style, rng))
            if bar_in_section == 0 and (section_index > 0 or section.energy):
                hits.append((0, CRASH, "X"))
            for step, drum, mark in hits:
                velocity = VELOCITY[mark]
                if recipe.humanize:
                    velocity += int(rng.integers(-8, 9))
                offset = float(rng.uniform(-jitter, jitter)) if jitter else 0.0
                start = max(0.0, bar * 4.0 + step * step_beats + offset)
                notes.append(Note(start, step_beats, drum, int(np.clip(velocity, 1, 127))))
            bar += 1
    notes.sort(key=lambda n: (n.start, n.pitch))
    return Part("drums", recipe.drum_kit, notes, is_drum=True)
