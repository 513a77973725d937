"""The song on screen as the queue changes: two-stem stems replacing the four in place,
a cancel keeping what was separated, another song removed or shown and back, and the
session that keeps the songs and their strips."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.stems.mixer import StemControl
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState
from tests.ui.song_window import (
    RATE,
    click,
    done_job,
    make_stemset,
    null_window,
    vocals_and_rest,
)


def test_two_stem_stems_replace_the_four_in_place_and_playback_goes_on(
    qtbot, settings_store, tmp_path
):
    outputs = []
    win = null_window(qtbot, settings_store, outputs)
    job = done_job(win, tmp_path)
    job.state = JobState.SEPARATING  # the four stems of a two-stem run, as they come
    click(qtbot, win.stems.rows["vocals"].solo)
    win.stems.rows["vocals"].gain.setValue(-4)
    win.player.set_loop(1000, 20000)
    win.player.seek(5000)
    win.player.toggle()
    assert win.player.transport.playing
    job.stemset = vocals_and_rest(job.stemset, keep_mix=True)
    job.state = JobState.DONE
    win.following.job_ended(job)  # what the controller's job_ended calls
    assert list(win.stems.rows) == ["vocals", "no_vocals"]
    transport = win.player.transport
    assert transport.playing and transport.position == 5000  # it stopped at the swap
    assert (transport.loop, transport.loop_enabled) == ((1000, 20000), True)
    assert job.mixer.control("vocals").solo and job.mixer.control("vocals").gain_db == -4.0
    assert win.stems.rows["vocals"].gain.value() == -4
    win.close()


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"drums": "mute", "bass": "mute", "other": "mute"}, StemControl(mute=True)),
        ({"drums": "mute"}, StemControl()),  # they differ: no_vocals fresh, and a note
        ({}, StemControl()),
    ],
)
def test_no_vocals_takes_the_controls_its_stems_had_when_they_agree(
    qtbot, settings_store, tmp_path, changes, expected
):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    job.state = JobState.SEPARATING  # the four stems of a two-stem run, as they come
    for name, button in changes.items():
        click(qtbot, getattr(win.stems.rows[name], button))
    win.statusBar().clearMessage()
    job.stemset = vocals_and_rest(job.stemset)
    job.state = JobState.DONE
    win.following.job_ended(job)
    assert job.mixer.control("no_vocals") == expected
    assert win.stems.rows["no_vocals"].mute.isChecked() == expected.mute
    note = win.statusBar().currentMessage()
    assert ("no_vocals, their sum, starts unmuted at 0 dB" in note) == (len(changes) == 1)
    win.close()


def test_a_restored_two_stem_song_gets_back_its_no_vocals_strip(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    song = tmp_path / "My Song.wav"
    song.write_bytes(b"")
    job = Job(song, state=JobState.SEPARATING, model_name="tiny")
    job.strips = {"vocals": StemControl(2.0), "no_vocals": StemControl(-3.0, solo=True)}
    win.controller.model._jobs.append(job)
    job.stemset = make_stemset()  # the four stems come first (separated, or from the cache)
    win.show_job(job)
    win.stems.rows["vocals"].gain.setValue(-4)  # changed in this session: this one stays
    job.stemset = vocals_and_rest(job.stemset)
    job.state = JobState.DONE
    win.following.job_ended(job)
    assert job.mixer.control("no_vocals") == StemControl(-3.0, solo=True)
    assert job.mixer.control("vocals").gain_db == -4.0
    assert win.stems.rows["no_vocals"].solo.isChecked()
    win.close()


def test_cancelling_the_song_on_screen_keeps_what_was_separated(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path, make_stemset(ready=RATE))
    job.state = JobState.CANCELLED
    win.following.job_ended(job)
    assert win.shown_job is job and win.player.loaded  # the view went blank
    assert win.song_title.text().endswith("(cancelled)")
    win.close()


def test_the_session_keeps_separated_and_waiting_songs_in_order_not_failed_ones(
    qtbot, settings_store, tmp_path
):
    import json

    win = null_window(qtbot, settings_store, [])
    done = done_job(win, tmp_path)
    click(qtbot, win.stems.rows["bass"].mute)
    for name, state in (("later", JobState.WAITING), ("bad", JobState.FAILED)):
        win.controller.model._jobs.append(Job(tmp_path / f"{name}.wav", state=state))
    win.save_session()
    songs = json.loads(win.settings.get(S.SESSION))
    assert [song["path"] for song in songs] == [str(done.path), str(tmp_path / "later.wav")]
    assert songs[0]["strips"]["bass"] == [0.0, False, True] and songs[1]["strips"] == {}
    win.close()


def test_a_session_is_kept_with_whole_paths_and_damaged_gains_are_mended(
    qtbot, settings_store, tmp_path, monkeypatch
):
    import json

    from stemgui.stems.mixer import restored_strip

    monkeypatch.chdir(tmp_path)  # songs opened as `python -m stemgui a.wav` from here
    win = null_window(qtbot, settings_store, [])
    win.controller.model._jobs.append(Job(Path("a.wav"), state=JobState.WAITING))
    win.save_session()
    assert json.loads(win.settings.get(S.SESSION))[0]["path"] == str(tmp_path / "a.wav")
    win.close()
    assert restored_strip([-1e300, False, True]) == StemControl(-60.0, mute=True)
    assert restored_strip([float("nan"), True, False]) == StemControl(solo=True)
    assert restored_strip([1e9]) == StemControl(12.0)
    assert restored_strip(["loud", 0, 0]) == StemControl()
    assert restored_strip([0.0, "false", "no"]) == StemControl()


def test_removing_another_song_leaves_the_one_playing(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    paths = [tmp_path / f"{name}.wav" for name in "ABC"]
    for path in paths:
        path.write_bytes(b"")
    a, b, c = win.controller.model.add(paths)
    for job in (a, b):
        win.controller.model.update(job, state=JobState.DONE, stemset=make_stemset())
    win.controller.model.update(c, state=JobState.CANCELLED)
    win.select(a)
    win.player.seek(3000)
    win.player.toggle()
    win.select(c)  # a cancelled song: nothing to show, A plays on
    assert win.shown_job is a and win.player.transport.playing
    win.queue.remove_button.click()
    assert win.controller.model.jobs == [a, b]
    assert win.shown_job is a and win.selected_job() is a  # not B, chosen by Qt
    assert win.player.transport.playing and win.player.transport.position >= 3000
    win.select(b)  # the user's choice still shows the other song
    assert win.shown_job is b
    win.close()


def test_a_song_shown_again_is_where_it_was_left(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    paths = [tmp_path / f"{name}.wav" for name in "AB"]
    for path in paths:
        path.write_bytes(b"")
    a, b = win.controller.model.add(paths)
    for job in (a, b):
        win.controller.model.update(job, state=JobState.DONE, stemset=make_stemset())
    win.select(a)
    win.player.set_loop(1000, 6000)
    win.player.seek(2500)
    win.timeline.set_view(800, 7000)
    win.select(b)
    assert win.player.transport.position == 0 and win.player.transport.loop is None
    win.select(a)  # a DJ back on the first track: its cue, loop and zoom
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (
        2500,
        (1000, 6000),
        True,
    )
    assert win.timeline.view == (800, 7000) and win.timeline.loop == (1000, 6000)
    win.select(b)
    a.stemset = make_stemset(frames=4000)  # retried after the file was cut short
    win.select(a)  # the loop past its end is dropped, the playhead kept inside
    transport = win.player.transport
    assert transport.loop is None and transport.position <= 4000 and win.shown_job is a
    win.close()
