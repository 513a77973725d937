"""The queue on screen: each song's name, state and progress bar, and the buttons below.

Waiting songs are reordered by dragging them in the list, with the ↑ / ↓ buttons, or with
Ctrl+Up / Ctrl+Down; the order is what separates next.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from stemgui.ui.elided import one_line
from stemgui.ui.queue import Job, JobState, QueueModel
from stemgui.ui.theme import readable

logger = logging.getLogger(__name__)

_PAD = 6
_SHOWN_BAR = 3  # pixels: the mark of the song on screen, in the padding at the left
_BAR = 4
_LEAD = 8  # characters of a name's start kept before the part that tells it from another
_DIFFERENCE = 6  # characters of that part that show it (a track number, a word of a mix)
_STATE_COLOURS = {
    JobState.FAILED: "#d9534f",
    JobState.CANCELLED: "#8a8a8a",
    JobState.DONE: "#3fa45b",
}


def elide_title(title: str, others: Iterable[str], metrics: QFontMetrics, width: int) -> str:
    """``title`` (a file name) cut to ``width`` pixels so that what tells it from the other
    rows' ``others`` stays in view.

    Songs of different artists differ at their start, which carries the artist and the title:
    a name too long keeps its start, cut at the end as a music library's column is, after
    leaving out its extension (the same in most rows; the tooltip has it). Songs of one album
    or remixes of one song share their start ("Artist - Title (Extended Mix)", "… (Radio
    Edit)"): cutting at the end, or in the middle as Qt does, showed them alike. There the
    shared part gives way to the word where the name departs from the most alike other row,
    after a short lead that keeps the artist in view. A line break in a name is a space.
    """
    title, others = one_line(title), [one_line(other) for other in others]
    if metrics.horizontalAdvance(title) <= width:
        return title
    others = {other for other in others if other != title}  # a song queued twice is alike
    stem = os.path.splitext(title)[0]
    if stem and all(os.path.splitext(other)[0] != stem for other in others):
        title, others = stem, {os.path.splitext(other)[0] for other in others}
    shared = max((_shared_start(title, other) for other in others), default=0)
    start = title.rfind(" ", 0, shared) + 1 if shared < len(title) else 0  # of that word
    head, rest = title[:start], title[start:]
    shown = metrics.elidedText(title, Qt.TextElideMode.ElideRight, width)
    if shown.startswith(head + rest[:_DIFFERENCE]):  # what differs is in view already
        return shown
    lead_room = width - metrics.horizontalAdvance(rest)
    if lead_room >= metrics.horizontalAdvance(head[:_LEAD] + "…"):
        return metrics.elidedText(head, Qt.TextElideMode.ElideRight, lead_room) + rest
    lead = metrics.elidedText(head, Qt.TextElideMode.ElideRight, width // 3)
    room = width - metrics.horizontalAdvance(lead)
    return lead + metrics.elidedText(rest, Qt.TextElideMode.ElideRight, room)


def elide_status(job: Job, metrics: QFontMetrics, width: int) -> str:
    """``job``'s state in words (its row's second line) cut to ``width`` pixels.

    The model's name is cut in its middle: models of one family share a long start and differ
    at their end ("stemgui-htdemucs-small-119eec4f", "…-2a0b91c3"), which a cut at the end of
    the line left out, showing songs separated by the two alike. The words after it (", Fast,
    vocals / no vocals)") stay whole while the name keeps half the room after "done ("; with
    less, they are cut at their end.
    """
    text, name = job.status_text(), job.model_name
    if metrics.horizontalAdvance(text) <= width:
        return text
    start = text.find(f"({name}") + 1 if name else 0  # "done (name, …)": ``Job.status_text``
    before, after = text[:start], text[start + len(name) :]
    rest = width - metrics.horizontalAdvance(before)
    if not start or rest < metrics.horizontalAdvance(name[:2] + "…" + name[-2:]):
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    room = max(width - metrics.horizontalAdvance(before + after), rest // 2)
    shown = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room)
    return (
        before
        + shown
        + metrics.elidedText(
            after, Qt.TextElideMode.ElideRight, rest - metrics.horizontalAdvance(shown)
        )
    )


def _shared_start(one: str, other: str) -> int:
    """How many characters ``one`` and ``other`` share at their start."""
    return next(
        (i for i, (a, b) in enumerate(zip(one, other)) if a != b), min(len(one), len(other))
    )


class QueueDelegate(QStyledItemDelegate):
    """Two lines per song, with a progress bar while it is being worked on, and a bar at the
    left of the song on screen."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        job = index.data(QueueModel.JobRole)
        if job is None:
            super().paint(painter, option, index)
            return
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text = palette.highlightedText().color() if selected else palette.text().color()
        rect = option.rect.adjusted(_PAD, 3, -_PAD, -3)
        painter.save()
        if index.data(QueueModel.ShownRole):  # the song whose stems are on screen
            shown = QRect(option.rect.x() + 1, rect.y(), _SHOWN_BAR, rect.height())
            painter.fillRect(shown, text if selected else palette.highlight().color())
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text)
        line = QFontMetrics(title_font).height()
        others = [other.title for other in getattr(index.model(), "jobs", ())]
        title = elide_title(job.title, others, QFontMetrics(title_font), rect.width())
        painter.drawText(
            QRect(rect.x(), rect.y(), rect.width(), line), Qt.AlignmentFlag.AlignLeft, title
        )
        painter.setFont(option.font)
        status_colour = _STATE_COLOURS.get(job.state)
        if status_colour and not selected:  # as light or dark as the list needs to read it
            painter.setPen(readable(QColor(status_colour), palette.base().color()))
        status = elide_status(job, QFontMetrics(option.font), rect.width())
        painter.drawText(
            QRect(rect.x(), rect.y() + line, rect.width(), line), Qt.AlignmentFlag.AlignLeft, status
        )
        if job.state.active:
            bar = QRect(rect.x(), rect.bottom() - _BAR + 1, rect.width(), _BAR)
            painter.fillRect(bar, palette.mid())
            done = QRect(
                bar.x(), bar.y(), int(bar.width() * max(0.0, min(job.fraction, 1.0))), _BAR
            )
            painter.fillRect(done, QColor("#3d9be9") if not selected else text)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(200, 2 * line + _BAR + 12)


