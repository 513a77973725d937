"""Where the player was on a song (``stemgui.ui.place``): kept through JSON exactly, a damaged
field leaves out the place (never the song, never a crash), clamped to a shorter song, and put
back on a player frame for frame."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from stemgui.ui.place import Place
from stemgui.ui.player import Player
from stemgui.ui.timeline import Timeline
from tests.fakes import FakeOutput

RATE = 8000
PLACE = Place(62.5, (60.0, 64.0), True, (50.0, 80.0), 0.75, -2)
SAVED = {
    "position": 62.5,
    "loop": [60.0, 64.0],
    "looping": True,
    "view": [50.0, 80.0],
    "speed": 0.75,
    "semitones": -2,
}


def test_a_place_goes_through_json_and_back_unchanged():
    assert PLACE.to_json() == SAVED
    assert Place.from_json(json.loads(json.dumps(PLACE.to_json()))) == PLACE
    bare = Place(0.0, None, False, (0.0, 240.0))
    assert Place.from_json(json.loads(json.dumps(bare.to_json()))) == bare
    assert Place.from_json({**SAVED, "position": 62, "later": "a newer field"}) == Place(
        62.0, (60.0, 64.0), True, (50.0, 80.0), 0.75, -2
    )  # whole seconds as JSON integers; a field of a newer version is let be


def test_a_place_of_an_earlier_version_is_at_the_song_s_own_speed_and_key():
    earlier = {key: value for key, value in SAVED.items() if key not in ("speed", "semitones")}
    assert Place.from_json(earlier) == Place(62.5, (60.0, 64.0), True, (50.0, 80.0), 1.0, 0)


@pytest.mark.parametrize(
    "changes",
    [
        {"position": -1.0},
        {"position": "62.5"},
        {"position": True},
        {"position": float("nan")},
        {"position": float("inf")},
        {"position": None},
        {"loop": [64.0, 60.0]},  # ends before it starts
        {"loop": [60.0, 60.0]},
        {"loop": [60.0]},
        {"loop": [60.0, 64.0, 68.0]},
        {"loop": {"start": 60.0, "end": 64.0}},
        {"loop": [-4.0, 64.0]},
        {"loop": None},  # looping without a region
        {"looping": "yes"},
        {"looping": 1},
        {"view": [80.0, 50.0]},
        {"view": None},
        {"view": [50.0, float("nan")]},
        {"speed": 0.0},
        {"speed": 5.0},
        {"speed": "fast"},
        {"speed": float("nan")},
        {"semitones": 7},
        {"semitones": 1.5},
        {"semitones": True},
        {"semitones": "-2"},
    ],
)
def test_a_damaged_field_leaves_out_the_place(changes):
    assert Place.from_json({**SAVED, **changes}) is None


@pytest.mark.parametrize("missing", ["position", "loop", "looping", "view"])
def test_a_missing_field_leaves_out_the_place(missing):
    saved = {key: value for key, value in SAVED.items() if key != missing}
    assert Place.from_json(saved) is None


@pytest.mark.parametrize("value", [None, [], "62.5", 62.5, [62.5, None, False, [50, 80]]])
def test_a_place_that_is_not_an_object_is_left_out(value):
    assert Place.from_json(value) is None


def test_a_place_is_clamped_to_a_shorter_song():
    assert PLACE.clamped(300.0) == PLACE  # inside: unchanged
    assert PLACE.clamped(64.0).loop == (60.0, 64.0)  # a loop up to the very end stays
    # 40 s long now: the playhead at its end, the loop past it dropped (and looping with it),
    # the 30 s view kept as wide, moved inside
    assert PLACE.clamped(40.0) == Place(40.0, None, False, (10.0, 40.0), 0.75, -2)
    # 20 s long: the view as wide as the song; speed and key as they were
    assert PLACE.clamped(20.0) == Place(20.0, None, False, (0.0, 20.0), 0.75, -2)


@pytest.fixture
def player(qtbot):
    """``player(seconds)``: a player with a silent song that long loaded; unloaded after."""
    made = []

    def load(seconds: float) -> Player:
        frames = round(seconds * RATE)
        data = np.zeros((4, 2, frames), dtype=np.float32)
        stemset = StemSet(("drums", "bass", "other", "vocals"), RATE, data)
        made.append(Player(Timeline(), lambda *args: FakeOutput()))
        made[-1].load(stemset, MixerState(stemset.names))
        return made[-1]

    yield load
    for each in made:
        each.unload()  # its poll timer stopped


def test_a_place_is_taken_from_a_player_and_put_back_frame_for_frame(player):
    first = player(120.0)
    first.set_loop(480_000, 512_000)  # 60 s to 64 s
    first.seek(500_000)  # 62.5 s
    first.timeline.set_view(400_000, 640_000)  # 50 s to 80 s
    first.set_speed(0.75)
    first.set_semitones(-2)
    taken = Place.taken(first)
    assert taken == PLACE

    again = player(120.0)
    taken.put(again)
    transport = again.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (
        500_000,
        (480_000, 512_000),
        True,
    )
    assert again.timeline.view == (400_000, 640_000)
    assert again.timeline.loop == (480_000, 512_000)
    assert (again.speed, again.semitones) == (0.75, -2)

    first.set_loop_enabled(False)  # a region kept, not looping: comes back so
    off = Place.taken(first)
    assert off.loop == (60.0, 64.0) and not off.looping
    off.put(again)
    assert again.transport.loop == (480_000, 512_000) and not again.transport.loop_enabled


def test_a_place_put_on_a_shorter_song_stays_inside_it(player):
    short = player(40.0)
    PLACE.put(short)
    transport = short.transport
    assert transport.position == transport.frames == 40 * RATE
    assert transport.loop is None and not transport.loop_enabled  # not L looping the view
    assert short.timeline.view == (10 * RATE, 40 * RATE)


def test_no_song_no_place(qtbot):
    player = Player(Timeline(), lambda *args: FakeOutput())
    assert Place.taken(player) is None
    PLACE.put(player)  # nothing loaded: nothing to move
    assert player.transport is None
