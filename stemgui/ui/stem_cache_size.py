"""File ▸ Stem cache size…: how much the stem cache holds, and its size limit.

The dialog shows what the cache (``stemgui.stemcache``) uses now and asks for the limit, in the
``STEM_CACHE_GB`` setting's unit (``stemgui.sizes.GB``, the one use is said in) and limits.
Accepted, the limit is saved and applied at once: past it the least recently used songs lose
their stems first (``StemCache.evict``), never the song on screen, whose player may read them.
Counting and deleting run on a thread (``stemgui.ui.stem_cache_tasks``).
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stemgui.sizes import GB, in_words
from stemgui.ui import settings as S
from stemgui.ui.elided import counted, wrapped_label
from stemgui.ui.queue import Job
from stemgui.ui.stem_cache_tasks import run_cache_work

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

logger = logging.getLogger(__name__)


def stem_cache_on_disk(settings: S.Settings) -> Any:
    """The stem cache folder (a ``StemCache``) with the size limit ``settings`` ask for."""
    from stemgui.stemcache import StemCache

    return StemCache(max_bytes=settings.get(S.STEM_CACHE_GB) * GB)


def stem_cache_of(window: MainWindow) -> Any:
    """The stem cache on disk: the one object the worker stores in while keeping stems is on,
    and keeps while it is off (``disk_cache``; made now if stems were not kept since the start),
    so that a store it began before keeping was turned off makes room by the limit set since."""
    worker = window.controller.worker
    if worker.disk_cache is None:
        worker.disk_cache = stem_cache_on_disk(window.settings)
    return worker.disk_cache


def entry_of(job: Job | None) -> str | None:
    """The stem cache entry holding ``job``'s stems (once stored, or read from there), or None."""
    if job is None:
        return None
    if job.stem_entry:
        return job.stem_entry
    return job.kept.entry if job.kept is not None else None  # found there, until ``stored``


USE_WORDS = "The stem cache"  # the dialog's first words, then its folder


