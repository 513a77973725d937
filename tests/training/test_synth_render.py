"""Synthetic songs: rendering, the sum property, reproducibility, rhythm and harmony."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("fluidsynth")
pytest.importorskip("pretty_midi")

from tests.training.synth_rig import ENGINE, SR
from training.synth import fluid, mix, sing
from training.synth.bass import bass_part, root_pitch
from training.synth.drums import TOMS, drum_part
from training.synth.harmony import other_parts
from training.synth.melody import vocal_part
from training.synth.recipe import STEMS, Section, make_recipe
from training.synth.song import render_song


def test_song_has_four_non_silent_stems(song):
    assert song.stems.shape == (4, 2, 4 * SR)
    assert song.stems.dtype == np.float32
    for name, stem in zip(STEMS, song.stems):
        rms = float(np.sqrt(np.mean(stem.astype(np.float64) ** 2)))
        assert rms > 0.01, f"{name} is silent (rms {rms})"


def test_mixture_is_exactly_the_sum_of_the_stems_and_limited(song):
    assert np.abs(song.mixture - song.stems.sum(0)).max() <= 1e-6
    assert np.abs(song.mixture).max() <= 0.95 + 1e-5
    assert np.abs(song.stems).max() <= 0.99 + 1e-6


def test_same_seed_same_audio_other_seed_other_audio(song, other_song, soundfont):
    again = render_song(make_recipe(5, 4.0, vocal_engine=ENGINE), soundfont)
    assert np.array_equal(again.stems, song.stems)
    assert np.array_equal(again.mixture, song.mixture)
    for index, name in enumerate(STEMS):
        assert np.abs(other_song.stems[index] - song.stems[index]).max() > 0.05, name


def test_recipe_round_trips_through_json():
    recipe = make_recipe(11, 20.0)
    back = type(recipe).from_json(recipe.to_json())
    assert back == recipe
    assert make_recipe(11, 20.0) == recipe
    assert make_recipe(12, 20.0) != recipe


def _onset_strength(audio: np.ndarray, hop: int = 220) -> np.ndarray:
    """Rise of the log energy (20 ms, causal), one value per ``hop`` frames (5 ms)."""
    mono = audio.mean(0).astype(np.float64)
    frames = len(mono) // hop
    energy = (mono[: frames * hop].reshape(frames, hop) ** 2).sum(1)
    energy = np.log10(np.convolve(energy, np.ones(4) / 4, "full")[:frames] + 1e-6)
    return np.maximum(np.diff(energy, prepend=energy[0]), 0.0)


@pytest.mark.parametrize(
    ("style", "tempo", "grid"),
    [
        ("rock", 120, 1 / 2),
        ("four", 100, 1 / 2),
        ("halftime", 140, 1 / 2),
        ("funk", 100, 1 / 4),
        ("shuffle", 100, 1 / 3),
    ],
)
def test_drum_onsets_fall_on_the_style_grid(style, tempo, grid, soundfont):
    recipe = dataclasses.replace(
        make_recipe(3, 4.0, humanize=False), drum_style=style, tempo=tempo, fills=False
    )
    audio = fluid.renderer(soundfont).render([drum_part(recipe)], tempo, 4 * SR)
    onset = _onset_strength(audio)
    times = np.arange(len(onset)) * 220 / SR
    step = 60.0 / tempo * grid  # eighths, sixteenths (funk) or eighth triplets (shuffle)

    def share_near(grid_offset: float) -> float:
        after = (times - grid_offset + 0.01) % step  # from 10 ms before to 30 ms after
        return float(onset[after < 0.04].sum() / onset.sum())

    # Every hit is on the style's grid: the onset energy sits there, not half a step away.
    assert share_near(0.0) > 0.85
    assert share_near(step / 2) < 0.15


def test_fills_end_sections_with_toms_and_only_when_asked():
    recipe = dataclasses.replace(make_recipe(2, 40.0, humanize=False), drum_style="rock")
    ends = np.cumsum([s.bars for s in recipe.structure]) - 1
    expected = {
        int(end) for end, section in zip(ends[:-1], recipe.structure[:-1]) if section.bars >= 4
    }
    assert expected  # this song has at least one section that gets a fill
    toms = set(TOMS)
    with_fills = drum_part(dataclasses.replace(recipe, fills=True)).notes
    assert {int(n.start // 4) for n in with_fills if n.pitch in toms} == expected
    assert all(n.start % 4 >= 2 for n in with_fills if n.pitch in toms)  # second half of a bar
    no_fills = drum_part(dataclasses.replace(recipe, fills=False)).notes
    assert not any(n.pitch in toms for n in no_fills)


@pytest.mark.parametrize("kind", ["chords", "pad", "arpeggio", "counter"])
def test_other_layers_play_the_chord_of_the_moment(kind):
    recipe = dataclasses.replace(make_recipe(9, 12.0), other_layers=[[kind, 0]])
    (part,) = other_parts(recipe)
    assert len(part.notes) > 0
    for note in part.notes:
        assert note.pitch % 12 in recipe.chord_at(note.start).pitch_classes


def test_vocal_line_sings_chord_tones_on_strong_beats_in_its_range():
    recipe = make_recipe(12, 30.0)
    notes = vocal_part(recipe).notes
    assert len(notes) > 10
    for note in notes:
        assert recipe.vocal_low <= note.pitch <= recipe.vocal_high + 2
        if note.start % 2 == 0:
            assert note.pitch % 12 in recipe.chord_at(note.start).pitch_classes


def _f0(segment: np.ndarray, low: float = 35.0, high: float = 250.0) -> float:
    """YIN-style fundamental frequency (Hz) of a mono segment, low-passed at ``high`` first."""
    spectrum = np.fft.rfft(segment - segment.mean())
    spectrum[np.fft.rfftfreq(len(segment), 1 / SR) > high] = 0
    x = np.fft.irfft(spectrum, len(segment))
    size = len(x) // 2
    lags = np.arange(1, int(SR / low))
    diff = np.array([np.sum((x[:size] - x[lag : lag + size]) ** 2) for lag in lags])
    cumulative = diff * lags / np.maximum(np.cumsum(diff), 1e-12)
    first = int(SR / high)
    candidates = np.nonzero(cumulative[first:] < 0.15)[0]
    index = first + (candidates[0] if len(candidates) else int(np.argmin(cumulative[first:])))
    while index + 1 < len(cumulative) and cumulative[index + 1] < cumulative[index]:
        index += 1
    return SR / lags[index]


def test_bass_plays_the_chord_roots(soundfont):
    recipe = dataclasses.replace(
        make_recipe(4, 4.0, humanize=False),
        tempo=60,
        chord_beats=4,
        bass_pattern="root_fifth",
        bass_program=33,
        progression=[[0, "maj"], [3, "maj"], [4, "maj"], [5, "min"]],
        mode="major",
        tonic=0,
        structure=[Section("verse", 4)],
    )
    part = bass_part(recipe)
    audio = fluid.renderer(soundfont).render([part], recipe.tempo, 16 * SR)
    mono = audio.mean(0).astype(np.float64)
    for bar, expected_root in enumerate((0, 5, 7, 9)):  # C F G Am
        expected = root_pitch(recipe.chord_at(bar * 4.0))
        assert expected % 12 == expected_root
        start = int((bar * 4 + 0.25) * SR)  # beat 1 of the bar, after the attack
        f0 = _f0(mono[start : start + 8192])
        semitones = 12 * np.log2(f0 / (440.0 * 2 ** ((expected - 69) / 12)))
        assert abs(semitones) <= 1.0, f"bar {bar}: {f0:.1f} Hz for MIDI {expected}"


def test_vocal_score_has_one_syllable_per_note():
    recipe = make_recipe(8, 6.0)
    part = vocal_part(recipe)
    root = ET.fromstring(sing.musicxml(part, recipe.tempo, recipe.bars))
    measures = root.findall(".//measure")
    assert len(measures) == recipe.bars + 1  # a bar of rest opens the score
    for measure in measures:
        assert sum(int(d.text) for d in measure.findall("note/duration")) == 4 * sing.DIVISIONS
    sung = [n for n in root.findall(".//note") if n.find("pitch") is not None]
    assert len(sung) == len(part.notes) > 0
    assert [n.find("lyric/text").text for n in sung] == [n.lyric for n in part.notes]


def test_limiter_keeps_the_ceiling_and_leaves_quiet_parts_alone():
    t = np.arange(SR * 2) / SR
    signal = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2)
    signal[:, SR : SR + 2000] *= 6.0  # a loud burst in the second half
    gain = mix.limiter_gain(signal, SR, ceiling=0.9)
    assert np.abs(signal * gain).max() <= 0.9 + 1e-9
    assert np.all(gain[: SR // 2] == 1.0)
    assert gain[SR + 1000] < 0.9 / 1.8 + 1e-6
