"""Keys, scales and chord progressions: the harmony every part of a synthetic song follows.

Pitches are MIDI note numbers; a pitch class is ``pitch % 12`` (0 = C). A chord is a root pitch
class and a quality; a progression is one chord per bar (or two, as half bars), looped over the
song.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}

# Intervals above the root, in semitones.
QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "sus4": (0, 5, 7),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "dom7": (0, 4, 7, 10),
}

# Progressions as (scale degree 0-6, quality) per chord, for each mode.
PROGRESSIONS = {
    "major": (
        ((0, "maj"), (4, "maj"), (5, "min"), (3, "maj")),  # I V vi IV
        ((5, "min"), (3, "maj"), (0, "maj"), (4, "maj")),  # vi IV I V
        ((0, "maj"), (5, "min"), (3, "maj"), (4, "maj")),  # I vi IV V
        ((1, "min7"), (4, "dom7"), (0, "maj7"), (0, "maj7")),  # ii V I I
        ((0, "maj"), (3, "maj"), (4, "maj"), (3, "maj")),  # I IV V IV
        ((0, "maj"), (2, "min"), (3, "maj"), (4, "sus4")),  # I iii IV Vsus
        ((3, "maj"), (4, "maj"), (2, "min"), (5, "min")),  # IV V iii vi
    ),
    "minor": (
        ((0, "min"), (5, "maj"), (2, "maj"), (6, "maj")),  # i VI III VII
        ((0, "min"), (3, "min"), (4, "min"), (0, "min")),  # i iv v i
        ((0, "min"), (6, "maj"), (5, "maj"), (6, "maj")),  # i VII VI VII
        ((0, "min7"), (3, "min7"), (6, "dom7"), (2, "maj7")),  # i7 iv7 VII7 IIImaj7
        ((0, "min"), (5, "maj"), (3, "min"), (4, "dom7")),  # i VI iv V7
    ),
}


@dataclass(frozen=True)
class Chord:
    """A chord: ``root`` pitch class (0-11) and ``quality`` (a key of :data:`QUALITIES`)."""

    root: int
    quality: str

    @property
    def intervals(self) -> tuple[int, ...]:
        return QUALITIES[self.quality]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in self.intervals)

    @property
    def fifth(self) -> int:
        """Pitch class of the chord's fifth (diminished for "dim")."""
        return (self.root + self.intervals[2]) % 12

    @property
    def name(self) -> str:
        suffix = {"maj": "", "min": "m", "dim": "dim", "sus4": "sus4", "maj7": "maj7"}
        suffix |= {"min7": "m7", "dom7": "7"}
        return NOTE_NAMES[self.root] + suffix[self.quality]


def chord_from_degree(tonic: int, mode: str, degree: int, quality: str) -> Chord:
    """The chord on scale ``degree`` (0-6) of the key ``tonic`` (pitch class) ``mode``."""
    return Chord((tonic + SCALES[mode][degree]) % 12, quality)


def scale_pitches(tonic: int, mode: str, low: int, high: int) -> list[int]:
    """Every MIDI pitch of the scale in [low, high], ascending."""
    classes = {(tonic + step) % 12 for step in SCALES[mode]}
    return [p for p in range(low, high + 1) if p % 12 in classes]


def nearest_pitch(pitch_class: int, target: int, low: int, high: int) -> int:
    """The pitch of ``pitch_class`` in [low, high] closest to ``target`` (ties go lower)."""
    candidates = [p for p in range(low, high + 1) if p % 12 == pitch_class % 12]
    if not candidates:
        raise ValueError(f"no pitch class {pitch_class} between {low} and {high}")
    return min(candidates, key=lambda p: (abs(p - target), p))


def pitch_in_range(pitch_class: int, low: int) -> int:
    """The lowest pitch of ``pitch_class`` at or above ``low``."""
    return low + (pitch_class - low) % 12
