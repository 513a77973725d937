"""The window's side of the queue kept between sessions (``stemgui.ui.session``): saved a second
after it changes and at the close, queued again at the start with what was left out said; songs
not found (a drive not connected) are kept and looked for again.

``SessionKeeper`` lives on the GUI thread, a child of the window. Look again is the banner's button
and File ▸ Look again for missing songs (``menu_bar``), which ``waiting_changed`` keeps enabled
while some songs wait: damaged settings can hold the banner, and its × closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from stemgui.ui import session
from stemgui.ui.elided import counted
from stemgui.ui.place import Place
from stemgui.ui.queue import Job, song_file

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

SESSION_SAVE_MS = 1000  # the queue is saved this long after it changed (and at the close)
LOOK_AGAIN = "Look again for missing songs"  # in the File menu


class SessionKeeper(QObject):
    """Keeps the window's queue for the next start and brings it back.

    Args:
        window: the main window: its settings, controller, player, song on screen and banner.
    """

    waiting_changed = Signal(int)  # ``waiting``, when it changes

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._gone: list[dict] = []  # see ``gone``
        # the queue kept as it changes, not only at the close: a crash or a power cut lost the
        # session's songs, and the queue of the session before came back
        self._timer = QTimer(self, singleShot=True, interval=SESSION_SAVE_MS)
        self._timer.timeout.connect(self.save)
        c = window.controller
        for changed in (
            c.model.rowsInserted,
            c.model.rowsRemoved,
            c.model.rowsMoved,
            c.job_ended,
            c.job_stored,  # and kept, just after: found without the model at the next start
        ):
            changed.connect(lambda *_: self._timer.start())

    @property
    def gone(self) -> list[dict]:
        """The entries of songs not found at the start (a drive not connected): kept in the
        session as they were, looked for again (``look_again``) until found or forgotten."""
        return self._gone

    @gone.setter
    def gone(self, entries: list[dict]) -> None:
        before = self.waiting
        self._gone = entries
        if self.waiting != before:
            self.waiting_changed.emit(self.waiting)

    @property
    def waiting(self) -> int:
        """How many songs not found wait to be looked for again (each file once)."""
        return len(self._waiting_paths())

    def _waiting_paths(self) -> list[str]:
        return list(dict.fromkeys(entry["path"] for entry in self._gone))

    def save(self) -> None:
        """Keep the queue for the next start (``stemgui.ui.session``), with where the song on
        screen is left: it is shown again there."""
        window = self.window
        if window.shown_job is not None and window.player.loaded:
            window.shown_job.place = Place.taken(window.player)
        session.save(window.settings, window.controller.model.jobs, window.shown_job, self.gone)

    def close(self) -> None:
        """The window closes: the queue is saved now, not a second later."""
        self._timer.stop()
        self.save()

    def restore(self) -> list[Job]:
        """Queue the songs of the last session again, each with its mix: the separated ones'
        stems come from the stem cache at once; the song shown at the close is shown again,
        each where it was left. Files not found are kept for later (``gone``), and said."""
        window = self.window
        jobs, shown, damaged, self.gone = session.load(window.settings)
        said = []
        if damaged:
            said.append(
                f"{counted(damaged, 'song')} of the last session could not be read and left out."
            )
        taken = window.banner.isVisibleTo(window)  # damaged settings, said there first
        if self.gone:  # they vanished from the queue without a word
            said.append(self._waiting(in_banner=not taken))
        if said:  # in the banner, which stays: in the status bar, the songs coming back ("a.wav:
            # separated.") and those added at the start ("Added 1 song") replaced it at once
            if taken:  # without the banner's buttons: File ▸ Look again for missing songs
                window.statusBar().showMessage(" ".join(said), 15_000)
            else:
                window.messages.show(" ".join(said), "session", self._actions())
        return self._queue(jobs, shown)

    def look_again(self) -> list[Job]:
        """Look again for the songs not found (a drive plugged in since): those found are
        queued as they were saved, but not those in the queue already (opened again since:
        they were queued twice); the others wait on. Says which. The song on screen at the
        close, found so, is shown again when nothing else is (or coming); else its mark goes."""
        window = self.window
        jobs, shown, _, self.gone = session.read(self.gone)
        queued = {song_file(job.path) for job in window.controller.model.jobs if not job.removed}
        again = [job for job in jobs if song_file(job.path) in queued]
        jobs = [job for job in jobs if job not in again]
        screen_free = (
            window.shown_job is None
            and window.failed_job is None
            and window.controller.awaited is None
        )
        found = self._queue(jobs, shown if shown in jobs and screen_free else None)
        if self.gone:
            window.messages.show(self._waiting(), "session", self._actions())
        else:
            window.messages.clear("session")
        window.statusBar().showMessage(
            f"Found {counted(len(found) + len(again), 'song')} of the last session"
            f"{f' ({len(again)} in the queue already)' if again else ''}; "
            f"{counted(len(self.gone), 'song')} still not found.",
            10_000,
        )
        self.save()
        return found

    def _queue(self, jobs: list[Job], shown: Job | None) -> list[Job]:
        """Queue a session's songs found (``QueueController.restore``); ``shown``, the one on
        screen at the close, is selected and shown when its stems come (awaited)."""
        window = self.window
        restored = window.controller.restore(jobs, shown) if jobs else []
        if shown is not None:  # on its way: selected, shown when its stems come
            window.select_for_the_user(shown)
        return restored

    def forget_gone(self) -> None:
        """Stop looking for the songs not found: they leave the session."""
        self.gone = []
        self.window.messages.clear("session")
        self.save()

    def _waiting(self, in_banner: bool = True) -> str:
        """What the banner (or the status bar, without its buttons) says of the songs not
        found (``gone``)."""
        paths = self._waiting_paths()
        names = ", ".join(Path(p).name for p in paths) if len(paths) <= 3 else ""
        then = (
            "press Look again, or Forget them and open them again from where they are now"
            if in_banner
            else f"choose File ▸ {LOOK_AGAIN}"
        )
        return (
            f"{counted(len(paths), 'song')} of the last session not found, waiting for their "
            f"drive (or moved or deleted){': ' + names if names else ''}. They come back when "
            f"found at the next start: connect the drive and {then}."
        )

    def _actions(self) -> list[tuple[str, Callable[[], object]]]:
        return [("Look again", self.look_again), ("Forget them", self.forget_gone)]
