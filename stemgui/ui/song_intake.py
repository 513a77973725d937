"""How songs come into the queue: File ▸ Open, a folder, drag and drop, the demo song, a later
launch of the app.

Folders are searched recursively for the supported audio and video files; links that are not
files on this computer are refused with a word why. ``SongIntake`` lives on the GUI thread, a
child of the window, and says what it queued in the status bar.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from stemgui.errors import ExportError
from stemgui.ui import settings as S
from stemgui.ui.elided import counted
from stemgui.ui.queue import Job

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow


def demo_song() -> Path | None:
    """The short song shipped with the app, for a first try without a song at hand."""
    from stemgui.ui.resources import demo_path

    path = demo_path()
    return path if path.is_file() else None


def local_paths(urls: Iterable[QUrl]) -> list[Path]:
    """The files and folders of this computer among dropped ``urls``. On Linux a name is bytes,
    taken as they are: one that is not UTF-8 (Latin-1, from an old archive) came out of
    ``toLocalFile`` with U+FFFD for those bytes, a song said not to exist."""
    return [_local_path(url) for url in urls if url.isLocalFile()]


def file_url(path: str | os.PathLike[str]) -> QUrl:
    """The file URL of ``path`` (a folder to show), with its name's bytes as they are
    on Linux (``local_paths`` reads them back): ``QUrl.fromLocalFile`` dropped those that are
    not UTF-8, a file that is not there."""
    if sys.platform == "win32":
        return QUrl.fromLocalFile(str(path))
    encoded = urllib.parse.quote_from_bytes(os.fsencode(os.path.abspath(path)))
    return QUrl.fromEncoded(("file://" + encoded).encode("ascii"))


def _local_path(url: QUrl) -> Path:
    # Windows's names are Unicode; a share's host is in the URL, not its path
    if sys.platform == "win32" or url.host():
        return Path(url.toLocalFile())
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    return Path(os.fsdecode(urllib.parse.unquote_to_bytes(encoded)))


def _left_out(unread: list[tuple[Path, str]]) -> str:
    """The status bar's words for what a search left out (path, why: a folder that cannot be
    read, a link that cannot be followed), as its warnings say them: the first, and how many
    of each kind (each is in the log file)."""
    first, why = unread[0]
    if len(unread) == 1:
        return f"Left out {first}, which {why}."
    links = sum(os.path.islink(path) for path, _ in unread)
    kinds = ((len(unread) - links, "folder"), (links, "link"))
    many = " and ".join(counted(n, kind) for n, kind in kinds if n)
    return f"Left out {many}, each named in the log file; the first, {first}, {why}."


class SongIntake(QObject):
    """Queues the songs the user gives the window and selects the first when none is.

    Args:
        window: the main window: its queue, its selection and its status bar.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.inbox: Any = None  # a ``single.SongInbox`` once ``listen`` is called

    def listen(self, name: str) -> Any:
        """Take the songs later launches send to ``name`` (``stemgui.ui.single``) until the
        window closes; returns the ``SongInbox``."""
        from stemgui.ui.single import SongInbox

        self.inbox = SongInbox(name, self)
        self.inbox.received.connect(self.take_songs)
        return self.inbox

    def stop_listening(self) -> None:
        """The window is closing: a later launch is told so, and opens a window of its own once
        this one is gone, rather than queue songs after the queue was saved (they were lost)."""
        if self.inbox is not None:
            self.inbox.close()

    def add_paths(self, paths: Iterable[str | Path]) -> list[Job]:
        """Queue songs and the supported files inside folders (recursively), leaving out the
        stems exported there with the export settings of now or the default ones, as
        ``stemgui-separate`` does (``find_tracks``): an album exported beside each song and
        dropped again queued its stems as songs."""
        from stemgui.cli.tracks import find_tracks

        window = self.window
        given = [Path(p) for p in paths]
        # as typed in the export dialog: a folder without its full path is beside each song
        folder = Path(os.path.expanduser(window.settings.get(S.EXPORT_FOLDER)))
        template = window.settings.get(S.EXPORT_TEMPLATE)
        if not folder.is_absolute() and folder != Path():
            template = f"{folder.as_posix()}/{template}"
        unread: dict[str, tuple[Path, str]] = {}  # by the folder: a link reaches it again

        def left_out(found_in: Path, why: str) -> None:
            unread.setdefault(os.path.realpath(found_in), (found_in, why))

        exclude = folder if folder.is_absolute() else None
        try:
            found, empty = find_tracks(given, exclude, template, left_out)
        except ExportError:  # a template the export refuses too: the default one's stems only
            found, empty = find_tracks(given, on_unread=left_out)
        stems = [e.folder for e in empty if e.stems]  # only stems exported there
        bare = [e.folder for e in empty if not e.stems and not e.unread]
        note = f"No audio or video files in {', '.join(map(str, bare))}." if bare else ""
        # not "No audio or video files": another user's folder, say, that was never searched
        note += "".join(f" {e.folder} {e.unread}." for e in empty if e.unread)
        if stems:  # it said there were no audio files in a folder full of them
            note += (
                f" Only stems exported earlier in {', '.join(map(str, stems))}: they are not "
                "queued as songs (open one by itself to separate it)."
            )
        if unread:  # said in the log file alone, a library dropped came in short
            note += f" {_left_out(list(unread.values()))}"
        note = note.strip()
        if not found:
            window.statusBar().showMessage(note or "No audio or video files found there.", 8000)
            return []
        jobs = window.controller.add(found)
        if jobs and window.selected_job() is None:  # Cancel works before its stems begin
            window.select_for_the_user(jobs[0])
        elif not jobs:  # asked for again (a later launch too): its row is shown, as it is now
            window.select(window.controller.model.busy_job(found[0]))
        again = len(found) - len(jobs)  # in the queue already
        if not jobs:  # not "Added 0 songs to the queue. 2 already waiting or separating."
            added = f"{'That song is' if again == 1 else f'All {again} songs are'} already"
            added += " waiting or separating."
        else:
            added = f"Added {counted(len(jobs), 'song')} to the queue."
            added += f" {again} already waiting or separating." if again else ""
        window.statusBar().showMessage(f"{added} {note}".strip(), 8000 if note else 4000)
        if jobs and window.menus.problem() is not None:  # the banner closed: said again
            window.model_status.models_changed()
        return jobs

    def take_songs(self, paths: list[Path]) -> None:
        """Songs of a later launch (``stemgui.ui.single``): queued, and the window comes up."""
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()
        if paths:
            self.add_paths(paths)

    def open_demo(self) -> list[Job]:
        """Queue the demo song shipped with the app (Help ▸ Try the demo song)."""
        song = demo_song()
        if song is None:
            from stemgui.ui.resources import demo_path

            self.window.show_error(
                f"The demo song is missing from this installation ({demo_path()}); install "
                "stemgui again, or open a song of your own."
            )
            return []
        return self.add_paths([song])

    def open_songs(self) -> None:
        """File ▸ Open songs…: the dialog's choice taken as URLs, read as a drop's
        (``local_paths``): its file names had U+FFFD for the bytes of a name that is not UTF-8,
        a song said not to exist."""
        from stemgui.audio.files import SUPPORTED_EXTENSIONS

        patterns = " ".join(f"*{ext}" for ext in sorted(SUPPORTED_EXTENSIONS))
        urls, _ = QFileDialog.getOpenFileUrls(
            self.window, "Open songs", QUrl(), f"Audio and video ({patterns});;All files (*)"
        )
        if paths := local_paths(urls):
            self.add_paths(paths)

    def open_folder(self) -> None:
        """File ▸ Open folder…, its choice taken as ``open_songs`` takes the songs."""
        url = QFileDialog.getExistingDirectoryUrl(self.window, "Open a folder of songs")
        if paths := local_paths([url]):
            self.add_paths(paths)

    def drag_enter(self, event: QDragEnterEvent) -> None:
        """The window's ``dragEnterEvent``: files are welcome, links are refused with a word."""
        urls = event.mimeData().urls()
        if local_paths(urls):
            event.acceptProposedAction()
            return
        event.ignore()
        if urls:  # a link from a browser or a streaming app: say why it is refused
            self.window.statusBar().showMessage(
                "Only songs saved on this computer can be added: download the song, then drop "
                "the file.",
                6000,
            )

    def drag_move(self, event: QDragMoveEvent) -> None:
        """The window's ``dragMoveEvent``."""
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()

    def drop(self, event: QDropEvent) -> None:
        """The window's ``dropEvent``: the files and folders dropped are queued."""
        paths = local_paths(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)
