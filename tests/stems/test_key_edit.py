"""The key the user sets for a song in the estimate's place (``Analysis.keyed``): named, transposed
and tagged as an estimated key is, kept beside the corrections of the tempo without touching
them, undone on its own, and kept with the stems as a correction applied to what the estimates
find."""

from __future__ import annotations

import pytest

from stemgui.stems.analysis import KEY_FIELD, Analysis, edit_info, kept_edit
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo
from stemgui.stems.tempo_fix import NO_EDIT, TempoEdit

A_MAJOR, F_SHARP_MINOR = Key(9, "major"), Key(6, "minor")
FOUND = Analysis(Tempo(120.0, 0.25, 0.5), A_MAJOR)


def test_the_relative_key_has_the_same_notes_and_camelot_number():
    assert A_MAJOR.relative == F_SHARP_MINOR and F_SHARP_MINOR.relative == A_MAJOR
    assert Key(0, "major").relative == Key(9, "minor")  # C major, A minor
    assert Key(3, "minor").relative == Key(6, "major")  # E♭ minor, F♯ (G♭) major
    for mode in ("major", "minor"):
        for tonic in range(12):
            key = Key(tonic, mode)
            assert key.relative.relative == key and key.relative.mode != mode
            assert key.relative.camelot[:-1] == key.camelot[:-1]


def test_a_key_set_takes_the_estimates_place_and_is_undone_alone():
    keyed = FOUND.keyed(F_SHARP_MINOR)
    assert keyed.key == F_SHARP_MINOR and keyed.tempo == FOUND.tempo
    assert (keyed.key.name, keyed.key.camelot) == ("F♯ minor", "11A")
    heard = keyed.key.transposed(2)
    assert (heard.name, heard.camelot, heard.tag) == ("G♯ minor", "1A", "G#m")
    assert keyed.edit == TempoEdit(key=F_SHARP_MINOR) and keyed.estimated is FOUND
    assert not keyed.tempo_corrected and FOUND.keyed(None) is FOUND
    assert keyed.keyed(None) is FOUND  # reset: the estimate, as found
    assert "key F♯ minor (11A) (set by the user)" in keyed.describe()
    assert "corrected by the user" not in keyed.describe()
    unknown = Analysis(Tempo(120.0)).keyed(Key(2, "major"))  # a song with no key found
    assert unknown.key == Key(2, "major") and unknown.estimated.key is None


def test_a_key_set_and_the_tempos_corrections_keep_each_other():
    moved = FOUND.moved(10.0).keyed(F_SHARP_MINOR)
    assert moved.tempo == Tempo(120.0, 0.0, 0.5) and moved.key == F_SHARP_MINOR
    assert moved.edit == TempoEdit(beat_at=10.0, key=F_SHARP_MINOR)
    twice = moved.scaled(2.0, None)
    assert twice.key == F_SHARP_MINOR and twice.edit.key == F_SHARP_MINOR
    tapped = twice.tapped(Tempo(100.0, 0.1, 0.6))
    assert tapped.key == F_SHARP_MINOR and tapped.edit.key == F_SHARP_MINOR
    assert tapped.tempo_corrected
    reset = tapped.tempo_reset()  # Reset tempo to the estimate: the key stays the user's
    assert reset.tempo == FOUND.tempo and reset.key == F_SHARP_MINOR
    assert reset == FOUND.keyed(F_SHARP_MINOR) and not reset.tempo_corrected
    unkeyed = moved.keyed(None)  # Reset key to the estimate: the grid stays where it was put
    assert unkeyed.key == A_MAJOR and unkeyed.tempo == moved.tempo
    assert unkeyed.edit == TempoEdit(beat_at=10.0) and unkeyed.tempo_corrected
    assert FOUND.moved(10.0).tempo_reset() is FOUND


def test_a_key_kept_round_trips_and_is_applied_to_newer_estimates():
    edit = TempoEdit(factor=0.5, key=F_SHARP_MINOR)
    info = edit_info(edit)
    assert info[KEY_FIELD] == [6, "minor"] and kept_edit(info) == edit
    assert edit_info(NO_EDIT)[KEY_FIELD] is None
    newer = Analysis(Tempo(120.0), Key(1, "major"))  # another key, found by newer estimates
    applied = newer.edited(kept_edit({KEY_FIELD: [6, "minor"]}), None)
    assert applied.key == F_SHARP_MINOR and applied.tempo == newer.tempo
    assert applied.estimated is newer and applied == newer.keyed(F_SHARP_MINOR)


@pytest.mark.parametrize(
    "damaged", [[12, "minor"], [6, "dorian"], [True, "major"], [6], "F#m", {"tonic": 6}, None]
)
def test_a_damaged_key_kept_reads_as_none_set(damaged):
    assert kept_edit({KEY_FIELD: damaged}).key is None
