"""A song's recipe: everything needed to render it again, drawn at random from one seed.

:func:`make_recipe` turns ``(seed, seconds)`` into a :class:`SongRecipe` — tempo, key, chord
progression, structure, the style of each part, GM programs and the mixing settings of each stem.
The note-level choices (which drum hits, which melody notes) are drawn later by the part
generators from the same seed, so a recipe alone (or its seed alone) reproduces the song. The
recipe is plain data and round-trips through JSON (:meth:`SongRecipe.to_json`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from training.synth import theory

STEMS = ("drums", "bass", "other", "vocals")

DRUM_STYLES = ("rock", "funk", "halftime", "four", "shuffle")
# GM drum kits (bank 128): standard, room, power, electronic, TR-808, jazz, brush.
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)
BASS_PATTERNS = ("roots", "root_fifth", "walking", "octaves")
# GM basses: acoustic, finger, pick, fretless, slap 1, synth 1, synth 2.
BASS_PROGRAMS = (32, 33, 34, 35, 36, 38, 39)
# "other" layers and the GM programs each may use.
OTHER_LAYERS = {
    "chords": (0, 1, 4, 5, 16, 17, 18, 24, 25, 27, 29, 30, 61, 62),
    "pad": (48, 49, 50, 52, 88, 89, 90, 91, 94, 95, 19),
    "arpeggio": (0, 4, 5, 6, 11, 24, 25, 46, 81, 98),
    "counter": (40, 42, 56, 57, 60, 65, 71, 73, 27, 48),
}
# FluidSynth programs that stand in for a singer when Sinsy is not used: choir aahs, voice oohs.
VOICE_PROGRAMS = (52, 53)
VOCAL_ENGINES = ("sinsy", "fluidsynth")


@dataclass
class Section:
    """A stretch of the song: ``bars`` bars, with or without vocals, at an energy of 0 or 1."""

    name: str
    bars: int
    vocals: bool = True
    energy: int = 0


@dataclass
class StemMix:
    """How one stem is mixed (see :mod:`training.synth.mix`)."""

    level_db: float = 0.0
    tilt_db: float = 0.0
    highpass_hz: float = 0.0
    comp_threshold_db: float = -18.0
    comp_ratio: float = 2.0
    width: float = 1.0
    pan: float = 0.0
    reverb: float = 0.1
    reverb_seconds: float = 1.2


@dataclass
class SongRecipe:
    """Everything that defines a synthetic song; JSON-serialisable."""

    seed: int
    seconds: float
    tempo: int
    tonic: int
    mode: str
    progression: list[list[Any]]  # [[degree, quality], ...]
    chord_beats: int  # 4: one chord per bar, 2: two per bar
    structure: list[Section]
    drum_style: str
    drum_kit: int
    fills: bool
    bass_pattern: str
    bass_program: int
    other_layers: list[list[Any]]  # [[kind, program], ...]
    vocal_engine: str
    vocal_program: int
    vocal_low: int
    vocal_high: int
    mix: dict[str, StemMix] = field(default_factory=dict)
    humanize: bool = True

    @property
    def key_name(self) -> str:
        return f"{theory.NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def beat_seconds(self) -> float:
        return 60.0 / self.tempo

    @property
    def bars(self) -> int:
        return sum(s.bars for s in self.structure)

    def chords(self) -> list[theory.Chord]:
        """The progression as chords (one per ``chord_beats`` beats, looped)."""
        return [
            theory.chord_from_degree(self.tonic, self.mode, int(d), str(q))
            for d, q in self.progression
        ]

    def chord_at(self, beat: float) -> theory.Chord:
        chords = self.chords()
        return chords[int(beat // self.chord_beats) % len(chords)]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["key"] = self.key_name
        data["chords"] = [c.name for c in self.chords()]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SongRecipe:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["structure"] = [Section(**s) for s in data["structure"]]
        data["mix"] = {name: StemMix(**m) for name, m in data.get("mix", {}).items()}
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> SongRecipe:
        return cls.from_dict(json.loads(text))


def _structure(bars: int, rng: np.random.Generator) -> list[Section]:
    """Sections covering at least ``bars`` bars: a short song is one sung verse."""
    if bars <= 8:
        return [Section("verse", bars, vocals=True, energy=0)]
    sections = []
    if rng.random() < 0.7:
        sections.append(Section("intro", int(rng.choice([2, 4])), vocals=False, energy=0))
    cycle = [("verse", 8, True, 0), ("chorus", 8, True, 1)]
    if rng.random() < 0.5:
        cycle.append(("bridge", 4, bool(rng.random() < 0.5), 0))
    while sum(s.bars for s in sections) < bars:
        for name, length, vocals, energy in cycle:
            sections.append(Section(name, length, vocals, energy))
            if sum(s.bars for s in sections) >= bars:
                break
    return sections


def _mix(stem: str, rng: np.random.Generator) -> StemMix:
    """Random but plausible mixing settings for one stem."""
    level = {"drums": 0.0, "bass": -1.0, "other": -2.0, "vocals": 0.0}[stem]
    narrow = stem in ("bass", "vocals")
    return StemMix(
        level_db=round(level + float(rng.uniform(-3, 3)), 2),
        tilt_db=round(float(rng.uniform(-3, 3)), 2),
        highpass_hz={"drums": 30.0, "bass": 30.0, "other": 120.0, "vocals": 100.0}[stem],
        comp_threshold_db=round(float(rng.uniform(-24, -10)), 1),
        comp_ratio=round(float(rng.uniform(1.5, 4.0)), 2),
        width=round(float(rng.uniform(0.0, 0.4) if narrow else rng.uniform(0.6, 1.3)), 2),
        pan=round(float(rng.uniform(-0.3, 0.3)) if stem == "other" else 0.0, 2),
        reverb=round(float(rng.uniform(0.0, 0.08 if stem == "bass" else 0.3)), 3),
        reverb_seconds=round(float(rng.uniform(0.6, 2.5)), 2),
    )


def make_recipe(
    seed: int, seconds: float, *, vocal_engine: str = "sinsy", humanize: bool = True
) -> SongRecipe:
    """Draw a song's recipe from ``seed``: the same seed always gives the same recipe."""
    if vocal_engine not in VOCAL_ENGINES:
        raise ValueError(f"unknown vocal engine {vocal_engine!r}; use one of {VOCAL_ENGINES}")
    rng = np.random.default_rng([seed, 0])
    mode = str(rng.choice(["major", "minor"], p=[0.6, 0.4]))
    style = str(rng.choice(DRUM_STYLES))
    tempo_range = {"rock": (90, 150), "funk": (88, 118), "halftime": (120, 160)}
    tempo_range |= {"four": (110, 130), "shuffle": (80, 130)}
    low, high = tempo_range[style]
    tempo = int(rng.integers(low, high + 1))
    progressions = theory.PROGRESSIONS[mode]
    progression = progressions[int(rng.integers(len(progressions)))]
    chord_beats = int(rng.choice([4, 2], p=[0.75, 0.25]))
    bars = max(1, math.ceil(seconds * tempo / 240.0))
    n_layers = int(rng.choice([1, 2], p=[0.5, 0.5]))
    kinds = list(rng.choice(list(OTHER_LAYERS), size=n_layers, replace=False))
    bass_pattern = str(rng.choice(BASS_PATTERNS))
    if style == "shuffle" and rng.random() < 0.5:
        bass_pattern = "walking"
    # Sinsy's bundled voice sings unvoiced at or below C4 and flattens notes past F5.
    vocal_low = int(rng.integers(63, 66))
    return SongRecipe(
        seed=int(seed),
        seconds=float(seconds),
        tempo=tempo,
        tonic=int(rng.integers(12)),
        mode=mode,
        progression=[[int(d), str(q)] for d, q in progression],
        chord_beats=chord_beats,
        structure=_structure(bars, rng),
        drum_style=style,
        drum_kit=int(rng.choice(DRUM_KITS)),
        fills=bool(rng.random() < 0.8),
        bass_pattern=bass_pattern,
        bass_program=int(rng.choice(BASS_PROGRAMS)),
        other_layers=[[str(k), int(rng.choice(OTHER_LAYERS[str(k)]))] for k in kinds],
        vocal_engine=vocal_engine,
        vocal_program=int(rng.choice(VOICE_PROGRAMS)),
        vocal_low=vocal_low,
        vocal_high=vocal_low + int(rng.integers(10, 12)),
        mix={stem: _mix(stem, rng) for stem in STEMS},
        humanize=humanize,
    )
