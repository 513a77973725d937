"""Synthetic multitrack songs for training: composed MIDI parts, rendered, mixed, written.

A song is drawn from one seed (:func:`~training.synth.recipe.make_recipe`): tempo, key, a chord
progression, a structure of sections, and one part per stem —

- drums (:mod:`.drums`): rock, funk, half-time, four-on-the-floor and shuffle grooves on seven
  GM kits, with fills at section ends and crashes at section starts;
- bass (:mod:`.bass`): roots, root-fifth, walking or octave patterns on the chord roots;
- other (:mod:`.harmony`): one or two layers of block chords, pads, arpeggios or counter-lines
  on piano, guitar, organ, strings, synth pad, brass and other GM programs;
- vocals (:mod:`.melody`, :mod:`.sing`): a sung line with one kana syllable per note, sung by
  the Sinsy singing voice (``pysinsy``, its bundled Japanese female HTS voice) from a MusicXML
  score; where pysinsy is not installed, a FluidSynth choir/voice program plays the line.

The parts are rendered in-process by FluidSynth (:mod:`.fluid`), each stem is mixed on its own
(:mod:`.mix`: EQ tilt, compression, width/pan, reverb, level) and one limiter gain, computed on
their sum, is applied to every stem, so the mixture is exactly the sum of the stems.
:mod:`.pool` writes songs as stems folders that :mod:`training.data` reads, and remixes stems
across songs; :mod:`.cli` is the ``synth`` command.
"""

from training.synth.pool import load_recipe, remix_pool, render_pool, write_song
from training.synth.recipe import STEMS, SongRecipe, make_recipe
from training.synth.song import Song, render_song

__all__ = [
    "STEMS",
    "Song",
    "SongRecipe",
    "load_recipe",
    "make_recipe",
    "remix_pool",
    "render_pool",
    "render_song",
    "write_song",
]
