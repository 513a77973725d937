r"""Windows' ``realpath`` writes a path past the old 260-character limit with its long-path
prefix (``\\?\C:\...``, ``\\?\UNC\nas\...``) while the folders inside one reached without it
are joined without it: the link-back check (``link_back``) takes both for the same folder.
Windows never runs here, so its paths are strings, and its ``realpath`` is played."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stemgui.audio import files
from stemgui.audio.files import find_audio_files
from tests.finding.song_trees import touch

pytestmark = pytest.mark.usefixtures("in_tmp")


@pytest.mark.parametrize(
    ("prefixed", "plain"),
    [
        (r"\\?\C:\Music\album", r"C:\Music\album"),
        (r"\\?\UNC\nas\music\album", r"\\nas\music\album"),
        ("/home/me/album", "/home/me/album"),  # nothing to take off
        (r"C:\Music\album", r"C:\Music\album"),
    ],
)
def test_a_folder_with_the_prefix_and_without_it_is_one(prefixed, plain):
    assert files._unprefixed(prefixed) == plain


def test_a_link_back_to_a_folder_whose_real_path_has_the_prefix_is_a_loop(monkeypatch):
    """The link's folder resolves with the prefix (as a long one does on Windows), the folder
    searched without it: the link was followed and the album searched again through it, its
    songs found as album/back/one.wav, the loop said only at the link in there."""
    touch("album/one.wav")
    os.symlink(".", "album/back")
    real = os.path.realpath

    def windows_realpath(path, **kwargs):
        found = real(path, **kwargs)
        return "\\\\?\\" + found if os.path.islink(path) else found

    said = []
    with monkeypatch.context() as windows:
        windows.setattr(os.path, "realpath", windows_realpath)
        found = find_audio_files([Path("album")], lambda path, why: said.append(path))
    assert found == [Path("album/one.wav")]
    assert said == [Path("album/back")]
