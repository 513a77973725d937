"""Show folder on the demo song opens where its stems are exported (the music folder's stemgui,
as the export dialog offers "beside the song" for it): it opened the app's own resources/demo
folder, inside the installation, where nothing of the user's is."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QDesktopServices

from stemgui.ui.resources import demo_path


@pytest.fixture
def opened(monkeypatch, tmp_path) -> list:
    """The folders opened; the music folder is ``tmp_path / "Music"``."""
    urls: list = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    music = str(tmp_path / "Music")
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _where: music)
    return urls


def test_show_folder_on_the_demo_song_opens_where_its_stems_go(window, tmp_path, opened):
    (job,) = window.controller.model.add([demo_path()])
    stems = tmp_path / "Music" / "stemgui"
    window.reveal(job)  # nothing exported yet: that folder is made by the first export
    assert opened == []
    assert window.statusBar().currentMessage() == (
        f"The demo song's stems are exported to {stems}, which its first export makes: "
        "File ▸ Export stems… (Ctrl+E)."
    )
    stems.mkdir(parents=True)
    window.reveal(job)
    assert [url.toLocalFile() for url in opened] == [str(stems)]  # was resources/demo
    job.export_folder = tmp_path / "elsewhere"
    job.export_folder.mkdir()
    window.reveal(job)  # where they were last exported, as for any song
    assert opened[-1].toLocalFile() == str(tmp_path / "elsewhere")
