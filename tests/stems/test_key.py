"""The key estimate: songs made in known keys and tunings, the Camelot codes, signals with no
key, the demo song, a separated song heard without its drums."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stemgui.stems.key import PROFILE, PROFILES, Key, estimate_key, key_of_chroma, stemset_key
from stemgui.stems.stemset import StemSet
from tests.paths import ROOT
from tests.stems.drumkit import drum_track
from tests.stems.harmony import RATE, key_song


@pytest.mark.parametrize("mode", ["major", "minor"])
@pytest.mark.parametrize("tonic", range(12))
def test_songs_in_all_24_keys(tonic, mode):
    """Each key comes back, a third of them in tune, a third 40 cents flat, a third 30 sharp."""
    cents = (0.0, -40.0, 30.0)[tonic % 3]
    song = key_song(tonic, mode, cents=cents, seed=tonic)
    assert estimate_key(song, RATE) == Key(tonic, mode)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_set_reads_its_own_profiles_as_their_keys(profile):
    """By any of the profile sets (the bench compares them), a chroma that is one key's profile
    reads as that key: major and minor in that order, rolled from C."""
    assert PROFILE in PROFILES
    for mode, weights in zip(("major", "minor"), PROFILES[profile]):
        for tonic in range(12):
            assert key_of_chroma(np.roll(weights, tonic), profile) == Key(tonic, mode)


@pytest.mark.parametrize("cents", [-40.0, 30.0])
def test_a_song_tuned_away_from_440_keeps_its_key(cents):
    """40 cents flat is nearer the semitone below than A = 440: untuned, A minor reads G♯."""
    song = key_song(9, "minor", cents=cents, seed=3)
    assert estimate_key(song, RATE) == Key(9, "minor")


def test_names_camelot_codes_and_tags():
    said = {
        (0, "major"): ("C major", "8B", "C"),
        (9, "minor"): ("A minor", "8A", "Am"),
        (7, "major"): ("G major", "9B", "G"),
        (4, "major"): ("E major", "12B", "E"),
        (6, "minor"): ("F♯ minor", "11A", "F#m"),
        (3, "major"): ("E♭ major", "5B", "Eb"),
        (8, "minor"): ("G♯ minor", "1A", "G#m"),
        (5, "minor"): ("F minor", "4A", "Fm"),
        (1, "major"): ("D♭ major", "3B", "Db"),
    }
    for (tonic, mode), expected in said.items():
        key = Key(tonic, mode)
        assert (key.name, key.camelot, key.tag) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros((2, 10 * RATE), np.float32),
        lambda: (0.1 * np.random.default_rng(0).standard_normal((2, 10 * RATE))).astype(np.float32),
        lambda: drum_track(120, 12.0, "four"),  # its kick is a falling sine: still no key
        lambda: key_song(0, "major")[:, : 2 * RATE],  # too short to tell
    ],
    ids=["silence", "noise", "drums", "short"],
)
def test_no_key_without_notes(make):
    assert estimate_key(make(), RATE) is None


def test_the_demo_song_is_in_the_key_of_its_recipe():
    from stemgui.audio.decode import decode

    recipe = json.loads((ROOT / "resources/demo/demo.json").read_text(encoding="utf-8"))
    song = decode(ROOT / "resources/demo/demo.mp3", RATE, 2)
    assert estimate_key(song.samples, RATE) == Key(recipe["tonic"], recipe["mode"])


def test_a_stemset_is_heard_without_its_drums(tmp_path):
    """Drums four times louder than the notes: the stems but the drums give the key."""
    notes = key_song(2, "major", seed=1)
    drums = 4 * drum_track(120, 12.0, "four")[:, : notes.shape[1]]
    data = np.stack([drums, notes, np.zeros_like(notes)])
    stems = StemSet(["drums", "other", "vocals"], RATE, data, mix=drums + notes)
    assert stemset_key(stems) == Key(2, "major")
    mapped = np.memmap(tmp_path / "stems.f32", np.float32, "w+", shape=data.shape)
    mapped[:] = data  # a long song's stems file, read a block at a time
    assert stemset_key(StemSet(["drums", "other", "vocals"], RATE, mapped)) == Key(2, "major")
    only = StemSet(["drums"], RATE, drums[None].copy(), mix=drums)
    assert stemset_key(only) is None  # drums alone have no key


def _entry(**fields):
    """A cache entry's analysis fields as the estimates of now keep them."""
    from stemgui.stems.analysis import VERSION

    return {**fields, "analysis": VERSION}


