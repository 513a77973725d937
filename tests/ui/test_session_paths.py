"""A song of the last session not found at the start (a drive not connected) and opened again
since is saved once, however either path is spelled: relative, with ``..``, through a linked
folder; a song that is another file is kept."""

from __future__ import annotations

import json
import os

import pytest

from stemgui.ui import session
from stemgui.ui import settings as S
from stemgui.ui.queue import Job, JobState


@pytest.fixture
def settings(settings_store) -> S.Settings:
    return S.Settings(settings_store)


def _saved_paths(settings: S.Settings, queued: Job, gone_path: str) -> list[str]:
    gone = {"path": gone_path, "strips": {}}
    session.save(settings, [queued], gone=[gone])
    return [song["path"] for song in json.loads(settings.get(S.SESSION))]


def test_a_song_saved_with_a_relative_path_is_saved_once(settings, songs, monkeypatch):
    monkeypatch.chdir(songs[0].parent)
    queued = Job(songs[0], state=JobState.DONE)
    assert _saved_paths(settings, queued, "a.wav") == [str(songs[0])]


def test_a_song_saved_with_dot_dot_is_saved_once(settings, songs):
    queued = Job(songs[0], state=JobState.DONE)
    spelled = os.path.join(songs[0].parent, "sub", "..", "a.wav")
    assert _saved_paths(settings, queued, spelled) == [str(songs[0])]
    queued = Job(songs[0].parent / "sub" / ".." / "a.wav", state=JobState.DONE)  # the other way
    assert len(_saved_paths(settings, queued, str(songs[0]))) == 1


def test_a_song_opened_through_a_linked_folder_is_saved_once(settings, songs, tmp_path):
    link = tmp_path / "Music"
    link.symlink_to(songs[0].parent, target_is_directory=True)
    queued = Job(link / "a.wav", state=JobState.DONE)
    assert _saved_paths(settings, queued, str(songs[0])) == [str(link / "a.wav")]


def test_another_song_of_the_same_name_is_kept(settings, songs, tmp_path):
    queued = Job(songs[1], state=JobState.DONE)  # sub/b.wav
    elsewhere = str(tmp_path / "drive" / "sub" / "b.wav")
    assert _saved_paths(settings, queued, elsewhere) == [str(songs[1]), elsewhere]


def test_a_song_saved_twice_under_two_spellings_comes_back_once(settings, songs, tmp_path):
    """Both were found, and both queued: the song separated (or read) twice, two rows."""
    link = tmp_path / "Music"
    link.symlink_to(songs[0].parent, target_is_directory=True)
    spellings = [songs[0], link / "a.wav", songs[0].parent / "sub" / ".." / "a.wav"]
    saved = session.read([{"path": str(path), "shown": path == spellings[2]} for path in spellings])
    assert [job.path for job in saved.jobs] == [songs[0]] and saved.shown is saved.jobs[0]
