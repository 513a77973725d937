"""The tempo estimate and its beat grid: synthetic drums of known tempo and start, signals with
none, tempos that change, the demo song."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stemgui.stems.stemset import StemSet
from stemgui.stems.tempo import estimate_tempo, round_bpm, stemset_tempo
from tests.paths import ROOT
from tests.stems.drumkit import RATE, drum_track, grid_error, sped_up


def estimate_bpm(samples: np.ndarray, rate: int) -> float | None:
    tempo = estimate_tempo(samples, rate)
    return None if tempo is None else tempo.bpm


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


def test_a_half_is_rounded_up():
    """As people count: round() takes a half to the even neighbour (120.2, 120)."""
    assert round_bpm(120.25) == 120.3
    assert round_bpm(120.5, 0) == 121.0
    assert round_bpm(89.25) == 89.3  # 119 BPM at 75 %
    assert round_bpm(119 * 0.9) == 107.1  # 107.10000000000001
    assert round_bpm(120.24) == 120.2


def test_another_samplerate_and_mono():
    track = _late(drum_track(128, 20.0, "four"), 0.3)[0]
    assert estimate_bpm(track, RATE) == pytest.approx(128, abs=0.5)
    # 48 kHz: decimated by 4 to 12 kHz, another analysis frame rate and onset delay in seconds
    resampled = np.interp(np.arange(0, track.size, RATE / 48000), np.arange(track.size), track)
    tempo = estimate_tempo(resampled.astype(np.float32), 48000)
    assert tempo.bpm == pytest.approx(128, abs=0.5)
    assert abs(grid_error(tempo, 0.3, 128, 10.0)) < 0.005


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


def test_the_demo_song_has_the_tempo_of_its_recipe_and_a_grid_from_its_start():
    from stemgui.audio.decode import decode

    recipe = json.loads((ROOT / "resources/demo/demo.json").read_text(encoding="utf-8"))
    song = decode(ROOT / "resources/demo/demo.mp3", RATE, 2)
    tempo = estimate_tempo(song.samples, RATE)
    assert tempo.bpm == pytest.approx(recipe["tempo"], abs=0.5)
    assert tempo.beat == pytest.approx(60 / recipe["tempo"], rel=1e-3)
    assert min(tempo.first_beat, tempo.beat - tempo.first_beat) < 0.01  # the song starts on one


def test_a_stemset_is_timed_by_its_drums_else_its_mix(tmp_path):
    drums = drum_track(140, 20.0, "break", seed=1)
    other = drum_track(100, 20.0, "four", seed=2)  # another pulse, louder, in the mix
    data = np.stack([drums, other])
    stems = StemSet(["drums", "other"], RATE, data, mix=(drums + 2 * other))
    assert stemset_tempo(stems).bpm == pytest.approx(140, abs=0.5)
    no_drums = StemSet(["vocals", "other"], RATE, data[::-1].copy(), mix=other)
    assert stemset_tempo(no_drums).bpm == pytest.approx(100, abs=0.5)


@pytest.mark.parametrize("bleed", [0.0, 1e-3])
def test_a_song_without_drums_is_timed_by_its_mix(bleed):
    """Notes plucked at 100 BPM, and drums of silence or a faint bleed (what separating such a
    song leaves in its drums stem): the drums had no pulse, so the song had no tempo."""
    seconds = np.arange(int(0.5 * RATE)) / RATE
    notes = np.zeros(30 * RATE)
    for k in range(49):  # a note every 0.6 s
        note = np.sin(2 * np.pi * (262, 330, 392, 523)[k % 4] * seconds) * np.exp(-seconds / 0.3)
        notes[round(k * 0.6 * RATE) :][: note.size] += 0.3 * note
    other = np.stack([notes, notes]).astype(np.float32)
    drums = (bleed * np.random.default_rng(1).standard_normal(other.shape)).astype(np.float32)
    stems = StemSet(["drums", "other"], RATE, np.stack([drums, other]), mix=drums + other)
    assert stemset_tempo(stems).bpm == pytest.approx(100, abs=0.5)


def test_a_memory_mapped_song_is_read_in_blocks(tmp_path):
    track = drum_track(128, 20.0, "four")
    mapped = np.memmap(tmp_path / "song.f32", dtype=np.float32, mode="w+", shape=track.shape)
    mapped[:] = track
    mapped.flush()
    assert estimate_bpm(mapped, RATE) == pytest.approx(128, abs=0.5)


def _late(track: np.ndarray, seconds: float) -> np.ndarray:
    """``track`` starting ``seconds`` later (silence before it)."""
    return np.concatenate([np.zeros((2, round(seconds * RATE)), np.float32), track], axis=1)


@pytest.mark.parametrize(
    ("bpm", "style", "swing", "start", "seconds"),
    [
        (120, "four", 0.0, 0.377, 30.0),
        (128, "four", 0.0, 1.234, 300.0),  # 640 beats: a length off by 0.1 % drifts 0.6 beat
        (90, "hiphop", 0.3, 0.8, 60.0),  # hats on every sixteenth: the beats, not between
        (174, "dnb", 0.0, 0.6, 60.0),
        (123.4, "four", 0.0, 0.2, 120.0),
    ],
)
def test_the_beat_grid_falls_on_the_beats_to_the_end(bpm, style, swing, start, seconds):
    track = drum_track(bpm, seconds, style, swing=swing, noise=0.05, seed=7)
    tempo = estimate_tempo(_late(track, start), RATE)
    assert 0 <= tempo.first_beat < tempo.beat == pytest.approx(60 / bpm, rel=1e-4)
    for at in (start, start + seconds / 2, start + seconds - 1):  # hits are off by up to 3 ms
        assert abs(grid_error(tempo, start, bpm, at)) < 0.005


@pytest.mark.parametrize(
    ("bpm", "style", "seed"),
    [(120, "four", 0), (128, "four", 0), (100, "four", 1), (140, "break", 1)],
)
def test_a_song_that_starts_on_a_hit_has_a_beat_on_its_first_frame(bpm, style, seed):
    """The grid put the first hit 1-3 ms before the song (its beats lie within 5 ms of the
    hits), so its first beat was the second, and the metronome played from the start never
    clicked the first."""
    from stemgui.playback.click import Clicker

    tempo = estimate_tempo(drum_track(bpm, 30.0, style, seed=seed), RATE)
    assert 0 <= tempo.first_beat < 0.005
    for at in (10.0, 29.0):
        assert abs(grid_error(tempo, 0.0, bpm, at)) < 0.005

    class Silence:  # the chain under the clicker: the song's frames from 0, silent
        def render(self, out, on_run):
            on_run(0, 0, out.shape[0])
            return out.shape[0]

    clicker = Clicker(Silence(), RATE, lambda: (tempo.first_beat * RATE, tempo.beat * RATE))
    clicker.on = True
    out = np.zeros((512, 2), np.float32)
    clicker.render(out)
    assert np.any(out[: round(0.005 * RATE), 0])  # the first hit's click


@pytest.mark.parametrize(
    ("bpm", "style", "beats"),
    [
        (80, "four", 16),
        (120, "hiphop", 16),
        (140, "dnb", 16),
        (100, "four", 24),
        (180, "break", 28),
    ],
)
def test_a_song_of_16_beats_or_more_has_a_grid_on_its_beats(bpm, style, beats):
    """A song shorter than 32 beats had no grid (two sections of 16 beats were needed); two of
    8 give one on every beat, its length fitted to all of them (a song of 24 beats had it
    from its first 16 alone, 7.7 ms off at the last)."""
    seconds = beats * 60 / bpm
    tempo = estimate_tempo(drum_track(bpm, seconds, style, seed=beats), RATE)
    assert tempo.beat == pytest.approx(60 / bpm, rel=1e-3)
    for at in np.arange(beats) * 60 / bpm:
        assert abs(grid_error(tempo, 0.0, bpm, at)) < 0.005


@pytest.mark.parametrize("rate", [RATE, 48000])
def test_a_loop_of_6_seconds_has_its_tempo_and_grid(rate):
    """Four bars at 160 BPM, 6.0 s (``MIN_SECONDS``): its onset envelope, whose last frame
    starts a window before the end, was taken as shorter, and it had no tempo at all."""
    loop = drum_track(160, 6.0, "four")[0]
    if rate != RATE:
        loop = np.interp(np.arange(0, loop.size, RATE / rate), np.arange(loop.size), loop)
    tempo = estimate_tempo(loop.astype(np.float32), rate)
    assert tempo.bpm == pytest.approx(160, abs=0.5)
    assert tempo.beat == pytest.approx(60 / 160, rel=1e-3)


def test_a_song_of_fewer_than_16_beats_has_its_tempo_and_no_grid():
    tempo = estimate_tempo(drum_track(100, 12 * 0.6, "four"), RATE)  # 12 beats
    assert tempo.bpm == pytest.approx(100, abs=0.5) and tempo.beat is None


def test_a_break_without_drums_keeps_the_grid():
    """84 beats, 42 beats without drums (20 s: nothing for the sections there to place), 84."""
    first, second = (drum_track(126, 40.0, "four", seed=seed) for seed in (1, 2))
    song = np.concatenate([first, np.zeros((2, 20 * RATE), np.float32), second], axis=1)
    tempo = estimate_tempo(_late(song, 0.5), RATE)
    for at in (10.0, 70.0, 99.0):
        assert abs(grid_error(tempo, 0.5, 126, at)) < 0.005


def test_a_break_in_free_time_keeps_the_grid():
    """64 beats, 16 in free time (every hit up to 200 ms off its beat), 64 more on the same
    grid: only sections off the line at the song's start or end, as a tempo change leaves
    them, refuse it."""
    free = drum_track(120, 8.0, "break", jitter_ms=200, seed=3)
    song = np.concatenate([drum_track(120, 32.0, seed=1), free, drum_track(120, 32.0, seed=2)], 1)
    tempo = estimate_tempo(song, RATE)
    for at in (10.0, 60.0, 71.5):
        assert abs(grid_error(tempo, 0.0, 120, at)) < 0.005


def test_drums_in_a_part_of_the_song_alone_keep_their_grid():
    """40 s of drums amid 60 s either side of what a drums stem holds where a song has none
    (a faint bleed, -60 dBFS): the sections without drums outnumbered them, their quiet
    pulses were weighed as beats, and the song had no grid."""
    bleed = 1e-3 * np.random.default_rng(1).standard_normal((1, 60 * RATE), np.float32)
    drums = drum_track(120, 40.0, "hiphop")
    song = np.concatenate([bleed.repeat(2, axis=0), drums, bleed.repeat(2, axis=0)], axis=1)
    tempo = estimate_tempo(song, RATE)
    for at in (61.0, 80.0, 99.0):
        assert abs(grid_error(tempo, 60.0, 120, at)) < 0.005


def _step(bpm: float, before: float, after: float) -> np.ndarray:
    """Drums at 120 BPM for ``before`` seconds, then at ``bpm`` for ``after``."""
    return np.concatenate([drum_track(120, before, seed=1), drum_track(bpm, after, seed=2)], axis=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _step(126, 30.0, 30.0),
        lambda: sped_up(drum_track(120, 60.0, seed=3), 0.08),  # a band speeding up
        lambda: _step(126, 15.0, 15.0),  # in 30 s: three sections gave a grid at 129
        lambda: sped_up(drum_track(120, 30.0, seed=3), 0.08),
        # these had a grid half a beat off the beats where the tempo was not the grid's:
        lambda: _step(121, 30.0, 30.0),  # a small step: its sections stray little from a line
        lambda: _step(122, 60.0, 15.0),  # a step late: the sections after it were outliers
        lambda: _step(124, 15.0, 60.0),  # the sections at 120 had no pulse, taken for a break
        lambda: sped_up(drum_track(120, 60.0, seed=3), 0.02),
    ],
    ids=[
        "a step",
        "speeding up",
        "a step in 30 s",
        "speeding up in 30 s",
        "a step of 1 BPM",
        "a late step",
        "an early step",
        "2 % faster",
    ],
)
def test_a_tempo_that_changes_has_no_grid(make):
    tempo = estimate_tempo(make(), RATE)
    assert tempo is not None and 118 < tempo.bpm < 130  # the tempo is still told
    assert tempo.first_beat is None and tempo.beat is None


def test_the_grid_corrects_a_beat_length_off_by_a_little():
    """The tempo's length of the beat, 0.3 % off, would drift 2 beats over these 640; the grid
    is fitted to where the beats fall, section after section."""
    from stemgui.stems.beats import fit_grid

    length, first, beats = 80.74, 31.3, 640
    rng = np.random.default_rng(0)
    onsets = 0.2 * rng.standard_normal(round(first + length * (beats + 1)))
    for k in range(beats):
        at = first + k * length + rng.uniform(-0.5, 0.5)  # frames
        onsets[int(at) : int(at) + 2] += [1 - at % 1, at % 1]
    found_first, found_length = fit_grid(onsets, length * 1.003)
    assert found_length == pytest.approx(length, rel=2e-5)
    assert found_first == pytest.approx(first, abs=0.3)
