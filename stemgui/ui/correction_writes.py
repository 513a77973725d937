"""The user's corrections of a song's tempo and key (and its cues: ``cues_menu``) kept with its
stems on a thread of their own: each write rewrites and syncs the song's stem cache entry (about
12 ms, more on a slow disk), which held up the GUI thread (and a cache object made there on
first use removed dead runs' leftovers there too).

Tap tempo (``tap_tempo``) makes every tap from the fourth on the song's tempo, and the fit of
each run of taps to the song another: their writing waits until no tap came for ``SETTLE_MS``
(``later``). Double, Halve, Move the beat grid, Reset and the key's items are written at once
(``now``), dropping the taps' waiting for the entry. Either way the song's correction as it is
then is written on the one writing thread, one write after another in the order asked, so that
the last correction made is the one kept; those not written yet are written as the window
closes, before it goes (``finish``, called by ``TempoMenu.finish`` once the halvings and fits of
taps being worked out are taken), for at most ``WRITE_WAIT_S``: a disk that does not answer does
not hold the close, and the log names each song whose correction was not written by then. The
thread is a daemon, so such a write does not hold the app's exit either
(``StemCache.update_info`` leaves the entry as it was). Where one cannot be kept, the status bar
says so (``written``).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from stemgui.ui.tempo_menu import TempoMenu

logger = logging.getLogger(__name__)

SETTLE_MS = 1000
"""How long after the last tap the song's correction is written."""

WRITE_WAIT_S = 5.0
"""How long the close waits for the corrections being written (one takes about 12 ms)."""


def kept_problem(cache: Any, entry: str, fields: dict[str, Any], path: Any) -> str:
    """Write ``fields`` into ``cache``'s entry ``entry`` (the song at ``path``'s); "" or a
    sentence saying why the correction holds for this session only, and what to do. Touches
    no Qt: called on any thread."""
    try:
        kept = cache.update_info(entry, fields)
    except OSError as error:
        logger.warning("%s: the correction could not be kept: %s", path, error)
        return (
            f" It holds for this session only: it could not be written to the stem cache "
            f"folder {cache.root} ({error.strerror or error}); make it writable, then "
            "make the correction again."
        )
    if not kept:
        return (
            " It holds for this session only: the song's stems left the stem cache (cleared, "
            "or deleted to stay under its size limit); add the song again to keep its stems, "
            "then make the correction again."
        )
    return ""


class CorrectionWrites(QObject):
    """The thread writing the user's corrections, one after another, and the entries whose
    correction waits for the taps to settle.

    Signals:
        written(job, said, problem): from the writing thread, where ``job``'s correction could
            not be kept: ``problem`` says why (``kept_problem``), after ``said``, what the status
            bar said of the correction ("": it was a tap's, said long ago).
    """

    written = Signal(object, str, str)

    def __init__(self, menu: TempoMenu) -> None:
        super().__init__(menu)
        self.menu = menu
        self._pending: dict[str, Any] = {}  # entry -> the job whose correction it waits for
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self.flush)
        self._lock = threading.Lock()
        self._queue: deque[Callable[[], None]] = deque()  # the writes asked, not started
        self._running = False  # whether the writing thread runs (it ends when none is asked)
        self._writes: list[tuple[Any, futures.Future[None]]] = []  # (job, its write), in order
        self.written.connect(menu.say_unkept)  # queued: emitted on the writing thread

    def later(self, job: Any, entry: str) -> None:
        """Write ``job``'s correction into ``entry`` once no other came for ``SETTLE_MS``."""
        self._pending[entry] = job
        self._timer.start()

    def now(self, job: Any, entry: str, said: str = "") -> None:
        """Start writing ``job``'s correction into ``entry`` (after those being written), in
        place of the one waiting for the taps to settle; ``said``: what the status bar said of
        it."""
        self._pending.pop(entry, None)
        self._submit(job, entry, said)

    def flush(self) -> None:
        """Start writing the corrections waiting, each as its song has it now."""
        self._timer.stop()
        pending, self._pending = self._pending, {}
        for entry, job in pending.items():
            self._submit(job, entry, "")

    def _submit(self, job: Any, entry: str, said: str) -> None:
        """Write ``job``'s correction as it is now on the writing thread, after the others."""
        from stemgui.stems.analysis import edit_info
        from stemgui.ui.stem_cache_size import stem_cache_of

        if job.analysis is None:
            return
        fields = edit_info(job.analysis.edit) | job.waveforms.cues.to_info()  # and its cues
        cache = stem_cache_of(self.menu.window)  # made here: it touches no disk yet
        done: futures.Future[None] = futures.Future()

        def write() -> None:
            try:
                self._write(job, cache, entry, fields, said)
            finally:
                done.set_result(None)

        self._writes = [(each, future) for each, future in self._writes if not future.done()]
        self._writes.append((job, done))
        with self._lock:
            self._queue.append(write)
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._drain, name="stemgui-corrections", daemon=True).start()

    def _drain(self) -> None:
        """The writing thread: the writes asked, one after another, until none is left."""
        while True:
            with self._lock:
                if not self._queue:
                    self._running = False
                    return
                write = self._queue.popleft()
            write()

    def wait(self, timeout: float | None = None) -> list[Any]:
        """Wait for the corrections being written, at most ``timeout`` seconds (None: as long as
        they take); the jobs whose correction is not written by then, in the order asked (one
        thread: the last asked ends last)."""
        if self._writes:
            futures.wait([self._writes[-1][1]], timeout)
        return [job for job, future in self._writes if not future.done()]

    def _write(self, job: Any, cache: Any, entry: str, fields: dict[str, Any], said: str) -> None:
        try:
            problem = kept_problem(cache, entry, fields, job.path)
        except Exception:  # a bug: logged here, not raised again by ``wait`` at the close
            logger.exception("%s: writing its tempo or key correction failed", job.path)
            problem = " It holds for this session only: keeping it failed (details in the log)."
        if not problem:
            return
        try:
            self.written.emit(job, said, problem)
        except RuntimeError:  # the window closed meanwhile: logged by kept_problem
            logger.debug("%s: the correction was written after the window closed", job.path)

    def finish(self) -> None:
        """Write the corrections waiting now, and wait for them (the window closes), at most
        ``WRITE_WAIT_S``; log each song whose correction is not written by then."""
        self.flush()
        for job in self.wait(WRITE_WAIT_S):
            logger.warning(
                "%s: its tempo or key correction was not written to the stem cache within %g s "
                "as the window closed (the disk did not answer): unless it answers before the "
                "app ends, make the correction again at the next start",
                job.path,
                WRITE_WAIT_S,
            )
