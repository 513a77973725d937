"""What the right side of the window shows: the song on screen, a failed song's page over it, or
the drop hint.

The song on screen (``shown_job``) has its stems in the stem panel and its name, state, tempo and
key in the title, and is loaded in the player where it was left, with its beat grid on the
waveforms. A failed song's page (``failed_job``) goes over it: the song stays loaded, and playing,
under the page, which names it. With no song, the drop hint and the demo song's button, and no title
(``title_label``: hidden, not an empty line). The window's title names the song whose name is over
the page ("Night Drive — stemgui"), "stemgui" alone with none. A finished song taken off screen is
parked (``QueueController.park``): it reads its stems from the stem cache, not from RAM. Which song
is shown as the queue moves on is decided in ``following``; the words of the title, the beat grid
and the mixer are worked out in ``shown_song``. ``Screen`` lives on the GUI thread, a child of the
window; the pages are in a ``PageStack``. The keyboard focus in a page that leaves the screen (or on
the demo song's button as it hides) goes to the queue, where Space plays: Qt gave it to the next
control in the chain, the original mix's S, which a keyboard user's next Space soloed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtWidgets import QApplication, QLayoutItem, QStackedLayout, QWidget

from stemgui.ui import settings as S
from stemgui.ui.elided import ElidedLabel
from stemgui.ui.place import Place
from stemgui.ui.queue import Job, JobState
from stemgui.ui.shown_song import beat_grid, cue_frames, title_found, title_model
from stemgui.ui.song_intake import demo_song

if TYPE_CHECKING:
    from stemgui.ui.drag_part import DragPart
    from stemgui.ui.window import MainWindow

APP_TITLE = "stemgui"  # the window's title with no song on screen, after the song's with one


def title_label() -> ElidedLabel:
    """The title over the pages, in bold; hidden until a song is on screen (over the drop hint
    it took 18 px, an empty line)."""
    label = ElidedLabel()
    label.setStyleSheet("font-size: 15px; font-weight: bold;")
    label.hide()
    return label


class _PageOnScreen(QStackedLayout):
    """A stacked layout that asks for the room of the page on screen, not of its biggest."""

    def _page(self) -> QLayoutItem | None:
        return self.itemAt(self.currentIndex())  # its size policy and margins counted

    def sizeHint(self) -> QSize:
        page = self._page()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSize(self) -> QSize:
        page = self._page()
        return page.minimumSize() if page is not None else super().minimumSize()

    def hasHeightForWidth(self) -> bool:
        page = self._page()
        return page is not None and page.hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:
        page = self._page()
        return page.heightForWidth(width) if page is not None else -1


class PageStack(QWidget):
    """The right side's pages (the drop hint, the stems, a failed song's page), one on screen at
    a time, which alone sets the room asked for. A ``QStackedWidget`` asks for its biggest
    page's: the failed song's page's 174 px over the drop hint left the banner above it 141 of
    the 154 px its words needed at the window's smallest, and their last line was cut."""

    def __init__(self) -> None:
        super().__init__()
        self._pages = _PageOnScreen(self)
        self._pages.currentChanged.connect(lambda _: self.updateGeometry())  # its hints changed

    def addWidget(self, page: QWidget) -> None:
        self._pages.addWidget(page)

    def currentWidget(self) -> QWidget | None:
        return self._pages.currentWidget()

    def currentIndex(self) -> int:
        return self._pages.currentIndex()

    def setCurrentWidget(self, page: QWidget) -> None:
        self._pages.setCurrentWidget(page)

    def setCurrentIndex(self, index: int) -> None:
        self._pages.setCurrentIndex(index)


