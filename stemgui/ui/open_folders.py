"""Folders opened in the system's file manager: a song's Show folder and Help ▸ Open log folder.
Show folder on the demo song, which ships inside the app, opens where its stems are exported.

A folder that cannot be opened (gone since, or not to be made) is said in the status bar:
``QDesktopServices.openUrl`` did nothing, without a word.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices

from stemgui.ui.export_commands import export_folder_of
from stemgui.ui.queue import Job
from stemgui.ui.song_intake import file_url

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow


class OpenFolders(QObject):
    """Opens the folders the window offers; a child of the window, on the GUI thread."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def reveal(self, job: Job) -> None:
        """Show folder: where the song's stems were last exported, until then the song's (the
        demo song's, inside the app, none of the user's: where its stems are exported,
        ``export_folder_of``); one gone since (the song deleted with its folder, a drive not
        connected) is said, and so is the demo's before its first export makes it."""
        folder = job.export_folder or export_folder_of(job.path)
        if not os.path.isdir(folder):  # opening it did nothing, without a word
            gone = (
                f"The folder {folder} is not there any more: moved, deleted, or on a drive "
                "that is not connected."
            )
            if job.export_folder is None and folder != job.path.parent:  # the demo song's
                gone = (
                    f"The demo song's stems are exported to {folder}, which its first export "
                    "makes: File ▸ Export stems… (Ctrl+E)."
                )
            self.window.statusBar().showMessage(gone, 8000)
            return
        QDesktopServices.openUrl(file_url(folder))

    def open_log_folder(self) -> None:
        """Help ▸ Open log folder, made first where it is not there yet."""
        from stemgui.logs import log_folder

        folder = log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # the log went to no file either (``setup_logging``)
            self.window.statusBar().showMessage(
                f"The log folder {folder} cannot be made ({error.strerror or error}): no log "
                "file is written. Move away the file in its place or make its folder writable.",
                15_000,
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
