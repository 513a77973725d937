"""A song saved through a link to its file (``Link to a.wav``), not found at the start (the
link's target on a drive not connected) and opened since by its real path, was saved twice, the
link kept as a song to look for: merged only at the next start. It is saved once, as queued."""

from __future__ import annotations

import json

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState


def _saved_paths(settings_store, queued: Job, gone_path: str) -> list[str]:
    settings = S.Settings(settings_store)
    session.save(settings, [queued], gone=[{"path": gone_path, "strips": {}}])
    return [song["path"] for song in json.loads(settings.get(S.SESSION))]


def test_a_song_saved_through_a_link_then_opened_by_its_file_is_saved_once(
    settings_store, songs, tmp_path
):
    link = tmp_path / "Link to a.wav"
    link.symlink_to(songs[0])  # its drive connected since
    queued = Job(songs[0], state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(link)) == [str(songs[0])]


def test_a_link_through_a_link_is_followed_to_the_end(settings_store, songs, tmp_path):
    first = tmp_path / "first.wav"
    first.symlink_to(songs[0])
    link = tmp_path / "second.wav"
    link.symlink_to(first)
    queued = Job(songs[0], state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(link)) == [str(songs[0])]


def test_a_link_to_another_song_is_kept_to_look_for(settings_store, songs, tmp_path):
    link = tmp_path / "Link to b.wav"
    link.symlink_to(songs[1])
    queued = Job(songs[0], state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(link)) == [str(songs[0]), str(link)]


def test_a_link_still_leading_nowhere_is_kept_to_look_for(settings_store, songs, tmp_path):
    link = tmp_path / "Link to a.wav"
    link.symlink_to(tmp_path / "drive" / "a.wav")  # not connected
    queued = Job(songs[0], state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(link)) == [str(songs[0]), str(link)]