class QueuePanel(QWidget):
    """The queue list and its buttons (cancel, retry, remove, move up/down, show folder).

    The buttons act on the selected job through the callbacks given to ``connect_actions``;
    the panel enables them from the job's state. A waiting song moves by drag and drop in the
    list, by the ↑ / ↓ buttons and by Ctrl+Up / Ctrl+Down (``move_selected``); Delete (or
    Backspace) in the list removes the selected song, as Remove does, and Ctrl+R retries it, as
    Retry does. The buttons are reached by Tab and pressed by Space or Return.

    Signals:
        current_changed(job): the selected job (None when nothing is selected).
        said(message): what a key did, or why it did nothing (for the status bar).
    """

    current_changed = Signal(object)
    said = Signal(str)  # what a key did, or why it did nothing

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view = QListView()
        self.view.setModel(model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAccessibleName("Song queue")
        self.view.setItemDelegate(QueueDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setDragEnabled(True)  # waiting songs only (QueueModel.flags)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)  # file drops pass on
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.move_up_action = self._shortcut("Move song up", "Ctrl+Up", -1)
        self.move_down_action = self._shortcut("Move song down", "Ctrl+Down", 1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop separating the selected song, or keep a waiting one from starting (Retry "
            "queues it again)"
        )
        self.retry_button = QPushButton("Retry")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected song from the queue (Delete)")
        self.remove_action = QAction("Remove song", self)
        self.remove_action.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")]
        )
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self._remove_by_key)
        self.addAction(self.remove_action)
        self.retry_button.setToolTip(
            "Separate the selected failed or cancelled song again (Ctrl+R)"
        )
        self.retry_action = QAction("Retry song", self)
        self.retry_action.setShortcut(QKeySequence("Ctrl+R"))
        self.retry_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.retry_action.triggered.connect(self._retry_by_key)
        self.addAction(self.retry_action)
        self.up_button = QPushButton("↑")
        self.down_button = QPushButton("↓")
        self.reveal_button = QPushButton("Show folder")
        self.up_button.setAccessibleName("Move up")
        self.down_button.setAccessibleName("Move down")
        self.up_button.setToolTip("Separate this waiting song earlier (Ctrl+Up, or drag it)")
        self.down_button.setToolTip("Separate this waiting song later (Ctrl+Down, or drag it)")
        self.reveal_button.setToolTip(
            "Open the folder the song's stems were last exported to (until then, the song's; the "
            "demo song's: where its stems are exported)"
        )
        # Tab reaches the buttons, Space and Return press them (keyboard_focus); a click leaves
        # the focus in the list, so that Space after a click on Remove plays, removes no more
        buttons = (self.cancel_button, self.retry_button, self.remove_button)
        for button in (*buttons, self.up_button, self.down_button, self.reveal_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(QLabel("<b>Queue</b>"))
        layout.addWidget(self.view, 1)
        for row in (
            (self.cancel_button, self.retry_button, self.remove_button),
            (self.up_button, self.down_button, self.reveal_button),
        ):
            line = QHBoxLayout()
            for button in row:
                line.addWidget(button)
            layout.addLayout(line)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _previous: self.current_changed.emit(self.selected_job())
        )
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.rowsMoved):
            signal.connect(lambda *_: self.update_buttons())
        self.current_changed.connect(lambda _job: self.update_buttons())
        self.up_button.clicked.connect(lambda _=False: self.move_selected(-1))
        self.down_button.clicked.connect(lambda _=False: self.move_selected(1))
        self.update_buttons()

    def connect_actions(
        self,
        cancel: Callable[[Job], None],
        retry: Callable[[Job], None],
        remove: Callable[[Job], None],
        reveal: Callable[[Job], None],
    ) -> None:
        """What the buttons do with the selected job."""
        for button, action in (
            (self.cancel_button, cancel),
            (self.retry_button, retry),
            (self.remove_button, remove),
            (self.reveal_button, reveal),
        ):
            button.clicked.connect(lambda _=False, act=action: self._on_selected(act))

    def _shortcut(self, text: str, keys: str, offset: int) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda: self.move_selected(offset))
        self.addAction(action)
        return action

    def move_selected(self, offset: int) -> bool:
        """Move the selected song up (-1) or down (+1) if it waits; it stays selected."""
        job = self.selected_job()
        if not self.model.can_move(job, offset):
            return False
        self.model.move(job, offset)
        self.select(job)
        self.update_buttons()
        return True

    def selected_job(self) -> Job | None:
        index = self.view.currentIndex()
        return index.data(QueueModel.JobRole) if index.isValid() else None

    def select(self, job: Job) -> None:
        self.view.setCurrentIndex(self.model.index(self.model.row_of(job)))

    def _remove_by_key(self) -> None:
        """Delete: as Remove, but never for the song being worked on (a stray key would
        throw away minutes of work); Cancel, then Delete (at once too), does it. What went
        is said."""
        job = self.selected_job()
        if job is not None and job.state.active and not job.stopping:
            self.said.emit(f"{job.title} is being separated: Cancel it first to remove it.")
            return
        if job is not None and self.remove_button.isEnabled():
            self.remove_button.click()
            self.said.emit(f"Removed {job.title} from the queue.")

    def _retry_by_key(self) -> None:
        """Ctrl+R: as Retry, or why it does nothing."""
        job = self.selected_job()
        if self.retry_button.isEnabled():
            self.retry_button.click()
        elif job is not None and not job.retry_helps:
            self.said.emit(f"{job.title} is not audio: trying again cannot help. Remove it.")
        elif job is not None:
            self.said.emit(f"{job.title} neither failed nor was cancelled: nothing to retry.")

    def _on_selected(self, action: Callable[[Job], None]) -> None:
        job = self.selected_job()
        if job is not None:
            action(job)
            self.update_buttons()

    def update_buttons(self) -> None:
        job = self.selected_job()
        state = job.state if job is not None else None
        removing = job is not None and job.removed  # the worker is stopping it
        stopping = removing or (job is not None and job.stopping)
        self.cancel_button.setEnabled(state is not None and not state.ended and not stopping)
        # not for a file that is not audio at all: its page says trying again cannot help
        retry = state in (JobState.FAILED, JobState.CANCELLED) and job.retry_helps
        self.retry_button.setEnabled(retry)
        self.remove_button.setEnabled(job is not None and not removing)
        self.reveal_button.setEnabled(job is not None)
        self.up_button.setEnabled(self.model.can_move(job, -1))
        self.down_button.setEnabled(self.model.can_move(job, 1))
