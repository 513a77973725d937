"""The session keeps where each song was left and which song was on screen; a damaged place
leaves out the place, not the song; a session of an earlier version still loads."""

from __future__ import annotations

import json

import pytest

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.place import Place
from stemgui.ui.queue import Job, JobState

PLACE = Place(0.375, (0.25, 0.5), True, (0.125, 0.625))


@pytest.fixture
def settings(settings_store) -> S.Settings:
    return S.Settings(settings_store)


def _done(path, place=None) -> Job:
    return Job(path, state=JobState.DONE, place=place)


def test_the_session_keeps_each_songs_place_and_the_song_shown(settings, songs):
    first, second = _done(songs[0]), _done(songs[1], PLACE)
    first.place = Place(0.0, None, False, (0.0, 1.0))
    session.save(settings, [first, second], shown=second)
    saved = json.loads(settings.get(S.SESSION))
    assert saved[1]["place"] == PLACE.to_json() and saved[1]["shown"] is True
    assert "shown" not in saved[0]

    jobs, shown, damaged = session.load(settings)
    assert [job.path for job in jobs] == songs and damaged == 0
    assert shown is jobs[1]  # not the first of the queue
    assert jobs[0].place == first.place and jobs[1].place == PLACE


def test_a_song_never_shown_has_no_place_and_none_shown_shows_none(settings, songs):
    session.save(settings, [_done(songs[0])])
    (job,), shown, _ = session.load(settings)
    assert job.place is None and shown is None


@pytest.mark.parametrize(
    "place",
    [
        {**PLACE.to_json(), "position": -1},
        {**PLACE.to_json(), "loop": [0.5, 0.25]},
        {**PLACE.to_json(), "looping": "on"},
        {**PLACE.to_json(), "view": "all"},
        "0.375",
        None,
    ],
)
def test_a_damaged_place_leaves_out_the_place_not_the_song(settings, songs, place, caplog):
    song = {"path": str(songs[0]), "strips": {"drums": [-6.0, False, True]}, "place": place}
    settings.set(S.SESSION, json.dumps([song, {"path": str(songs[1]), "shown": True}]))
    jobs, shown, damaged = session.load(settings)
    assert [job.path for job in jobs] == songs and damaged == 0
    assert jobs[0].place is None and jobs[0].strips["drums"].mute  # its mix is kept
    assert shown is jobs[1]
    assert "where it was left could not be read" in caplog.text


@pytest.mark.parametrize("mark", ["true", 1, None, [True]])
def test_a_damaged_shown_mark_shows_none(settings, songs, mark):
    settings.set(S.SESSION, json.dumps([{"path": str(songs[0]), "shown": mark}]))
    jobs, shown, _ = session.load(settings)
    assert len(jobs) == 1 and shown is None


def test_a_session_of_an_earlier_version_loads_as_it_did(settings, songs):
    """No place, no song shown: the songs come back at their start, the first to come shown."""
    earlier = [
        {"path": str(songs[0]), "strips": {"vocals": [-3.0, False, False]}},
        {"path": str(songs[1]), "strips": {}},
    ]
    settings.set(S.SESSION, json.dumps(earlier))
    jobs, shown, damaged = session.load(settings)
    assert [job.path for job in jobs] == songs and (shown, damaged) == (None, 0)
    assert all(job.place is None for job in jobs) and jobs[0].strips["vocals"].gain_db == -3.0


def test_the_song_shown_saved_twice_comes_back_as_the_row_kept(settings, songs):
    """The same song twice made the same way comes back once: shown, if its second row was."""
    rows = [
        {"path": str(songs[0])},
        {"path": str(songs[1])},
        {"path": str(songs[1]), "shown": True},
    ]
    settings.set(S.SESSION, json.dumps(rows))
    jobs, shown, _ = session.load(settings)
    assert len(jobs) == 2 and shown is jobs[1]
