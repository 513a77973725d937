"""The session keeps where each song was left and which song was on screen: the next start shows
that song again, each song at its playhead, loop and view, clamped to a song cut short since; a
damaged place leaves out the place, not the song; a session of an earlier version still loads.
Songs of the session not found at the start (a drive not connected), Look again and Forget
them: test_session_look_again.py."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.place import Place
from stemgui.ui.queue import Job, JobState
from stemgui.ui.separation_options import SeparationOptions
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.session_rig import PLACE, _first_session, _window


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

    jobs, shown, damaged, _ = session.load(settings)
    assert [job.path for job in jobs] == songs and damaged == 0
    assert shown is jobs[1]  # not the first of the queue
    assert jobs[0].place == first.place and jobs[1].place == PLACE


def test_a_song_never_shown_has_no_place_and_none_shown_shows_none(settings, songs):
    session.save(settings, [_done(songs[0])])
    (job,), shown, _, _ = session.load(settings)
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
    jobs, shown, damaged, _ = session.load(settings)
    assert [job.path for job in jobs] == songs and damaged == 0
    assert jobs[0].place is None and jobs[0].strips["drums"].mute  # its mix is kept
    assert shown is jobs[1]
    assert "where it was left could not be read" in caplog.text


@pytest.mark.parametrize("mark", ["true", 1, None, [True]])
def test_a_damaged_shown_mark_shows_none(settings, songs, mark):
    settings.set(S.SESSION, json.dumps([{"path": str(songs[0]), "shown": mark}]))
    jobs, shown, _, _ = session.load(settings)
    assert len(jobs) == 1 and shown is None


def test_a_song_or_model_that_cannot_be_looked_at_is_left_out_not_the_session(settings, songs):
    """A saved path the system refuses to look at (a name too long for the disk; a folder the
    user may no longer open, EACCES, alike) raised from ``Path.is_file``: the window never
    opened again, the session being read before the first song."""
    too_long = f"/{'a' * 300}/song.wav"
    options = dataclasses.asdict(SeparationOptions(model=f"/{'m' * 300}.stemgui"))
    saved = [
        {"path": too_long, "strips": {}},
        {"path": str(songs[0]), "strips": {}, "options": options},
        {"path": str(songs[1]), "strips": {}},
    ]
    settings.set(S.SESSION, json.dumps(saved))
    jobs, shown, damaged, _ = session.load(settings)
    assert [job.path for job in jobs] == songs and (shown, damaged) == (None, 0)
    assert jobs[0].options is None  # its model file is not there: the settings of now


@pytest.mark.parametrize(
    "damage",
    [
        {"overlap": 7.0},
        {"overlap": float("nan")},
        {"overlap": 0.99999},  # a sample a step: days for a song
        {"segment": -5},
        {"shifts": -3},
        {"shifts": 10**9},  # a billion delays drawn (gigabytes), then a pass for each
    ],
)
def test_a_song_s_damaged_options_give_way_to_the_settings_of_now(settings, songs, damage):
    """Options the separator does not take failed the song as an unexpected error ('overlap
    must be in [0, 1), got 7.0'); of the right type, they were taken as they were."""
    options = {**dataclasses.asdict(SeparationOptions()), **damage}
    settings.set(S.SESSION, json.dumps([{"path": str(songs[0]), "options": options}]))
    (job,), _, damaged, _ = session.load(settings)
    assert job.options is None and damaged == 0


def test_a_session_of_an_earlier_version_loads_as_it_did(settings, songs):
    """No place, no song shown: the songs come back at their start, the first to come shown."""
    earlier = [
        {"path": str(songs[0]), "strips": {"vocals": [-3.0, False, False]}},
        {"path": str(songs[1]), "strips": {}},
    ]
    settings.set(S.SESSION, json.dumps(earlier))
    jobs, shown, damaged, _ = session.load(settings)
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
    jobs, shown, _, _ = session.load(settings)
    assert len(jobs) == 2 and shown is jobs[1]


def test_a_song_saved_with_no_path_is_damaged_not_the_folder_the_app_started_in(settings):
    """A hand-edited "" was the folder the app started in: said moved or deleted, by its name."""
    settings.set(S.SESSION, json.dumps([{"path": ""}]))
    assert session.load(settings) == ([], None, 1, [])


def test_a_session_nested_too_deep_to_read_is_back_to_its_default_with_a_word(settings_store):
    """A hand-edited session of ten thousand nested lists raised RecursionError from the
    settings' check, where only ValueError is caught: the app stopped at every start."""
    settings_store.setValue(S.SESSION.key, "[" * 10_000 + "]" * 10_000)
    settings = S.Settings(settings_store)
    assert any("last session's queue could not be read" in said for said in settings.problems)
    assert session.load(settings) == ([], None, 0, [])


# -- the next start, in the window ------------------------------------------------------------


def _shows(win, monkeypatch) -> list[Job]:
    """The songs ``win`` shows from now on, in order."""
    shown, show = [], win.show_job
    monkeypatch.setattr(win, "show_job", lambda job: shown.append(job) or show(job))
    return shown


def test_the_next_start_shows_the_song_left_on_screen_each_where_it_was_left(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    _first_session(qtbot, settings_store, tiny_model_file, songs)
    win = _window(qtbot, settings_store, tiny_model_file)
    seen = _shows(win, monkeypatch)
    a, b = win.restore_session()
    qtbot.waitUntil(
        lambda: a.state is JobState.DONE and b.state is JobState.DONE, timeout=TIMEOUT_MS
    )
    assert seen == [b] and win.shown_job is b and win.selected_job() is b  # not the first
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (
        3000,
        (2000, 4000),
        True,
    )
    assert win.timeline.view == (1000, 5000) and win.timeline.loop == (2000, 4000)
    win.select(a)
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (6000, None, False)
    assert win.timeline.view == (4000, 8000)
    win.close()


def test_the_song_left_on_screen_cut_short_since_comes_back_inside_it_and_first(
    qtbot, settings_store, tiny_model_file, songs, monkeypatch
):
    """The song shown is separated again (its file changed): the other song, back from the
    cache at once, does not take the screen first; the place is clamped to the new length."""
    _first_session(qtbot, settings_store, tiny_model_file, songs)
    write_song(songs[1], seconds=0.25, seed=2)  # 2000 frames: the loop is past its end now
    win = _window(qtbot, settings_store, tiny_model_file)
    seen = _shows(win, monkeypatch)
    a, b = win.restore_session()
    qtbot.waitUntil(
        lambda: a.state is JobState.DONE and b.state is JobState.DONE, timeout=TIMEOUT_MS
    )
    assert b.stemset.frames == 2000 and seen == [b] and win.shown_job is b
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (2000, None, False)
    assert win.timeline.view == (0, 2000)
    win.close()


@pytest.fixture
def default_signals():
    """The signals at their default actions, as in a terminal: a run in the background (``make
    test &``) starts with SIGINT ignored, which the app leaves alone, as it leaves nohup's."""
    names = ("SIGTERM", "SIGHUP", "SIGINT")
    numbers = [getattr(signal, name) for name in names if hasattr(signal, name)]
    before = {number: signal.getsignal(number) for number in numbers}
    for number in numbers:
        signal.signal(
            number, signal.default_int_handler if number == signal.SIGINT else signal.SIG_DFL
        )
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_logging_out_or_ctrl_c_closes_the_window_keeping_the_queue(
    qtbot, settings_store, tiny_model_file, songs, name, default_signals
):
    """SIGTERM and SIGHUP (logging out, a kill) ended the app where it stood: the queue of the
    session was lost; Ctrl-C in the terminal that started it did nothing."""
    from stemgui.ui.app import closed_by_signals

    win = _window(qtbot, settings_store, tiny_model_file)
    with closed_by_signals(win):
        jobs = win.add_paths(songs)
        os.kill(os.getpid(), getattr(signal, name))
        qtbot.waitUntil(lambda: not win.isVisible(), timeout=TIMEOUT_MS)
    saved = json.loads(win.settings.get(S.SESSION))
    assert [song["path"] for song in saved] == [str(job.path) for job in jobs]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_a_socket_pair_refused_leaves_the_signals_as_they_were(monkeypatch, default_signals):
    """On Windows the pair goes through the loopback interface, which a firewall may refuse:
    the app must open all the same."""
    import socket

    from stemgui.ui.app import closed_by_signals

    def refused():
        raise OSError("refused")

    monkeypatch.setattr(socket, "socketpair", refused)
    with closed_by_signals(None):
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_queue_is_kept_as_it_changes_not_only_at_the_close(
    qtbot, settings_store, tiny_model_file, songs
):
    """A crash or a power cut lost the session's songs: the queue was saved at the close alone,
    and the next start brought back the session before."""
    win = _window(qtbot, settings_store, tiny_model_file)
    a, b = win.add_paths(songs)
    qtbot.waitUntil(lambda: a.kept is not None and b.kept is not None, timeout=TIMEOUT_MS)
    win.remove_job(a)

    def saved() -> list[dict]:
        return json.loads(S.Settings(settings_store).get(S.SESSION))

    qtbot.waitUntil(lambda: [song["path"] for song in saved()] == [str(b.path)])
    qtbot.waitUntil(lambda: saved()[0].get("kept") == b.kept.to_json())  # no model needed
    win.close()


def test_a_song_not_found_is_kept_as_saved_until_it_is_queued_again(settings, songs, tmp_path):
    away = {"path": str(tmp_path / "drive" / "set.wav"), "strips": {"drums": [-3.0, 0, 1]}}
    settings.set(S.SESSION, json.dumps([away, {"path": str(songs[0]), "strips": {}}]))
    saved = session.load(settings)
    assert saved.gone == [away]
    session.save(settings, saved.jobs, gone=saved.gone)
    assert json.loads(settings.get(S.SESSION))[1] == away  # after the queue, untouched
    session.save(settings, [_done(songs[0]), _done(Path(away["path"]))], gone=saved.gone)
    assert len(json.loads(settings.get(S.SESSION))) == 2  # opened again: kept once
