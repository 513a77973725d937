"""The tempo estimate: synthetic drums of known tempo, signals with none, the demo song."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stemgui.stems.stemset import StemSet
from stemgui.stems.tempo import estimate_bpm, stemset_bpm
from tests.stems.drumkit import RATE, drum_track

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("bpm", "style", "swing"),
    [
        (90, "hiphop", 0.3),  # swung sixteenth hi-hats: not 180
        (120, "four", 0.0),
        (128, "four", 0.0),
        (140, "break", 0.15),
        (174, "dnb", 0.0),  # two-step drum & bass: not 87
        (174, "break", 0.1),
    ],
)
def test_synthetic_drums_give_their_tempo(bpm, style, swing):
    track = drum_track(bpm, 30.0, style, swing=swing, noise=0.05, seed=bpm)
    assert estimate_bpm(track, RATE) == pytest.approx(bpm, abs=0.5)


def test_a_fractional_tempo_is_refined_to_a_tenth():
    track = drum_track(123.4, 40.0, "four", jitter_ms=1.0, seed=3)
    assert estimate_bpm(track, RATE) == pytest.approx(123.4, abs=0.2)


def test_another_samplerate_and_mono():
    from stemgui.stems import tempo

    track = drum_track(128, 20.0, "four")[0]
    assert estimate_bpm(track, RATE) == pytest.approx(128, abs=0.5)
    # 48 kHz: decimated by 4 to 12 kHz, another analysis frame rate
    resampled = np.interp(np.arange(0, track.size, RATE / 48000), np.arange(track.size), track)
    assert tempo.estimate_bpm(resampled.astype(np.float32), 48000) == pytest.approx(128, abs=0.5)


def _chord(seconds: float = 20.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t + 3 * np.sin(2 * np.pi * 5 * t)) for f in (220, 277.2))
    return np.stack([chord, chord]).astype(np.float32) / 4


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros((2, 20 * RATE), dtype=np.float32),  # silence
        lambda: (1e-5 * np.ones((2, 20 * RATE))).astype(np.float32),  # -100 dBFS
        lambda: (0.1 * np.random.default_rng(1).standard_normal((2, 20 * RATE))).astype(
            np.float32
        ),  # white noise: onsets of no period
        _chord,  # a held chord with vibrato: no onsets
        lambda: drum_track(120, 4.0),  # too short to tell
    ],
    ids=["silence", "quiet", "noise", "chord", "short"],
)
def test_no_tempo_without_a_pulse(make):
    assert estimate_bpm(make(), RATE) is None


def test_the_demo_song_has_the_tempo_of_its_recipe():
    from stemgui.audio.decode import decode

    recipe = json.loads((ROOT / "resources/demo/demo.json").read_text(encoding="utf-8"))
    song = decode(ROOT / "resources/demo/demo.mp3", RATE, 2)
    assert estimate_bpm(song.samples, RATE) == pytest.approx(recipe["tempo"], abs=0.5)


def test_a_stemset_is_timed_by_its_drums_else_its_mix(tmp_path):
    drums = drum_track(140, 20.0, "break", seed=1)
    other = drum_track(100, 20.0, "four", seed=2)  # another pulse, louder, in the mix
    data = np.stack([drums, other])
    stems = StemSet(["drums", "other"], RATE, data, mix=(drums + 2 * other))
    assert stemset_bpm(stems) == pytest.approx(140, abs=0.5)
    no_drums = StemSet(["vocals", "other"], RATE, data[::-1].copy(), mix=other)
    assert stemset_bpm(no_drums) == pytest.approx(100, abs=0.5)


def test_a_memory_mapped_song_is_read_in_blocks(tmp_path):
    track = drum_track(128, 20.0, "four")
    mapped = np.memmap(tmp_path / "song.f32", dtype=np.float32, mode="w+", shape=track.shape)
    mapped[:] = track
    mapped.flush()
    assert estimate_bpm(mapped, RATE) == pytest.approx(128, abs=0.5)
