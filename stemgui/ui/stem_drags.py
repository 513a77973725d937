"""Stems dragged out of the stem view (``stemgui.ui.stemview.StemPanel``) onto a folder or a DAW.

``StemDrags`` makes the file a drag drops (``stemgui.ui.drag_out.DragFiles``: of the part of the
song, at the rate, with the tags and from the stems the panel's ``drag_part``, ``drag_rate``,
``drag_tags`` and ``drag_source`` say) and starts the drag with its URL; what cannot be dragged
out is said through the panel's ``error``, a drag made through its ``dragged``. The original
mix drags out as the song file itself (the panel's ``drag_song``), nothing written.

A file is written on the window's thread as the drag starts (a 10-minute stem: 0.4 s, once: a
stem dragged again drops the file written), except the stems at a pace, which take seconds
(``DragFiles.file``): those are written on a thread, the panel's ``said`` telling the status
bar, and the drag starts once they are if the mouse button is still held; otherwise the panel
says the stem is ready to be dragged again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication

from stemgui.ui.drag_out import DragFiles, DragPart

if TYPE_CHECKING:
    from stemgui.ui.stemview import StemPanel

logger = logging.getLogger(__name__)


class StemDrags(QObject):
    """The drags out of ``panel``, a child of it.

    Attributes:
        writing: (the stem, its stems) whose files at a pace are being written on a thread,
            or None.
    """

    _written = Signal(str, object, str)  # stem, its file (None: failed), why it failed

    def __init__(self, panel: StemPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.files = DragFiles()
        self.writing: tuple[str, Any] | None = None
        self._mime: QMimeData | None = None  # kept: Qt does not own it from Python
        self._written.connect(self._on_written)  # queued: emitted on the writing thread

    def file(self, name: str) -> Path:
        """Stem ``name`` as the wav file a drag drops, of the panel's ``drag_part()`` at its
        ``drag_rate()``, tagged with ``drag_tags(name, part)``; that of the last drag while it
        is as written and the stems are those of ``drag_source()``, or the stems shown.

        Raises:
            StemguiError: the song is still separating, or the file cannot be written.
        """
        return self.files.file(**self._asked(name, self.panel.drag_part()))

    def _asked(self, name: str, part: DragPart) -> dict[str, Any]:
        """``DragFiles.file``'s arguments for stem ``name`` of ``part``, read on this thread:
        at a pace, the tags of every stem, written together."""
        panel = self.panel
        names = [name] if part.pace is None else list(panel.stemset.names)
        tags = {stem: panel.drag_tags(stem, part) for stem in names}
        return {
            "stemset": panel.stemset,
            "track": panel.track,
            "name": name,
            "rate": panel.drag_rate(),
            "tags": tags.pop(name),
            "source": panel.drag_source(),
            "part": part,
            "others": tags,
        }

    def mime(self, name: str) -> QMimeData:
        """The drag payload of stem ``name``: the file URL of its wav."""
        return _mime(self.file(name))

    def start(self, name: str) -> None:
        """Drag stem ``name`` out, or say through the panel's ``error`` why it cannot be; at a
        pace and not written yet, write it on a thread first."""
        from stemgui.errors import StemguiError

        part = self.panel.drag_part()
        try:
            asked = self._asked(name, part)
            # at a pace, not yet written (a song still separating is refused at once, below)
            paced = part.pace is not None and asked["stemset"].complete
            if paced and self.files.ready(**asked) is None:
                self._write_aside(asked)
                return
            self._mime = _mime(self.files.file(**asked))
        except StemguiError as error:
            logger.warning("drag of %s refused: %s", name, error)
            self.panel.error.emit(str(error))
            return
        self._drag(name)

    def start_song(self, name: str) -> None:
        """Drag the song file itself out (the original mix row ``name``), as it is: a DAW user
        wants the full track beside its stems; a file gone is said in the status bar."""
        path = self.panel.drag_song()
        if path is None:  # no song shown
            return
        if not os.path.isfile(path):  # on a drive unplugged since it was separated
            said = (
                f"{path} is not there any more (on a drive unplugged?): plug its drive back "
                "in to drag the original mix, or drag its stems"
            )
            self.panel.said.emit(said, 10_000)
            return
        self._mime = _mime(Path(path))
        self._drag(name)

    def _write_aside(self, asked: dict[str, Any]) -> None:
        """Write the file ``asked`` (``DragFiles.file``'s arguments; the other stems' with it)
        on a thread."""
        from stemgui.ui.stemview import stem_label

        name, part = asked["name"], asked["part"]
        if self.writing is not None:
            said = f"Still writing {stem_label(self.writing[0])} to drag: a moment, please"
            self.panel.said.emit(said, 5000)
            return
        self.writing = name, asked["stemset"]
        said = f"Writing the stems of {asked['track']} {part.label} to drag them…"
        self.panel.said.emit(said, 0)  # until it is written

        def write() -> None:
            from stemgui.errors import StemguiError
            from stemgui.ui.messages import unexpected

            try:
                path, why = self.files.file(**asked), ""
            except StemguiError as error:
                logger.warning("drag of %s refused: %s", name, error)
                path, why = None, str(error)
            except Exception as error:  # a bug: said, not lost on a thread
                logger.exception("drag of %s failed unexpectedly", name)
                path, why = None, unexpected(asked["track"], error)
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self._written.emit(name, path, why)

        threading.Thread(target=write, name="stemgui-drag", daemon=True).start()

    @Slot(str, object, str)
    def _on_written(self, name: str, path: Path | None, error: str) -> None:
        from stemgui.ui.stemview import stem_label

        _name, stems = self.writing or (name, None)
        self.writing = None
        if path is None:
            self.panel.said.emit("", 0)
            self.panel.error.emit(error)
            return
        held = QApplication.mouseButtons() & Qt.MouseButton.LeftButton
        if not held or self.panel.stemset is not stems:  # let go, or another song shown
            said = f"{path.name} is written: drag {stem_label(name)} again to drop it"
            self.panel.said.emit(said, 10_000)
            return
        self.panel.said.emit(f"{path.name} is written", 3000)
        self._mime = _mime(path)
        self._drag(name)

    def _drag(self, name: str) -> None:
        self.panel.dragged.emit(name)
        drag = QDrag(self.panel)
        drag.setMimeData(self._mime)
        drag.exec(Qt.DropAction.CopyAction)


def _mime(path: Path) -> QMimeData:
    """A drag payload: the URL of the file at ``path``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime
