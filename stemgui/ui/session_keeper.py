"""The window's side of the queue kept between sessions (``stemgui.ui.session``): saved a second
after it changes and at the close, queued again at the start with what was left out said.

``SessionKeeper`` lives on the GUI thread, a child of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from stemgui.ui import session
from stemgui.ui.elided import counted
from stemgui.ui.place import Place
from stemgui.ui.queue import Job

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

SESSION_SAVE_MS = 1000  # the queue is saved this long after it changed (and at the close)


class SessionKeeper(QObject):
    """Keeps the window's queue for the next start and brings it back.

    Args:
        window: the main window: its settings, controller, player, song on screen and banner.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
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

    def save(self) -> None:
        """Keep the queue for the next start (``stemgui.ui.session``), with where the song on
        screen is left: it is shown again there."""
        window = self.window
        if window.shown_job is not None and window.player.loaded:
            window.shown_job.place = Place.taken(window.player)
        session.save(window.settings, window.controller.model.jobs, window.shown_job)

    def close(self) -> None:
        """The window closes: the queue is saved now, not a second later."""
        self._timer.stop()
        self.save()

    def restore(self) -> list[Job]:
        """Queue the songs of the last session again, each with its mix: the separated ones'
        stems come from the stem cache at once; the song shown at the close is shown again,
        each where it was left. Files gone since are left out, and said."""
        window = self.window
        jobs, shown, damaged, gone = session.load(window.settings)
        said = []
        if damaged:
            said.append(
                f"{counted(damaged, 'song')} of the last session could not be read and left out."
            )
        if gone:  # they vanished from the queue without a word
            names = (
                ", ".join(p.name for p in gone) if len(gone) <= 3 else counted(len(gone), "song")
            )
            said.append(
                "Not found where they were (moved, deleted, or on a drive not connected), left "
                f"out of the last session's queue: {names}. Open them again from where they are "
                "now."
            )
        if said:  # in the banner, which stays: in the status bar, the songs coming back ("a.wav:
            # separated.") and those added at the start ("Added 1 song") replaced it at once
            if window.banner.isVisibleTo(window):  # damaged settings, said there first
                window.statusBar().showMessage(" ".join(said), 15_000)
            else:
                window.messages.show(" ".join(said), "session", [])
        restored = window.controller.restore(jobs, shown) if jobs else []
        if shown is not None:  # on its way: selected, shown when its stems come
            window.select_for_the_user(shown)
        return restored
