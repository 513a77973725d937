"""Songs of the last session not found at the start (a drive not connected) wait for it
through the saves; Look again (in the banner or the File menu) queues those found since,
the song left on screen shown as it was; Forget them drops the rest."""

from __future__ import annotations

import json

from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from tests.ui.conftest import TIMEOUT_MS, write_song
from tests.ui.session_rig import PLACE, _first_session, _window


def _drive_session(settings_store, songs, drive) -> None:
    """A session of a song on a drive not connected now (``drive``) and one that is here."""
    entries = [{"path": str(path), "strips": {}} for path in (drive, songs[0])]
    S.Settings(settings_store).set(S.SESSION, json.dumps(entries))


def test_songs_on_a_drive_not_connected_wait_for_it_through_the_saves(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """A DJ's drive not plugged in at the start: its songs were left out, the session was saved
    a second later, and plugging the drive in did not bring them back: lost for good."""
    drive = tmp_path / "drive" / "set.wav"
    _drive_session(settings_store, songs, drive)
    win = _window(qtbot, settings_store, tiny_model_file)
    assert [job.path for job in win.restore_session()] == [songs[0]]
    assert "set.wav" in win.banner.text()
    win.save_session()  # as a second later
    win.close()
    drive.parent.mkdir()
    write_song(drive)  # the drive plugged in
    win = _window(qtbot, settings_store, tiny_model_file)
    assert [job.path for job in win.restore_session()] == [songs[0], drive]
    assert not win.banner.isVisible()
    win.close()


def test_look_again_queues_the_songs_of_a_drive_plugged_in_and_forget_drops_them(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    drive = tmp_path / "drive" / "set.wav"
    other = tmp_path / "drive" / "other.wav"
    entries = [{"path": str(path), "strips": {}} for path in (drive, other)]
    S.Settings(settings_store).set(S.SESSION, json.dumps(entries))
    win = _window(qtbot, settings_store, tiny_model_file)
    assert win.restore_session() == []
    assert win.banner.text().startswith("2 songs of the last session not found, waiting for")
    assert [b.text() for b in win.banner.buttons] == ["Look again", "Forget them"]
    drive.parent.mkdir()
    write_song(drive)
    win.banner.buttons[0].click()  # Look again
    assert [job.path for job in win.controller.model.jobs] == [drive]
    assert win.banner.text().startswith("1 song of the last session not found")
    assert "other.wav" in win.banner.text() and "set.wav" not in win.banner.text()
    saved = json.loads(S.Settings(settings_store).get(S.SESSION))
    assert [song["path"] for song in saved] == [str(drive), str(other)]
    win.banner.buttons[1].click()  # Forget them
    assert not win.banner.isVisible()
    saved = json.loads(S.Settings(settings_store).get(S.SESSION))
    assert [song["path"] for song in saved] == [str(drive)]
    win.close()


def test_look_again_at_the_start_leaves_the_song_left_on_screen_awaited(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """Songs found by Look again are queued as a session's are: they took the screen the song
    left on it was waiting for."""
    _first_session(qtbot, settings_store, tiny_model_file, songs)
    settings = S.Settings(settings_store)
    drive = tmp_path / "drive" / "set.wav"
    saved = [*json.loads(settings.get(S.SESSION)), {"path": str(drive), "strips": {}}]
    settings.set(S.SESSION, json.dumps(saved))
    win = _window(qtbot, settings_store, tiny_model_file)
    a, b = win.restore_session()
    assert win.controller.awaited is b
    drive.parent.mkdir()
    write_song(drive)
    (found,) = win.session_keeper.look_again()
    assert found.path == drive and win.controller.awaited is b
    qtbot.waitUntil(lambda: all(job.state.ended for job in (a, b, found)), timeout=TIMEOUT_MS)
    assert win.shown_job is b
    win.close()


def test_look_again_leaves_a_song_opened_again_meanwhile_in_its_one_row(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    """The drive plugged in, the song opened again from it, then Look again: it was queued a
    second time."""
    drive = tmp_path / "drive" / "set.wav"
    _drive_session(settings_store, songs, drive)
    win = _window(qtbot, settings_store, tiny_model_file)
    (here,) = win.restore_session()
    drive.parent.mkdir()
    write_song(drive)
    (opened,) = win.add_paths([drive])
    qtbot.waitUntil(lambda: opened.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert win.session_keeper.look_again() == []
    assert win.controller.model.jobs == [here, opened] and win.session_keeper.gone == []
    assert not win.banner.isVisible()
    assert "1 song of the last session (1 in the queue already)" in win.statusBar().currentMessage()
    win.close()


def _marked_drive_session(settings_store, paths, shown) -> None:
    """A session of songs on a drive not connected now, ``shown`` the one on screen at the close
    (left at ``PLACE``)."""
    entries = [{"path": str(path), "strips": {}} for path in paths]
    for entry in entries:
        if entry["path"] == str(shown):
            entry.update(shown=True, place=PLACE.to_json())
    S.Settings(settings_store).set(S.SESSION, json.dumps(entries))


def test_look_again_shows_the_song_left_on_screen_when_nothing_else_is(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    """A DJ's whole set on a drive plugged in after the start: the first song found took the
    screen, not the one left on it, and the mark stayed on it."""
    a, b = tmp_path / "drive" / "a.wav", tmp_path / "drive" / "b.wav"
    _marked_drive_session(settings_store, [a, b], shown=b)
    win = _window(qtbot, settings_store, tiny_model_file)
    assert win.restore_session() == []
    a.parent.mkdir()
    write_song(a)
    write_song(b, seed=2)
    found = win.session_keeper.look_again()
    assert [job.path for job in found] == [a, b] and win.controller.awaited is found[1]
    qtbot.waitUntil(lambda: all(job.state.ended for job in found), timeout=TIMEOUT_MS)
    assert win.shown_job is found[1] and win.selected_job() is found[1]
    transport = win.player.transport
    assert (transport.position, transport.loop, transport.loop_enabled) == (
        3000,
        (2000, 4000),
        True,
    )
    win.close()


def test_look_again_drops_the_mark_of_the_song_left_on_screen_when_another_is_there(
    qtbot, settings_store, tiny_model_file, songs, tmp_path
):
    drive = tmp_path / "drive" / "set.wav"
    _marked_drive_session(settings_store, [drive, songs[0]], shown=drive)
    win = _window(qtbot, settings_store, tiny_model_file)
    (here,) = win.restore_session()
    qtbot.waitUntil(lambda: win.shown_job is here, timeout=TIMEOUT_MS)
    drive.parent.mkdir()
    write_song(drive)
    (found,) = win.session_keeper.look_again()
    assert win.controller.awaited is None
    qtbot.waitUntil(lambda: found.state is JobState.DONE, timeout=TIMEOUT_MS)
    assert win.shown_job is here and win.selected_job() is here
    win.close()
    saved = json.loads(S.Settings(settings_store).get(S.SESSION))
    assert [(song["path"], song.get("shown")) for song in saved] == [
        (str(songs[0]), True),
        (str(drive), None),
    ]


def test_file_look_again_looks_for_the_songs_the_banner_cannot_offer(
    qtbot, settings_store, tiny_model_file, tmp_path
):
    """Damaged settings in the banner: the songs not found were said in the status bar, without
    Look again; closing the banner with × left no way either, until the next start."""
    drive, other = tmp_path / "drive" / "set.wav", tmp_path / "drive" / "other.wav"
    entries = [{"path": str(path), "strips": {}} for path in (drive, other)]
    S.Settings(settings_store).set(S.SESSION, json.dumps(entries))
    settings_store.setValue(S.THEME.key, "purple")
    win = _window(qtbot, settings_store, tiny_model_file)
    action = win.menu_bar.look_again_action
    assert (action.text(), action.isEnabled()) == ("&Look again for missing songs", False)
    assert win.restore_session() == []
    assert win.banner.text().startswith(f"The setting {S.THEME.key} was damaged")
    assert "choose File ▸ Look again for missing songs" in win.statusBar().currentMessage()
    assert (action.text(), action.isEnabled()) == ("&Look again for missing songs (2)", True)
    drive.parent.mkdir()
    write_song(drive)
    action.trigger()
    assert [job.path for job in win.controller.model.jobs] == [drive]
    assert win.banner.text().startswith("1 song of the last session not found")
    assert action.text() == "&Look again for missing songs (1)"
    win.banner.close_button.click()
    action.trigger()  # the banner back, with its buttons
    assert [b.text() for b in win.banner.buttons] == ["Look again", "Forget them"]
    win.banner.buttons[1].click()  # Forget them
    assert (action.text(), action.isEnabled()) == ("&Look again for missing songs", False)
    win.close()
