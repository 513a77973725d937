"""Stems dragged out of the stem view (``stemgui.ui.stemview.StemPanel``) onto a folder or a DAW.

``StemDrags`` makes the file a drag drops (``stemgui.ui.drag_out.DragFiles``: of the part of the
song, at the rate, with the tags and from the stems the panel's ``drag_part``, ``drag_rate``,
``drag_tags`` and ``drag_source`` say) and starts the drag with its URL; what cannot be dragged
out is said through the panel's ``error``, a drag made through its ``dragged``. The original
mix drags out as the song file itself (the panel's ``drag_song``), nothing written, where a DAW
takes it as it is and the file is there; else as a WAV of the song as decoded, written as a
stem's (``stemgui.ui.drag_song``).

A file is written once (a stem dragged again drops the file written): as the song is, from the
moment the mouse is pressed on its row (``write_ahead``), on a thread, while the hand moves the
drag distance; the drag waits for what is left of it, or writes it on a thread when no press
did (``_written_ahead``), the window's events processed meanwhile (a 4-minute stem written on
the window's thread as the drag started held it 0.56–0.61 s; waited for so, 0.02 s:
``bench/drag_ahead.py``, a busy machine). A click, the button let go with no drag
(``let_go``), stops that write and deletes its file: a stem of a 60-minute song is 1.27 GB,
kept a week. The stems at a pace
take seconds (``DragFiles.file``): those are written on a thread as the drag starts, the panel's
``said`` telling the status bar, and the drag starts once they are if the mouse button is still
held on their song; otherwise the panel says the stem is ready to be dragged again. Another song
shown meanwhile is not held up by that write: its own drags at a pace are written at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import shiboken6
from PySide6.QtCore import QEventLoop, QMimeData, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication

from stemgui.ui.drag_out import MIX, DragFiles, writable
from stemgui.ui.drag_part import DragPart
from stemgui.ui.drag_song import as_is

if TYPE_CHECKING:
    from stemgui.ui.stemview import StemPanel

logger = logging.getLogger(__name__)

_WAIT_MS = 5
"""How often a drag waiting for its file written ahead looks whether it is (``_written_ahead``)."""


class _Ahead(NamedTuple):
    """A stem's file being written ahead of its drag (``StemDrags.write_ahead``)."""

    thread: threading.Thread
    cancel: threading.Event  # set: no drag came; nothing of it stays (``DragFiles.discard``)
    asked: dict[str, Any]  # ``DragFiles.file``'s arguments
    failed: list[str]  # why it could not be written, once it failed: said by its drag