class StemCacheSizeDialog(QDialog):
    """The stem cache's use (counted on a thread: "counting…" until then) and a spin box for
    its limit (``limit_gb``).

    Args:
        cache: the ``StemCache`` whose use is shown.
        limit_gb: the limit now (``STEM_CACHE_GB``).
        keeping: whether separated stems are kept (File ▸ Keep separated stems between sessions).
    """

    def __init__(
        self, cache: Any, limit_gb: int, keeping: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Stem cache size")
        layout = QVBoxLayout(self)
        self.use_label = wrapped_label("Stem cache use")
        self.use_label.setText(f"{USE_WORDS} ({cache.root}): counting…")
        self.cache = cache
        run_cache_work(self, cache, cache.usage, self._show_use, self.use_label.setText, "usage")
        layout.addWidget(self.use_label)
        form = QFormLayout()
        self.limit = QSpinBox()
        limits = S.STEM_CACHE_GB.limits
        assert limits is not None  # declared with the setting
        self.limit.setRange(int(limits[0]), int(limits[1]))
        self.limit.setSuffix(" GB")
        self.limit.setValue(limit_gb)
        self.limit.setAccessibleName("Stem cache size limit")
        form.addRow("Keep at most:", self.limit)
        layout.addLayout(form)
        note = wrapped_label("What the limit does")
        note.setText(
            "Past the limit, the songs used least recently lose their stems first (they are "
            "separated again when opened); the song on screen keeps its own."
            + (
                ""
                if keeping
                else " File ▸ Keep separated stems between sessions is off: no new song is kept."
            )
        )
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # as narrow as OK and Cancel (200 px) it broke the folder over three lines: as wide as
        # its first words and the folder on one line, within 50 to 90 characters
        metrics = self.use_label.fontMetrics()
        chars = metrics.averageCharWidth()
        folder = metrics.horizontalAdvance(f"{USE_WORDS} ({cache.root})")
        margins = layout.contentsMargins()
        width = min(max(folder, 50 * chars), 90 * chars) + margins.left() + margins.right()
        self.setMinimumWidth(width)
        self.resize(width, self.heightForWidth(width))  # the wrapped lines' height, no gaps

    def _show_use(self, usage: tuple[int, int]) -> None:
        songs, used = usage
        self.use_label.setText(
            f"{USE_WORDS} ({self.cache.root}) holds the stems of {counted(songs, 'song')}: "
            f"{in_words(used)}."
        )

    @property
    def limit_gb(self) -> int:
        return self.limit.value()


def ask_stem_cache_size(window: MainWindow) -> None:
    """Show the stem cache's use and set its limit as the user chooses (File ▸ Stem cache
    size…)."""
    settings = window.settings
    dialog = StemCacheSizeDialog(
        stem_cache_of(window), settings.get(S.STEM_CACHE_GB), settings.get(S.KEEP_STEMS), window
    )
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted:
            set_stem_cache_size(window, dialog.limit_gb)
    finally:
        dialog.deleteLater()  # a child of the window: one more kept at every opening


_LIMIT_REQUESTS = itertools.count(1)


class _LimitNotes(QObject):
    """What the limits set on a window (``set_stem_cache_size``) deleted, for its status bar;
    a child of the window (``_limit_notes``). A limit set again while the one before is applied
    makes one note: the latest limit, with what they all deleted (the first's note handed over
    once the second was set was dropped as stale, and the second found nothing more to delete:
    the first's deletion was never said)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.latest = 0  # the latest limit's request: the one whose words are said
        self.message = ""  # its words: "Stem cache limit: 2 GB."
        self.failed = ""  # why it could not be applied, in words ("": it was)
        self.pending: set[int] = set()  # the requests whose outcome is not in yet
        self.went: dict[str, int] = {}  # the entries deleted by them, by key: their bytes

    def note(self, window: MainWindow) -> str:
        """The latest limit, what the limits set with it deleted, and why it failed if so."""
        said = self.message
        if self.went:
            said += (
                f" The stems of the {counted(len(self.went), 'song')} used least recently "
                f"were deleted ({in_words(sum(self.went.values()))})."
            )
        if self.failed:
            said += f" {self.failed}"
        return said + queue_keeps(window, list(self.went))


def _limit_notes(window: MainWindow) -> _LimitNotes:
    notes = window.findChild(_LimitNotes)
    return notes if notes is not None else _LimitNotes(window)


def set_stem_cache_size(window: MainWindow, limit_gb: int) -> None:
    """Save ``limit_gb`` and apply it now: the least recently used songs past it lose their
    stems (never the song on screen), deleted on a thread (``run_cache_work``: a few songs'
    gigabytes held the window for seconds); the status bar says the limit at once, then what
    went. A limit set again before that is said with what the one set before deleted
    (``_LimitNotes``)."""
    window.settings.set(S.STEM_CACHE_GB, limit_gb)
    request = next(_LIMIT_REQUESTS)
    notes = _limit_notes(window)
    if not notes.pending:  # none being applied: what went before is said already
        notes.went.clear()
    notes.pending.add(request)
    message = f"Stem cache limit: {limit_gb} GB."
    notes.latest, notes.message, notes.failed = request, message, ""
    cache = stem_cache_of(window)
    cache.max_bytes = limit_gb * GB  # the worker's: a store running makes room by it too
    status = window.statusBar()
    status.showMessage(message, 10_000)
    keep = entry_of(window.shown_job)

    def apply() -> dict[str, int]:
        sizes = cache.sizes()
        removed = cache.evict(keep) if sum(sizes.values()) > cache.max_bytes else []
        return {key: sizes.get(key, 0) for key in removed}

    def applied(went: dict[str, int]) -> None:
        notes.pending.discard(request)
        new = went.keys() - notes.went.keys()
        notes.went.update(went)
        if request != notes.latest:
            logger.info(
                "the stem cache limit of %d GB was applied; another was set since", limit_gb
            )
            if not new or notes.latest in notes.pending:
                return  # the latest's note says it, or said it
        status.showMessage(notes.note(window), 10_000)

    def failed(words: str) -> None:
        notes.pending.discard(request)
        if request == notes.latest:
            notes.failed = words
            status.showMessage(notes.note(window), 10_000)

    run_cache_work(window, cache, apply, applied, failed, "limit")


def say_evicted(window: MainWindow, removed: list[str]) -> None:
    """The worker's store made room by deleting the entries ``removed``: the status bar says so
    when songs of the queue had their stems there (of songs not in the queue, nothing is said:
    that is what the limit is for)."""
    kept = queue_keeps(window, removed)
    if kept:
        window.statusBar().showMessage(
            "The stems of songs used least recently were deleted from the stem cache to make "
            f"room (File ▸ Stem cache size… sets its limit).{kept}",
            15_000,
        )


def queue_keeps(window: MainWindow, removed: list[str]) -> str:
    """What becomes of the songs of the queue whose stem cache entries are among ``removed``,
    in words (" In the queue, b.wav keeps its stems until..."; past three songs, counted), or ""
    for none."""
    queued = {
        job.path: job.title for job in window.controller.model.jobs if entry_of(job) in removed
    }
    if not queued:
        return ""
    # they read their stems from the files deleted until they go (as Clear says)
    names = ", ".join(queued.values()) if len(queued) <= 3 else counted(len(queued), "song")
    keep = "keeps its stems" if len(queued) == 1 else "keep theirs"
    return (
        f" In the queue, {names} {keep} until removed or the app closes, and will be separated "
        "again at the next start."
    )
