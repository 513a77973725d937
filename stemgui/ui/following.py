"""How the window follows the queue: which song takes the screen as songs are selected, start,
separate further, end, are retried or removed, and when a failed song's page comes and goes.

A song selected is shown; a failed one shows why on its own page, over the song loaded, which
plays on (a DJ scanning the queue keeps the track playing). A song starting is shown when
nothing is on screen, but not over a failed song the user chose to read, nor before the song a
restored session awaits. A failure that is not on its page is said in the banner. Removing a
song keeps another on screen shown and selected. ``Following`` answers the queue panel's and
the ``QueueController``'s signals and puts songs on screen through the window (``screen`` shows
them); it lives on the GUI thread, a child of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from stemgui.ui.queue import Job, JobState

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow


class Following(QObject):
    """Keeps the window's screen on the song the queue and the user are at.

    Args:
        window: the main window: its queue, screen, player, banner and controller.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._by_hand = True  # a selection is the user's unless select_for_the_user makes it
        self._keep_shown = False  # a row of another song is being removed: no new song shown
        self._failed_chosen = False  # the user selected the failed song on screen

    def select_for_the_user(self, job: Job) -> None:
        """Select ``job`` because the queue moved on, not the user (a banner stays)."""
        self._by_hand = False
        try:
            self.window.select(job)
        finally:
            self._by_hand = True

    def selection_changed(self, job: Job | None) -> None:
        """The queue panel's ``current_changed``: show the song selected (a failed one, its
        page; a waiting one, the song loaded or the hint)."""
        window = self.window
        window.update_buttons()
        if self._keep_shown:
            return
        if self._by_hand and isinstance(window.messages.about, Job):
            window.messages.clear(window.messages.about)  # read on its page, or moved on from
        if job is not None and job.state is JobState.FAILED:
            # why, on its own page (over the song loaded, which plays on: a DJ scanning the
            # queue keeps the track playing)
            self._show_failed(job, chosen=self._by_hand)
            return
        window.screen.leave_failed()
        if job is not None and job.stemset is not None:
            window.show_job(job)
        elif window.shown_job is None:  # a waiting song: the hint, untitled, but for one the
            # queue selected as it came in: its name, its stems to come there (the drop hint and
            # Try the demo song stayed, as if nothing had been added, after Try the demo song
            # was pressed); one selected by hand (to move it) leaves the screen as it is
            added = job is not None and not self._by_hand and not job.state.ended
            window.screen.show_hint(job if added else None)

    def job_started(self, job: Job) -> None:
        """The controller's ``job_started``: the song is shown when selected or when the screen
        is free for it."""
        window = self.window
        window.messages.clear(job)  # retried
        # a song starting is shown when nothing is on screen, but not over a failed song
        # the user is reading (a failure the queue showed by itself gives way)
        reading = window.failed_job is not None and self._failed_chosen
        awaited = window.controller.awaited in (None, job)  # not before the song last shown
        if window.selected_job() is job or (window.shown_job is None and not reading and awaited):
            left = window.failed_job
            self.select_for_the_user(job)
            window.show_job(job)
            if left is not None and left.state is JobState.FAILED:
                self._say_failed(left)  # its page gave way: the banner still says it

    def job_progress(self, job: Job) -> None:
        """The controller's ``job_progress``: the song on screen's stems and title move on; its
        stems gone (held for another model), it is shown as not begun."""
        window = self.window
        if job is window.shown_job and window.stems.stemset is not job.stemset:
            window.show_job(job)
        elif job is window.shown_job:
            window.stems.update_ready()
            if window.failed_job is None:  # a failed song's page keeps its name on top
                window.screen.show_title(job)

    def job_ended(self, job: Job) -> None:
        """The controller's ``job_ended``: what was made plays on; a failure is said."""
        window = self.window
        if job.state is JobState.DONE:
            window.statusBar().showMessage(f"{job.title}: separated.", 5000)
        on_screen = job is window.shown_job or job is window.selected_job()
        if job is window.shown_job:
            cancelled = job.state is JobState.CANCELLED and job.stemset is not None
            if job.state is not JobState.DONE and not cancelled:
                window.show_job(None)  # a failed song's stems are not played on
            elif window.stems.stemset is job.stemset:  # done, or cancelled: what was made plays
                window.stems.update_ready()
                window.player.separation_ended()
                window.screen.show_beats(job)  # estimated at the end
                if window.failed_job is None:
                    window.screen.show_title(job)
            else:  # new stems (two-stem mode): shown in place; playhead, loop and play go on
                player = window.player
                transport = player.transport if player.loaded else None
                playing = transport is not None and transport.playing
                if playing:  # the old output claims no more frames: none is heard twice
                    transport.pause()
                window.show_job(job)  # at its place (show_job keeps it)
                if playing:
                    player.toggle()
        if job.state is JobState.FAILED:
            if on_screen and window.failed_job is None:  # not over the failed song being read
                self._show_failed(job, chosen=False)
            if job is not window.failed_job:
                self._say_failed(job)  # in the banner, unless its page says it
        window.update_buttons()

    def retry(self, job: Job) -> None:
        """Queue a failed or cancelled song again; its page goes, its name and state stay."""
        window = self.window
        shown = job is window.shown_job
        if shown:  # what a cancel left goes (its stems file too): not played or shown on
            window.show_job(None)
        read = job is window.failed_job
        if window.controller.retry(job):
            if read:  # waiting now: the song loaded comes back, if any
                window.screen.leave_failed()
            if shown or (read and window.shown_job is None):  # its name and state stay
                if window.failed_job is None:
                    window.screen.show_hint(job)  # its stems come there, not "Drop songs"
                else:
                    window.screen.show_title(job)
            return
        if shown:
            window.show_job(job)  # refused: as it was
        if job.state.ended:
            window.statusBar().showMessage(
                f"{job.path.name} is already waiting or separating in another row.", 5000
            )

    def remove(self, job: Job) -> None:
        """Take a song out of the queue; another song on screen stays shown and selected."""
        window = self.window
        window.messages.clear(job)  # its failure, if it failed
        if job is window.failed_job:  # its page goes with it: back to the song loaded, if any
            window.screen.leave_failed()
        shown = window.shown_job
        if job is shown or shown is None:
            window.show_job(None)
            window.controller.remove(job)  # the selection moves on: that song is shown
            return
        # Another song is on screen (playing, perhaps): Qt moves the selection to a neighbour of
        # the removed row, which the user did not choose; the song shown stays, selected again.
        self._keep_shown = True
        try:
            window.controller.remove(job)
        finally:
            self._keep_shown = False
        if shown in window.controller.model.jobs:
            self.select_for_the_user(shown)

    def _show_failed(self, job: Job, chosen: bool) -> None:
        """A failed song's page over the song loaded (``Screen.show_failed``); ``chosen``: the
        user selected it, and it stays until they select another (a song starting does not
        replace it)."""
        self._failed_chosen = chosen
        self.window.screen.show_failed(job)

    def _say_failed(self, job: Job) -> None:
        window = self.window
        window.show_error(
            f"{job.title}: {job.reason}",
            about=job,
            actions=[
                ("Remove", lambda: window.remove_job(job)),
                ("Open log folder", window.open_log_folder),
            ],
        )
