"""Stems dragged out of the stem view (``stemgui.ui.stemview.StemPanel``) onto a folder or a DAW.

``StemDrags`` makes the file a drag drops (``stemgui.ui.drag_out.DragFiles``: of the part of the
song, at the rate, with the tags and from the stems the panel's ``drag_part``, ``drag_rate``,
``drag_tags`` and ``drag_source`` say)
and starts the drag with its URL; what cannot be dragged out is said through the panel's
``error``, a drag made through its ``dragged``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, Qt, QUrl
from PySide6.QtGui import QDrag

from stemgui.ui.drag_out import DragFiles

if TYPE_CHECKING:
    from stemgui.ui.stemview import StemPanel

logger = logging.getLogger(__name__)


class StemDrags(QObject):
    """The drags out of ``panel``, a child of it."""

    def __init__(self, panel: StemPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.files = DragFiles()
        self._mime: QMimeData | None = None  # kept: Qt does not own it from Python

    def file(self, name: str) -> Path:
        """Stem ``name`` as the wav file a drag drops, of the panel's ``drag_part()`` at its
        ``drag_rate()``, tagged with ``drag_tags(name, part)``; that of the last drag while it
        is as written and the stems are those of ``drag_source()``, or the stems shown.

        Raises:
            StemguiError: the song is still separating, or the file cannot be written.
        """
        panel = self.panel
        part = panel.drag_part()
        return self.files.file(
            panel.stemset,
            panel.track,
            name,
            panel.drag_rate(),
            panel.drag_tags(name, part),
            panel.drag_source(),
            part,
        )

    def mime(self, name: str) -> QMimeData:
        """The drag payload of stem ``name``: the file URL of its wav."""
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(self.file(name)))])
        return mime

    def start(self, name: str) -> None:
        """Drag stem ``name`` out, or say through the panel's ``error`` why it cannot be."""
        from stemgui.errors import StemguiError

        try:
            self._mime = self.mime(name)
        except StemguiError as error:
            logger.warning("drag of %s refused: %s", name, error)
            self.panel.error.emit(str(error))
            return
        self.panel.dragged.emit(name)
        drag = QDrag(self.panel)
        drag.setMimeData(self._mime)
        drag.exec(Qt.DropAction.CopyAction)
