"""The main window: the queue on the left, the selected song's stems and the transport on the right.

Songs come in by drag and drop anywhere on the window (folders are searched recursively), by
File ▸ Open and from the command line. The window appears before torch loads: the engine is
imported on the worker thread, which then answers with the models and devices it found.

``MainWindow`` builds the widgets and menus and wires them. Each concern has a module of its own,
which the window creates and hands itself to: ``song_intake`` (songs opened, dropped, sent by a
later launch), ``open_folders`` (Show folder, the log folder), ``model_status`` (what is said about
models and devices), ``messages`` (the banner), ``export_commands`` (File ▸ Export),
``session_keeper`` (the queue kept between sessions), ``keyboard_focus`` (a focused button takes
Space and Return), ``menu_bar`` (the File, Playback, View and Help menus and their commands),
``screen`` (the song on screen, a failed song's page over it, or the drop hint), ``following``
(which song takes the screen as the queue moves on) and ``shown_song`` (the title's tempo and key,
the beat grid and the mixer of the song on screen).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from stemgui.ui import menu_bar, song_intake
from stemgui.ui import settings as S
from stemgui.ui.banner import Banner
from stemgui.ui.controller import QueueController
from stemgui.ui.export_commands import ExportCommands
from stemgui.ui.exporting import ExportTask
from stemgui.ui.failed_page import FailedPage
from stemgui.ui.following import Following
from stemgui.ui.keyboard_focus import KeyboardFocus
from stemgui.ui.messages import Messages
from stemgui.ui.model_status import ModelStatus
from stemgui.ui.open_folders import OpenFolders
from stemgui.ui.output_menu import chosen_output
from stemgui.ui.player import OutputFactory, Player
from stemgui.ui.queue import Job, JobState
from stemgui.ui.queue_view import QueuePanel
from stemgui.ui.screen import APP_TITLE, PageStack, Screen, title_label
from stemgui.ui.separation_menus import SeparationMenus
from stemgui.ui.separation_options import SeparatorFactory
from stemgui.ui.session_keeper import SessionKeeper
from stemgui.ui.shown_song import mixer_of
from stemgui.ui.status_bar import StatusBar
from stemgui.ui.stem_cache_size import entry_of, say_evicted
from stemgui.ui.stemview import StemPanel
from stemgui.ui.theme import Theme
from stemgui.ui.timeline import Timeline
from stemgui.ui.transport_bar import TransportBar

logger = logging.getLogger(__name__)

EMPTY_TEXT = (
    "<h2>Drop songs or folders here</h2>"
    "<p>or use <b>File ▸ Open songs…</b> — they are separated one at a time into "
    "drums, bass, other and vocals, and you can listen while it works.</p>"
)


class MainWindow(QMainWindow):
    """The app's window.

    Args:
        settings: typed settings (default: the platform's store).
        separator_factory: passed to the worker (tests inject a tiny model).
        output_factory: opens the audio output (tests pass a null output); default: on the
            device chosen in Playback ▸ Output device (``output_menu.chosen_output``).
        probe: ask the worker for models and devices at start (loads torch in the background).
    """

    def __init__(
        self,
        settings: S.Settings | None = None,
        separator_factory: SeparatorFactory | None = None,
        output_factory: OutputFactory | None = None,
        probe: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings or S.Settings()
        self.window_state = S.WindowState(self.settings.store)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1200, 760)
        self.setMinimumHeight(420)  # a stem row and two songs of the queue, whole
        self.screen = Screen(self)  # the song on screen, a failed song's page, or the hint
        self.following = Following(self)  # which song takes the screen as the queue moves on
        self.exports = ExportCommands(self)
        self.exporter = self.exports.exporter  # the smoke test and the benches wait on it
        self.messages = Messages(self)  # the banner, and what it is about
        self.intake = song_intake.SongIntake(self)  # songs opened, dropped, sent by a launch
        self.model_status = ModelStatus(self)  # what is said about models and devices
        self.folders = OpenFolders(self)  # Show folder, Help ▸ Open log folder
        self.reveal, self.open_log_folder = self.folders.reveal, self.folders.open_log_folder

        self.controller = QueueController(
            lambda: self.menus.options(),
            separator_factory,
            self,
            blocker=lambda: self.menus.wait_reason(),
            stem_cache=menu_bar.stem_cache(self.settings),
        )
        screen = self.screen  # read on the worker's thread: no Qt call, plain attributes
        self.controller.worker.on_screen = lambda: entry_of(screen.shown_job)
        self.menus = SeparationMenus(self.settings, self, self.controller.probe)
        self.timeline = Timeline(self)
        self.player = Player(self.timeline, output_factory or chosen_output(self), self)
        self.player.master_db = self.settings.get(S.MASTER_DB)
        self.theme = Theme(self.settings.get(S.THEME), self)
        self._build_widgets()
        self.session_keeper = SessionKeeper(self)  # the queue kept as it changes, and at the close
        self.menu_bar = menu_bar.MenuBar(self)  # File, Playback, View, Help
        self._connect()
        self.update_buttons()
        geometry = self.window_state.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.model_status.models_changed()
        self.messages.settings_problems()
        if probe:
            self.menus.probing = True
            self.controller.probe()

    # -- construction -----------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.queue = QueuePanel(self.controller.model)
        left = self.queue

        self.banner = Banner()
        self.song_title = title_label()  # shown with a song (``Screen``)
        self.hint = QLabel(EMPTY_TEXT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.demo_button = QPushButton("Try the demo song")
        self.demo_button.setToolTip("A 28-second song made for stemgui, shipped with it")
        self.demo_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # KeyboardFocus says why
        self.demo_button.clicked.connect(self.intake.open_demo)
        self.empty = QWidget()
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.hint)
        empty_layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(1)
        self.stems = StemPanel(self.timeline)
        # Space on a focused button presses it
        self.keyboard_focus = KeyboardFocus(self, self.stems.scroll_area)
        self.failed_page = FailedPage(self.retry_job, self.remove_job, self.open_log_folder)
        self.pages = PageStack()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.stems)
        self.pages.addWidget(self.failed_page)
        self.transport_bar = TransportBar(self.player)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 6, 6, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.song_title)
        right_layout.addWidget(self.pages, 1)
        right_layout.addWidget(self.transport_bar)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        # dragged past either side's narrowest, the handle collapsed that side: the player (its
        # stems, transport and messages) or the queue was gone, with nothing to say where
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([300, 900])
        self.setCentralWidget(splitter)
        bar = StatusBar()  # a message too long is cut in the middle, not the end
        self.setStatusBar(bar)
        self.device_label = bar.lasting("Device: —", "Separation device")  # ModelStatus
        self.playback_off = bar.lasting("Playback off", "Playback is off", first=True)  # Messages
        self.playback_off.hide()  # shown while playback is off

    def _connect(self) -> None:
        c = self.controller
        c.job_started.connect(self.following.job_started)
        c.job_progress.connect(self.following.job_progress)
        c.job_ended.connect(self.following.job_ended)
        c.job_stored.connect(self.screen.park_if_hidden)
        c.not_kept.connect(self.messages.not_kept)
        c.evicted.connect(lambda removed: say_evicted(self, removed))  # a new song made room
        m = self.model_status
        c.device_changed.connect(m.device_in_use)
        c.model.dataChanged.connect(lambda *_: m.show_device())  # a song started or ended
        c.model.dataChanged.connect(lambda *_: self.screen.song_changed())  # the hint's title
        c.probed.connect(m.probed)
        c.model_failed.connect(self.menus.model_failed)  # the songs wait, the banner says why
        self.menus.availability_changed.connect(m.models_changed)
        self.menus.device_text.connect(m.device_chosen)
        self.menus.downloaded.connect(m.downloaded)
        self.menus.checking.connect(m.checking)
        self.menus.checked.connect(m.file_checked)
        self.menus.option_changed.connect(m.option_changed)
        self.queue.current_changed.connect(self.following.selection_changed)
        self.queue.said.connect(lambda message: self.statusBar().showMessage(message, 6000))
        self.queue.connect_actions(c.cancel, self.retry_job, self.remove_job, self.reveal)
        # a song's state, and songs in and out (the last separated one removed: nothing to export)
        for changed in (c.model.dataChanged, c.model.rowsInserted, c.model.rowsRemoved):
            changed.connect(lambda *_: self.update_buttons())
        self.player.unavailable.connect(self.messages.playback_unavailable)
        # the title's tempo and key as heard; over a failed song's page, the title is its
        self.player.pace_changed.connect(
            lambda: (
                self.shown_job is not None
                and self.failed_job is None
                and self.screen.show_title(self.shown_job)
            )
        )
        # a drag refused is said until a drag is made (the song finished separating since)
        self.stems.error.connect(lambda message: self.show_error(message, about="drag"))
        self.stems.dragged.connect(lambda: self.messages.clear("drag"))
        self.stems.said.connect(self.statusBar().showMessage)  # a drag written on a thread

    # -- songs in: stemgui.ui.song_intake ---------------------------------------------------

    def add_paths(self, paths: Iterable[str | Path]) -> list[Job]:
        """Queue songs and the supported files inside folders (recursively)."""
        return self.intake.add_paths(paths)

    def take_songs(self, paths: list[Path]) -> None:
        """Songs of a later launch (``stemgui.ui.single``): queued, and the window comes up."""
        self.intake.take_songs(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.intake.drag_enter(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.intake.drag_move(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.intake.drop(event)

    # -- queue ------------------------------------------------------------------------------

    def selected_job(self) -> Job | None:
        return self.queue.selected_job()

    def select(self, job: Job) -> None:
        self.queue.select(job)

    def select_for_the_user(self, job: Job) -> None:
        """Select ``job`` because the queue moved on, not the user (``Following``)."""
        self.following.select_for_the_user(job)

    def retry_job(self, job: Job) -> None:
        """Queue a failed or cancelled song again (``Following.retry``)."""
        self.following.retry(job)

    def remove_job(self, job: Job) -> None:
        """Take a song out of the queue (``Following.remove``)."""
        self.following.remove(job)

    def update_buttons(self) -> None:
        """Enable the queue's buttons and the export actions for the queue as it is now."""
        self.queue.update_buttons()
        shown = self.shown_job
        self.menu_bar.export_action.setEnabled(shown is not None and shown.state is JobState.DONE)
        # on every progress tick of the queue: whether one is separated, not which
        done = any(job.state is JobState.DONE for job in self.controller.model.jobs)
        self.menu_bar.export_all_action.setEnabled(done)
        self.menu_bar.tempo.update()  # the song on screen's tempo: doubled, halved
        self.menu_bar.cues.update()  # its cues: set or not

    # -- the song on screen: stemgui.ui.screen ---------------------------------------------

    @property
    def shown_job(self) -> Job | None:
        """The song in the player, its stems in the panel (``Screen.shown_job``)."""
        return self.screen.shown_job

    @property
    def failed_job(self) -> Job | None:
        """The failed song whose page is on screen, or None (``Screen.failed_job``)."""
        return self.screen.failed_job

    def show_job(self, job: Job | None) -> None:
        """Show ``job``'s stems (None: the drop hint) and load it into the player
        (``Screen.show_job``)."""
        self.screen.show_job(job)

    def mixer_of(self, job: Job) -> Any:
        """The song's ``MixerState`` (``shown_song.mixer_of``)."""
        return mixer_of(job, lambda text: self.statusBar().showMessage(text, 8000))

    # -- out: stemgui.ui.export_commands ----------------------------------------------------

    def export_job(self, job: Job, request: Any) -> ExportTask | None:
        """Write ``request`` for ``job`` on a thread, asking before replacing files."""
        return self.exports.export_job(job, request)

    # -- messages: stemgui.ui.messages ------------------------------------------------------

    @property
    def message(self) -> str:
        """The last error said in the banner."""
        return self.messages.message

    def show_error(self, message: str, about: object = None, actions: Any = None) -> None:
        """An error in plain words, in the banner (``Messages.show_error``)."""
        self.messages.show_error(message, about, actions)

    # -- start-up and help ------------------------------------------------------------------

    def schedule_cleanup(self) -> None:
        """Remove what killed runs left (temporary export files, scratch stems) and stems
        dragged out a week ago once the event loop runs, after the first paint, on a thread
        (``stemgui.ui.startup``)."""
        QTimer.singleShot(0, self.start_cleanup)

    def start_cleanup(self) -> Any:
        """Start the start-up cleanup now; returns its ``threading.Thread``."""
        from stemgui.ui.startup import start_window_cleanup

        return start_window_cleanup(self.settings.get(S.EXPORT_FOLDER))

    # -- the session: stemgui.ui.session_keeper ---------------------------------------------

    def save_session(self) -> None:
        """Keep the queue for the next start (``SessionKeeper.save``)."""
        self.session_keeper.save()

    def restore_session(self) -> list[Job]:
        """Queue the songs of the last session again (``SessionKeeper.restore``)."""
        return self.session_keeper.restore()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.intake.stop_listening()  # first: no song may join the queue once it is saved
        self.window_state.save(self.saveGeometry(), self.saveState())
        self.session_keeper.close()
        self.settings.set(S.MASTER_DB, self.player.master_db)
        if self.menus.dialog is not None:
            self.menus.dialog.close()  # cancels a download; it resumes next time
        self.player.unload()
        if self.controller.worker.storing.is_set():  # gone from the screen while it ends
            self.hide()
        self.controller.shutdown()
        if self.exporter.tasks:  # the window goes now; the files are finished before the end
            self.hide()  # (it stood unanswering for the whole export: 13 s for a 90 s song)
            self.exporter.wait_all()
        super().closeEvent(event)
