"""Notes and parts: what the generators write and the renderers play.

Times are in beats (quarter notes) from the start of the song; the tempo turns them into
seconds. A :class:`Part` is one instrument (a GM program, or a drum kit on MIDI channel 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    """One note: ``start`` and ``duration`` in beats, MIDI ``pitch`` and ``velocity`` (1-127).

    ``lyric`` is the syllable sung on it (vocal parts only).
    """

    start: float
    duration: float
    pitch: int
    velocity: int = 100
    lyric: str | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Part:
    """One instrument's notes: a GM ``program`` (0-127) or, with ``is_drum``, a kit number."""

    name: str
    program: int
    notes: list[Note] = field(default_factory=list)
    is_drum: bool = False


def to_midi(parts: Sequence[Part], tempo: float):
    """The parts as a ``pretty_midi.PrettyMIDI`` object (for writing a ``.mid`` beside a song)."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    beat = 60.0 / tempo
    for part in parts:
        instrument = pretty_midi.Instrument(part.program, is_drum=part.is_drum, name=part.name)
        for note in part.notes:
            instrument.notes.append(
                pretty_midi.Note(
                    velocity=int(note.velocity),
                    pitch=int(note.pitch),
                    start=note.start * beat,
                    end=note.end * beat,
                )
            )
        midi.instruments.append(instrument)
    return midi
