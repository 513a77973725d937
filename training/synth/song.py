"""A whole synthetic song: compose the parts, render each stem, mix, limit.

:func:`render_song` is the one entry point: recipe (and soundfont) in, :class:`Song` out. The
returned stems are float32 (sources, channels, frames) in :data:`~training.synth.recipe.STEMS`
order and the mixture is exactly ``stems.sum(0)`` (computed in float32 from those very stems).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.synth import fluid, mix, sing
from training.synth.bass import bass_part
from training.synth.drums import drum_part
from training.synth.harmony import other_parts
from training.synth.melody import vocal_part
from training.synth.notes import Part
from training.synth.recipe import STEMS, SongRecipe, StemMix

log = logging.getLogger(__name__)

SAMPLERATE = 44100


@dataclass
class Song:
    """A rendered song: ``stems`` float32 (4, 2, frames), ``mixture`` float32 (2, frames)."""

    recipe: SongRecipe
    stems: np.ndarray
    mixture: np.ndarray
    samplerate: int
    parts: dict[str, list[Part]]
    soundfont: str

    def stem(self, name: str) -> np.ndarray:
        return self.stems[STEMS.index(name)]


def compose(recipe: SongRecipe) -> dict[str, list[Part]]:
    """The song's parts per stem (the notes, before any audio)."""
    return {
        "drums": [drum_part(recipe)],
        "bass": [bass_part(recipe)],
        "other": other_parts(recipe),
        "vocals": [vocal_part(recipe)],
    }


def render_dry(
    recipe: SongRecipe, soundfont: str | Path, samplerate: int = SAMPLERATE
) -> tuple[np.ndarray, dict[str, list[Part]]]:
    """The unmixed stems, float32 (4, 2, frames), and the parts they were rendered from."""
    parts = compose(recipe)
    frames = round(recipe.seconds * samplerate)
    synth = fluid.renderer(soundfont, samplerate)
    dry = np.zeros((len(STEMS), 2, frames), np.float32)
    for index, stem in enumerate(STEMS):
        if stem == "vocals" and recipe.vocal_engine == "sinsy":
            dry[index] = sing.sing(parts[stem][0], recipe.tempo, recipe.bars, frames, samplerate)
        else:
            dry[index] = synth.render(parts[stem], recipe.tempo, frames)
    return dry, parts


def render_song(
    recipe: SongRecipe,
    soundfont: str | Path | None = None,
    samplerate: int = SAMPLERATE,
    *,
    fade_out: float = 0.0,
) -> Song:
    """Render, mix and limit ``recipe``; the same recipe and soundfont give the same samples.

    ``fade_out``: seconds of linear fade at the end, applied to every stem alike (a demo's
    ending; training songs are excerpts and end abruptly).
    """
    soundfont = Path(soundfont) if soundfont else fluid.default_soundfont()
    dry, parts = render_dry(recipe, soundfont, samplerate)
    wet = np.stack(
        [
            mix.mix_stem(dry[i], samplerate, recipe.mix.get(stem, StemMix()), recipe.seed * 7 + i)
            for i, stem in enumerate(STEMS)
        ]
    )
    gain = mix.limiter_gain(wet.sum(0), samplerate)
    fade = min(round(fade_out * samplerate), gain.shape[-1])
    if fade > 0:
        gain[-fade:] *= np.linspace(1.0, 0.0, fade)
    stems = (wet * gain).astype(np.float32)
    # Integer files saturate at full scale: keep every stem below it, all by the same factor.
    peak = float(np.abs(stems).max())
    if peak > 0.99:
        stems *= np.float32(0.99 / peak)
    mixture = stems.sum(0)
    return Song(recipe, stems, mixture, samplerate, parts, str(soundfont))