def test_an_analysis_is_kept_as_a_cache_entry_keeps_it():
    from stemgui.stems.analysis import VERSION, Analysis
    from stemgui.stems.tempo import Tempo

    found = Analysis(Tempo(128.0, 0.25, 0.46875), Key(6, "minor"))
    info = json.loads(json.dumps(found.to_info()))  # as entry.json writes and reads it
    assert Analysis.from_info(info) == found
    assert Analysis.from_info(Analysis().to_info()) == Analysis()  # none found: kept so
    assert Analysis.from_info({"bpm": 128.0, "beats": None}) is None  # stored before keys
    # found by older estimates (a song without drums kept as having no tempo): found again
    assert Analysis.from_info({**Analysis().to_info(), "analysis": VERSION - 1}) is None
    assert Analysis.from_info({"bpm": None, "beats": None, "song_key": None}) is None
    damaged = _entry(bpm="fast", beats=[0.25], song_key=[True, "lydian"])
    assert Analysis.from_info(damaged) == Analysis()
    assert Analysis.from_info(_entry(bpm=90, beats="x", song_key=[12, "major"])) == Analysis(
        Tempo(90.0)
    )
    # a beat of no length or less (the click counted beats forever), or what JSON reads as
    # NaN or Infinity: no grid, no tempo
    for beats in ([0.25, 0.0], [0.25, -0.5], [float("nan"), 0.5], [0.25, float("inf")]):
        info = json.loads(json.dumps(_entry(bpm=90, beats=beats, song_key=None)))
        assert Analysis.from_info(info) == Analysis(Tempo(90.0))
    for bpm in (0, -120, float("nan"), float("inf")):
        info = json.loads(json.dumps(_entry(bpm=bpm, beats=[0.25, 0.5], song_key=None)))
        assert Analysis.from_info(info) == Analysis()


@pytest.mark.parametrize(
    ("bpm", "beats", "tempo"),
    [
        (float("nan"), None, None),
        (float("inf"), None, None),
        (-120.0, None, None),
        (0, None, None),
        (120.0, [0.1, 0.0], 120.0),
        (120.0, [0.1, -0.5], 120.0),
        (120.0, [float("nan"), 0.5], 120.0),
        (120.0, [0.1, 0.25], 120.0),
        (120.0, [1e300, 0.5], 120.0),
        (120.0, [-0.1, 0.5], 120.0),
        (120.0, [0.5, 0.5], 120.0),
        (120.0, [0.1, 0.5], (120.0, 0.1, 0.5)),
    ],
)
def test_an_analysis_damaged_in_a_cache_entry_reads_as_not_found(bpm, beats, tempo):
    """A cache entry edited by hand (or NaN, which JSON reads) gave a tempo of NaN or below 0,
    which the export's tags raised on (round(nan)), and a beat of 0, on which the timeline
    divided by zero; a beat that is not the tempo's drew a grid at another tempo; a first beat
    of 1e300 hung the click (its count of beats stood still in the audio callback)."""
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.tempo import Tempo

    info = json.loads(json.dumps(_entry(bpm=bpm, beats=beats, song_key=None)))
    expected = None if tempo is None else Tempo(*(tempo if isinstance(tempo, tuple) else [tempo]))
    assert Analysis.from_info(info) == Analysis(expected)
