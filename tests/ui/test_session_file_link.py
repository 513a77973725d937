"""A song of the last session not found at the start (a drive not connected) and opened again
since through a link to the file itself, under another name, is saved once: as queued."""

from __future__ import annotations

import json

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState


def _saved_paths(settings_store, queued: Job, gone_path: str) -> list[str]:
    settings = S.Settings(settings_store)
    session.save(settings, [queued], gone=[{"path": gone_path, "strips": {}}])
    return [song["path"] for song in json.loads(settings.get(S.SESSION))]


def test_a_song_opened_through_a_link_to_its_file_is_saved_once(settings_store, songs, tmp_path):
    link = tmp_path / "Link to a.wav"
    link.symlink_to(songs[0])
    queued = Job(link, state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(songs[0])) == [str(link)]


def test_a_link_to_a_link_to_the_file_is_followed_to_the_end(settings_store, songs, tmp_path):
    first = tmp_path / "first.wav"
    first.symlink_to(songs[0])
    link = tmp_path / "second.wav"
    link.symlink_to(first)
    queued = Job(link, state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(songs[0])) == [str(link)]


def test_a_link_to_another_song_keeps_the_song_not_found(settings_store, songs, tmp_path):
    link = tmp_path / "Link to b.wav"
    link.symlink_to(songs[1])
    queued = Job(link, state=JobState.DONE)
    assert _saved_paths(settings_store, queued, str(songs[0])) == [str(link), str(songs[0])]