class StemDrags(QObject):
    """The drags out of ``panel``, a child of it.

    Attributes:
        writing: (the stem, its stems) whose files at a pace are being written on a thread
            for the song shown, or None (another song shown since forgets it: ``clear``).
    """

    # (stem, its stems), its file (None: failed), why it failed or, written, why the other
    # stems at its pace are not ("": they are)
    _written = Signal(object, object, str)

    def __init__(self, panel: StemPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.files = DragFiles()
        self.writing: tuple[str, Any] | None = None
        self._mime: QMimeData | None = None  # kept: Qt does not own it from Python
        self._written.connect(self._on_written)  # queued: emitted on the writing thread
        self._ahead: dict[str, _Ahead] = {}  # stem -> its file written ahead

    def file(self, name: str) -> Path:
        """Stem ``name`` as the wav file a drag drops, of the panel's ``drag_part()`` at its
        ``drag_rate()``, tagged with ``drag_tags(name, part)``; that of the last drag while it
        is as written and the stems are those of ``drag_source()``, or the stems shown.

        Raises:
            StemguiError: the song is still separating, or the file cannot be written.
        """
        self._settle(name)
        return self.files.file(**self._asked(name, self.panel.drag_part()))

    def write_ahead(self, name: str) -> None:
        """Start writing stem ``name``'s file on a thread, as the mouse is pressed on its row:
        the drag, once the hand has moved the drag distance, waits only for the rest. Not at
        a pace (written on a thread as the drag starts), nor while the song is separating, nor
        when written already; what fails is said by the drag, not written again."""
        from stemgui.errors import StemguiError

        part, stemset = self.panel.drag_part(), self.panel.stemset
        if part.pace is not None or stemset is None or not writable(stemset, name):
            return
        try:
            asked = self._asked(name, part)
        except StemguiError:
            return  # said by the drag
        self._write_ahead(asked)

    def _write_ahead(self, asked: dict[str, Any]) -> None:
        """Start writing the file ``asked`` (``DragFiles.file``'s arguments, as the song is)
        on a thread, unless one is being written for its stem, failed since its press (its drag
        says why) or it is written already."""
        from stemgui.errors import ExportCancelled, StemguiError
        from stemgui.ui.messages import unexpected

        name = asked["name"]
        ahead = self._ahead.get(name)
        if ahead is not None and (ahead.thread.is_alive() or ahead.failed):
            return
        if self.files.ready(**asked) is not None:  # an earlier drag's: kept by ``let_go``
            return
        cancel, failed = threading.Event(), []

        def write() -> None:
            try:
                self.files.file(**asked, cancel=cancel)
            except ExportCancelled:
                logger.debug("%s let go of before its drag: not written ahead", name)
            except StemguiError as error:  # said by the drag
                logger.debug("%s not written ahead of its drag: %s", name, error)
                failed.append(str(error))
            except Exception as error:  # a bug: logged and said, not lost on a thread
                logger.exception("%s failed unexpectedly, written ahead of its drag", name)
                failed.append(unexpected(asked["track"], error))

        thread = threading.Thread(target=write, name="stemgui-drag-ahead", daemon=True)
        self._ahead[name] = _Ahead(thread, cancel, asked, failed)
        thread.start()

    def let_go(self, name: str) -> None:
        """The mouse button let go on stem ``name``'s row with no drag since its press: stop
        its file being written ahead, or delete it once written, so that a click leaves nothing
        in the drag folder (on the window's thread, at once: the write stops on its thread at
        its next block). A file an earlier drag dropped was not written ahead (``ready``), and
        a drag since the press took the file from ``_ahead`` (``_written_ahead``): both are
        kept."""
        ahead = self._ahead.pop(name, None)
        if ahead is not None:
            ahead.cancel.set()  # before ``discard``: one of the two deletes a file just written
            self.files.discard(**ahead.asked)

    def clear(self) -> None:
        """Forget the files being written for the song shown, as another is shown: its drags
        of the same stem names do not wait for those written ahead, nor its drags at a pace for
        the one at a pace (that thread ends on its own; its file is then only said). Those
        written ahead are let go of (``let_go``): their rows go, so no drag comes."""
        for name in list(self._ahead):
            self.let_go(name)
        self.writing = None

    def _settle(self, name: str) -> None:
        """Wait for stem ``name``'s file being written ahead, if it is (``write_ahead``)."""
        ahead = self._ahead.pop(name, None)
        if ahead is not None:
            ahead.thread.join()

    def _written_ahead(self, asked: dict[str, Any]) -> bool:
        """Wait for the file ``asked`` as the song is (not at a pace, nor of a song still
        separating: those do not wait) written ahead on a thread, started now if its press
        did not (a drag started by code, or before the song was separated), the window's
        events processed meanwhile: written on the window's thread, a 4-minute stem held it
        0.21 s (idle machine). False: no drag is to start, its song no longer shown
        (``clear``) or the window closed since, the file failed (said, not written again on
        the window's thread: it would hold it up to fail the same), or the button held as the
        wait began let go since (said)."""
        name, stems = asked["name"], asked["stemset"]
        ahead = self._ahead.get(name)
        if ahead is not None and ahead.asked != asked:  # another part's, since the press
            self.let_go(name)
        if asked["part"].pace is not None or not writable(stems, name):
            return True
        self._write_ahead(asked)
        ahead = self._ahead.get(name)
        if ahead is None:  # written already
            return True
        held = None
        if ahead.thread.is_alive():
            held = QApplication.mouseButtons() & Qt.MouseButton.LeftButton
            waiting = QEventLoop()
            ended = QTimer()
            ended.timeout.connect(lambda: ahead.thread.is_alive() or waiting.quit())
            ended.start(_WAIT_MS)
            waiting.exec()
            ended.stop()
            if not shiboken6.isValid(self) or self._ahead.get(name) is not ahead:
                return False  # let go of: another song shown (``clear``), the window closed
        self._ahead.pop(name)  # the drag has it: a click since keeps it
        if self.panel.stemset is not stems:
            return False
        if ahead.failed:
            logger.warning("drag of %s refused: %s", name, ahead.failed[0])
            self.panel.error.emit(ahead.failed[0])
            return False
        if held and not QApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            path = self.files.ready(**asked)
            if path is not None:
                self.panel.said.emit(self._written_said(name, path, ""), 10_000)
                return False
        return True

    def _asked(self, name: str, part: DragPart) -> dict[str, Any]:
        """``DragFiles.file``'s arguments for stem ``name`` of ``part``, read on this thread:
        at a pace, the tags of every stem, written together."""
        panel = self.panel
        names = [name] if part.pace is None or name == MIX else list(panel.stemset.names)
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
        except StemguiError as error:
            logger.warning("drag of %s refused: %s", name, error)
            self.panel.error.emit(str(error))
            return
        if not self._written_ahead(asked):
            return
        try:
            # at a pace, not yet written (a song still separating is refused at once, below)
            paced = part.pace is not None and writable(asked["stemset"], name)
            if paced and self.files.ready(**asked) is None:
                self._write_aside(asked)
                return
            self._mime = _mime(self.files.file(**asked))
        except StemguiError as error:
            logger.warning("drag of %s refused: %s", name, error)
            self.panel.error.emit(str(error))
            return
        self._drag(name)

    def press_song(self, _row: str) -> None:
        """The mouse pressed on the original mix row: its WAV written ahead (``write_ahead``),
        unless the song file itself drags out."""
        path = self.panel.drag_song()
        if path is not None and not self._song_file(path):
            self.write_ahead(MIX)

    def let_go_song(self, _row: str) -> None:
        """The button let go on the original mix row with no drag: as ``let_go``."""
        self.let_go(MIX)

    def start_song(self, name: str) -> None:
        """Drag the original mix (the row ``name``) out, a DAW user wanting the full track
        beside its stems: the song file itself where a DAW takes it as it is and it is there
        (``_song_file``); else a WAV of the song as decoded (``start``)."""
        path = self.panel.drag_song()
        if path is None:  # no song shown
            return
        if not self._song_file(path):
            self.start(MIX)
            return
        self._mime = _mime(Path(path))
        self._drag(name)

    def _song_file(self, path: str | os.PathLike[str]) -> bool:
        """Whether the original mix drags out as the song file at ``path`` itself: where a DAW
        takes it as it is (``as_is``) and it is there. One gone (on a drive unplugged since it
        was separated) drags out as decoded: the mix row is shown only with the song's decoded
        mix (``StemSet.mix``), kept in memory."""
        return as_is(path, self.panel.drag_part()) and os.path.isfile(path)

    def _write_aside(self, asked: dict[str, Any]) -> None:
        """Write the file ``asked`` (``DragFiles.file``'s arguments; the other stems' with it)
        on a thread."""
        from stemgui.ui.stemview import stem_label

        name, part = asked["name"], asked["part"]
        if self.writing is not None:
            said = f"Still writing {stem_label(self.writing[0])} to drag: a moment, please"
            self.panel.said.emit(said, 5000)
            return
        writing = self.writing = name, asked["stemset"]
        what = ("the original mix", "it") if name == MIX else ("the stems", "them")
        said = f"Writing {what[0]} of {asked['track']} {part.label} to drag {what[1]}…"
        self.panel.said.emit(said, 0)  # until it is written

        def write() -> None:
            from stemgui.errors import StemguiError
            from stemgui.ui.messages import unexpected

            failed: list[StemguiError] = []  # another stem's file, this one's written
            try:
                path = self.files.file(**asked, others_failed=failed.append)
                why = str(failed[0]) if failed else ""
            except StemguiError as error:
                logger.warning("drag of %s refused: %s", name, error)
                path, why = None, str(error)
            except Exception as error:  # a bug: said, not lost on a thread
                logger.exception("drag of %s failed unexpectedly", name)
                path, why = None, unexpected(asked["track"], error)
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self._written.emit(writing, path, why)

        threading.Thread(target=write, name="stemgui-drag", daemon=True).start()

    @Slot(object, object, str)
    def _on_written(self, writing: tuple[str, Any], path: Path | None, error: str) -> None:
        """The file at a pace ``writing`` (stem, stems) asked for written at ``path`` (None:
        it failed, ``error`` says why): dragged while the button is held on its song, the
        one still being written (``writing``); else said, unless another one is written now
        (its "Writing…" stays). Written, ``error`` (if any) says why the other stems at its
        pace are not: said in the status bar, with the drag or without."""
        name, stems = writing
        mine = self.writing is writing  # not forgotten as another song was shown
        if mine:
            self.writing = None
        quiet = self.writing is not None  # another file is being written: said as it is
        if path is None:
            if not quiet:
                self.panel.said.emit("", 0)
            self.panel.error.emit(error)
            return
        held = QApplication.mouseButtons() & Qt.MouseButton.LeftButton
        shown = self.panel.stemset is stems
        others = f"; the other stems at its pace are not: {error}" if error else ""
        if not (mine and held and shown):  # let go, or another song shown since
            if not quiet or others:
                said = self._written_said(name if shown else None, path, others)
                self.panel.said.emit(said, 10_000)
            return
        self.panel.said.emit(f"{path.name} is written{others}", 10_000 if others else 3000)
        self._mime = _mime(path)
        self._drag(name)

    @staticmethod
    def _written_said(name: str | None, path: Path, others: str) -> str:
        """What the status bar says of stem ``name``'s file written at ``path`` with no drag
        (the button let go meanwhile): to drag it again (``name`` None: its song is no longer
        shown); ``others``: why the other stems at its pace are not written, if they are not."""
        from stemgui.ui.stemview import stem_label

        again = "" if name is None else f": drag {stem_label(name)} again to drop it"
        return f"{path.name} is written{again}{others}"

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