class Screen(QObject):
    """Puts a song, a failed song's page or the drop hint on the right side of the window.

    Args:
        window: the main window: its pages, title, stem panel, player and controller.

    Attributes:
        shown_job: the song in the player, its stems in the panel, or None.
        failed_job: the failed song whose page is on screen over it, or None.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.shown_job: Job | None = None
        self.failed_job: Job | None = None
        self._hint_job: Job | None = None  # the song named in the hint's place, if any
        # (the song shown, its file's tags): read at its first drag, not at every press and
        # drag of every stem; again once it is shown again (its file may be tagged since)
        self._song_tags: tuple[Job, dict[str, str]] | None = None

    def show_job(self, job: Job | None) -> None:
        """Show ``job``'s stems (None: the drop hint) and load it into the player; a failed
        song's page on screen stays over them, naming the song now loaded."""
        window = self.window
        if job is self.shown_job and (job is None or window.stems.stemset is job.stemset):
            return
        previous, self.shown_job = self.shown_job, job
        window.controller.model.set_shown(job)  # its row in bold: a waiting one may be selected
        if previous is not None and window.player.loaded:  # back to it later: as it was
            previous.place = Place.taken(window.player)
        if job is None or job.stemset is None:
            window.player.unload()
            window.stems.clear()
            if self.failed_job is None:
                self.show_hint(job)
            window.update_buttons()
        else:
            self._show_stems(job)
        if self.failed_job is not None:
            window.failed_page.show_loaded(self.shown_job)
        if previous is not None and previous is not job:
            self.park_if_hidden(previous)

    def show_failed(self, job: Job) -> None:
        """A failed song's page: its name, why and what to do. The song loaded stays loaded
        (and playing) under it."""
        window = self.window
        self.failed_job = job
        window.failed_page.show_failed(job)
        window.failed_page.show_loaded(self.shown_job)
        self._title(job.path.stem, "  (failed)")
        self._turn_to(window.failed_page)
        window.update_buttons()

    def leave_failed(self) -> None:
        """Back from a failed song's page to the song loaded (or the hint, with none)."""
        if self.failed_job is None:
            return
        self.failed_job = None
        shown = self.shown_job
        if shown is not None and shown.stemset is not None:
            self._turn_to(self.window.stems)
            self.show_title(shown)
        else:
            self.show_hint()

    def show_hint(self, waiting: Job | None = None) -> None:
        """The drop hint, with the demo song's button where the demo ships; no title. With
        ``waiting``, a song on screen whose stems are not begun (retried, say): its title, and
        in the hint's place its name and that its stems come (not "Drop songs here")."""
        from html import escape

        from stemgui.ui.window import EMPTY_TEXT

        window = self.window
        self._hint_job = waiting
        window.hint.setText(
            EMPTY_TEXT
            if waiting is None
            else f"<h2>{escape(waiting.path.name)}</h2><p>Its stems show here as it is "
            "separated.</p>"
        )
        demo = waiting is None and demo_song() is not None
        if not demo:
            self._focus_from(window.demo_button)
        window.demo_button.setVisible(demo)
        self._turn_to(window.empty)
        if waiting is None:
            window.song_title.clear()
            window.song_title.hide()
            window.setWindowTitle(APP_TITLE)
        else:
            self.show_title(waiting)

    def song_changed(self) -> None:
        """A song of the queue changed: the one named in the hint's place keeps its state in
        the title current ("waiting: looking for models…" stayed over "loading model")."""
        job, window = self._hint_job, self.window
        hint = window.pages.currentWidget() is window.empty and self.shown_job is None
        if job is not None and hint and self.failed_job is None:
            self.show_title(job)

    def _turn_to(self, page: QWidget) -> None:
        """``page`` on screen, the focus in the one it replaces handed to the queue."""
        pages = self.window.pages
        if pages.currentWidget() is not page:
            self._focus_from(pages.currentWidget())
        pages.setCurrentWidget(page)

    def _focus_from(self, leaving: QWidget | None) -> None:
        """The keyboard focus in ``leaving`` (about to be hidden) to the queue, where Space
        plays; elsewhere it stays."""
        focused = QApplication.focusWidget()
        if (
            leaving is not None
            and focused is not None
            and (focused is leaving or leaving.isAncestorOf(focused))
        ):
            self.window.queue.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_title(self, job: Job) -> None:
        """The song's name without its extension, its tempo and key, the model, the state:
        short of room, the model gives way first (the queue row names it too), then the middle
        of the name; the tempo and key as heard stay (they went with the model: a long name
        at the window's default size lost them)."""
        player = self.window.player
        found = title_found(job, player.speed, player.semitones)
        state = "" if job.state is JobState.DONE else f"  ({job.status_text()})"
        self._title(job.path.stem, state, title_model(job), found)

    def _title(self, text: str, tail: str, aside: str = "", kept: str = "") -> None:
        self.window.song_title.setText(text, tail, aside=aside, kept=kept)
        self.window.song_title.show()
        self.window.setWindowTitle(f"{text} — {APP_TITLE}")  # as desktop apps name a document

    def show_beats(self, job: Job) -> None:
        """The song's beat grid on its waveforms, where it keeps a steady one, and its cues."""
        self.window.timeline.set_beats(beat_grid(job))
        self.window.timeline.set_cues(cue_frames(job))

    def park_if_hidden(self, job: Job) -> None:
        """A finished song off screen reads its stems from the stem cache, not from RAM (not
        while the same song, added again, is on screen: its player holds those stems)."""
        shown = self.shown_job
        if job is not shown and (shown is None or shown.stemset is not job.stemset):
            self.window.controller.park(job)

    def _show_stems(self, job: Job) -> None:
        window = self.window
        window.stems.show_song(job.stemset, window.mixer_of(job), job.path.stem, job.waveforms)
        self._song_tags = None
        window.stems.drag_rate = lambda: self._export_rate(job)  # dragged as exported
        window.stems.drag_part = window.exports.drag_part  # the export dialog's last ticks
        window.stems.drag_tags = lambda name, part: self._drag_tags(job, name, part)
        # the song, not its stems: left, it reads the stem cache's copy of them (``park``)
        window.stems.drag_source = lambda: job.cache_key
        window.stems.drag_song = lambda: job.path  # the original mix: the song file itself
        gains = [row.gain for row in window.stems.rows.values() if row.gain is not None]
        if gains:  # Tab: the stems' controls, then the transport below them (not before)
            window.transport_bar.follow_in_tab_order(gains[-1])
        window.player.load(job.stemset, job.mixer, separating=job.state is JobState.SEPARATING)
        self.show_beats(job)
        if job.place is not None:  # where it was left: playhead, loop, zoom, speed, key
            job.place.put(window.player)  # (inside it: a file changed since may be shorter)
        else:  # a song shown for the first time: at its own pace and key
            window.player.set_pace()
        if self.failed_job is None:  # else under a failed song's page, until it is left
            self._turn_to(window.stems)
            self.show_title(job)
        window.update_buttons()

    def _drag_tags(self, job: Job, name: str, part: DragPart) -> dict[str, str]:
        """The tags of ``job``'s stem ``name`` dragged out as ``part`` of the song, as an
        export of it gives them: the song's, the stem and the part in the title, its tempo and
        key at the part's pace; the song's read from its file once while it is shown."""
        from stemgui.audio.tags import read_tags, stem_tags
        from stemgui.export.exporter import tempo_and_key
        from stemgui.ui.export_targets import model_of

        if self._song_tags is None or self._song_tags[0] is not job:
            self._song_tags = job, read_tags(job.path)
        song = self._song_tags[1]
        tags = stem_tags(song, name, str(job.path), model_of(job), part.label)
        return tags | tempo_and_key(job.analysis, part.pace)

    def _export_rate(self, job: Job) -> int | None:
        """The rate the export dialog offers first for ``job``'s stems: its song's own when the
        settings say so and its file can be read, else None (the stems' own)."""
        from stemgui.export.rates import song_rate

        return song_rate(job.path) if self.window.settings.get(S.EXPORT_RATE) == "song" else None
