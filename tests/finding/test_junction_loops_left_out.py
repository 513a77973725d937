"""A Windows junction in a folder searched for songs (``find_audio_files``) is followed as a
link is: one that leads to a folder above it ("Application Data" in a user profile leads to the
profile) is said as a loop and left out, not searched without end. Told apart by the junction
check (``files._is_junction``), made to call a plain folder a junction here."""

from __future__ import annotations

import os
from pathlib import Path

from stemgui.audio import files
from stemgui.audio.files import find_audio_files


def test_a_junction_to_a_folder_above_it_is_a_loop_left_out(tmp_path, monkeypatch):
    """Junctions are no symbolic links to ``is_symlink``: searched as plain folders, each one
    leading up searched the profile again, deeper and deeper, until the path was too long."""
    profile = tmp_path / "profile"
    (profile / "Music").mkdir(parents=True)
    song = profile / "Music" / "a.wav"
    song.write_bytes(b"x")
    junction = profile / "Application Data"
    junction.mkdir()  # what it leads to, as a folder: the profile
    (junction / "Music").mkdir()
    (junction / "Music" / "a.wav").write_bytes(b"x")
    up = os.path.realpath(profile)
    monkeypatch.setattr(files, "_is_junction", lambda entry: entry.path == str(junction))
    real, read = os.path.realpath, os.readlink

    def realpath(path, **kwargs):
        return up if os.fspath(path) == str(junction) else real(path, **kwargs)

    monkeypatch.setattr(os.path, "realpath", realpath)
    monkeypatch.setattr(
        os, "readlink", lambda path: up if os.fspath(path) == str(junction) else read(path)
    )
    left_out: list[tuple[Path, str]] = []
    found = find_audio_files(profile, on_unread=lambda where, why: left_out.append((where, why)))
    assert found == [song]
    assert left_out == [
        (
            junction,
            f"is a link that loops back to a folder above it (to {up}); give the folder or song "
            "it was meant for instead, or fix or remove the link",
        )
    ]


def test_no_folder_is_a_junction_but_on_windows(tmp_path):
    (tmp_path / "folder").mkdir()
    (entry,) = os.scandir(tmp_path)
    assert not files._is_junction(entry)
