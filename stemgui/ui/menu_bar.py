"""The window's File, Playback, View and Help menus, and the commands only they give: the
theme, snapping loops to beats, keeping and clearing the stem cache and its size (its dialog:
``stem_cache_size``), zoom (in View), the help pages. The corrections of the song's tempo and
beat grid are ``tempo_menu``'s, the key the user sets ``key_menu``'s, the cues ``cues_menu``'s.

The Model, Device and Quality menus, between Playback and View, are ``separation_menus``'.
Every action is added to the window as well, so that its shortcut works while the menu bar is
hidden; Help ▸ Keyboard and mouse (``shortcuts``) lists them from there.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from stemgui.sizes import in_words
from stemgui.ui import settings as S
from stemgui.ui.cues_menu import CuesMenu
from stemgui.ui.elided import counted
from stemgui.ui.key_menu import KeyMenu
from stemgui.ui.mnemonics import with_mnemonic
from stemgui.ui.output_menu import OutputMenu
from stemgui.ui.queue import Job, JobState
from stemgui.ui.session_keeper import LOOK_AGAIN
from stemgui.ui.stem_cache_size import ask_stem_cache_size, stem_cache_of, stem_cache_on_disk
from stemgui.ui.stem_cache_tasks import run_cache_work
from stemgui.ui.tempo_menu import TempoMenu
from stemgui.ui.theme import THEMES

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow


def stem_cache(settings: S.Settings) -> Any:
    """The on-disk cache of separated stems ``settings`` ask for (a ``StemCache``), or None."""
    return stem_cache_on_disk(settings) if settings.get(S.KEEP_STEMS) else None


class MenuBar(QObject):
    """Fills the window's menu bar; holds the actions whose state changes (``export_action``
    and ``export_all_action``, enabled by ``MainWindow.update_buttons``; the checkable ones).

    Args:
        window: the main window: its menu bar, and what the commands act on.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.theme_actions: dict[str, QAction] = {}
        self._build()

    def _action(
        self, menu: QMenu, text: str, slot: Any, shortcut: Any = None, checkable: bool = False
    ) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.window.addAction(action)  # shortcuts work while the menu bar is hidden too
        return action

    def _build(self) -> None:
        w = self.window
        bar = w.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open songs…", w.intake.open_songs, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &folder…", w.intake.open_folder)
        # the banner's Look again, there too: damaged settings can hold the banner, its × closes it
        self.look_again_action = self._action(
            file_menu, f"&{LOOK_AGAIN}", w.session_keeper.look_again
        )
        self.show_waiting(w.session_keeper.waiting)
        w.session_keeper.waiting_changed.connect(self.show_waiting)
        self.export_action = self._action(
            file_menu, "&Export stems…", w.exports.export_dialog, "Ctrl+E"
        )
        self.export_all_action = self._action(
            file_menu,
            "Export &all separated songs…",
            w.exports.export_all_dialog,
            "Ctrl+Shift+E",
        )
        self.cancel_export_action = self._action(
            file_menu, "Cancel e&xport", w.exports.cancel_export
        )
        self.cancel_export_action.setEnabled(False)  # while an export runs, and only then
        w.exporter.running.connect(self.cancel_export_action.setEnabled)
        file_menu.addSeparator()
        self.keep_stems_action = self._action(
            file_menu, "&Keep separated stems between sessions", self.keep_stems, checkable=True
        )
        self.keep_stems_action.setChecked(w.settings.get(S.KEEP_STEMS))
        self.clear_action = self._action(file_menu, "&Clear stem cache…", self.ask_clear_stem_cache)
        self._action(file_menu, "Stem cache si&ze…", self.stem_cache_size)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)

        self._build_playback(bar.addMenu("&Playback"))

        bar.addMenu(w.menus.model_menu)
        bar.addMenu(w.menus.device_menu)
        bar.addMenu(w.menus.quality_menu)

        self._build_view(bar.addMenu("&View"))

        help_menu = bar.addMenu("&Help")
        self._action(
            help_menu,
            "&Keyboard and mouse",
            self.show_shortcuts,
            QKeySequence.StandardKey.HelpContents,
        )
        self._action(help_menu, "Try the &demo song", w.intake.open_demo)
        self._action(help_menu, "Open &log folder", w.open_log_folder)
        self._action(help_menu, "&About stemgui", self.about)

    def _build_view(self, view_menu: QMenu) -> None:
        """The theme, and how much of the song the waveforms show."""
        w = self.window
        theme_menu = view_menu.addMenu("&Theme")
        themes, taken = QActionGroup(self), set()
        for key, label in THEMES.items():
            action = self._action(
                theme_menu,
                with_mnemonic(label, taken),
                lambda _=False, k=key: self.set_theme(k),
                checkable=True,
            )
            action.setChecked(key == w.theme.choice)
            themes.addAction(action)
            self.theme_actions[key] = action
        view_menu.addSeparator()
        zoom_in = self._action(
            view_menu, "Zoom &in", lambda: self.zoom(0.5), QKeySequence.StandardKey.ZoomIn
        )
        zoom_in.setShortcuts([zoom_in.shortcut(), QKeySequence("Ctrl+=")])  # + without Shift
        self._action(
            view_menu, "Zoom &out", lambda: self.zoom(2.0), QKeySequence.StandardKey.ZoomOut
        )
        self._action(view_menu, "Show &whole song", self.zoom_all, "Ctrl+0")

    def _build_playback(self, play_menu: QMenu) -> None:
        w = self.window
        player = w.player
        self.play_action = self._action(play_menu, "&Play / pause", player.toggle, "Space")
        self._action(play_menu, "&Stop", player.stop, "Ctrl+.")
        self.loop_action = self._action(play_menu, "&Loop on / off", player.toggle_loop, "L")
        self._action(play_menu, "&Clear loop", player.clear_loop, "Shift+L")
        self.click_action = self._action(
            play_menu, "&Metronome click on the beats", self.set_click, "K", checkable=True
        )
        self.click_action.setChecked(w.settings.get(S.CLICK))  # as the last session left it
        player.set_click(self.click_action.isChecked())
        beats_menu = play_menu.addMenu("Loop &beats from here")
        for count, keys in ((1, "Alt+1"), (2, "Alt+2"), (4, "Alt+4"), (8, "Alt+8"), (16, None)):
            self._action(
                beats_menu,
                f"Loop {'1&6' if count == 16 else f'&{count}'} beat{'s' if count > 1 else ''}"
                + (" (a bar of 4/4)" if count == 4 else ""),
                lambda _=False, n=count: self.loop_beats(n),
                keys,
            )
        self.snap_action = self._action(
            play_menu, "S&nap loops to beats", self.snap_to_beats, checkable=True
        )
        self.snap_action.setChecked(w.settings.get(S.SNAP_TO_BEATS))
        w.timeline.snap_to_beats = self.snap_action.isChecked()
        self.tempo = TempoMenu(w, lambda *made: self._action(play_menu, *made))  # ×2 and ÷2
        self.key = KeyMenu(w, play_menu, self.tempo)
        self.cues = CuesMenu(w, play_menu, self.tempo, self._action)
        self._action(play_menu, "Back to st&art", lambda: player.seek(0), "Home")
        self._action(play_menu, "To the &end", player.seek_end, "End")
        self._action(play_menu, "Back &5 seconds", lambda: player.nudge(-5.0), "Ctrl+Left")
        self._action(play_menu, "&Forward 5 seconds", lambda: player.nudge(5.0), "Ctrl+Right")
        play_menu.addSeparator()
        pace = play_menu.addMenu("Speed and &key")  # worded as the speed and key buttons' tips
        self._action(pace, "&Slower (pitch kept)", player.slower, "[")
        self._action(pace, "&Faster (pitch kept)", player.faster, "]")
        self._action(pace, "&Normal speed", lambda: player.set_speed(1.0), "\\")
        self.trainer_action = self._action(
            pace, "Speed up each time round the &loop", self.speed_trainer, checkable=True
        )
        self.trainer_action.setChecked(w.settings.get(S.SPEED_TRAINER))
        player.speed_trainer = self.trainer_action.isChecked()
        self._action(pace, "Transpose &up a semitone", lambda: player.transpose(1), "Ctrl+]")
        self._action(pace, "Transpose &down a semitone", lambda: player.transpose(-1), "Ctrl+[")
        self._action(pace, "&The song's key", lambda: player.set_semitones(0), "Ctrl+\\")
        play_menu.addSeparator()
        self._action(
            play_menu, "Solo the orig&inal mix (A/B)", lambda: w.stems.toggle(-1, "solo"), "A"
        )
        for number in range(1, 10):  # in no menu: the S and M buttons' tooltips name them
            for keys, what in ((str(number), "mute"), (f"Ctrl+{number}", "solo")):
                action = QAction(f"{what} stem {number}", w)
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                action.triggered.connect(
                    lambda _=False, i=number - 1, what=what: w.stems.toggle(i, what)
                )
                w.addAction(action)
        play_menu.addSeparator()
        self.output_menu = OutputMenu(w, play_menu.addMenu("&Output device"))

    # -- the commands -----------------------------------------------------------------------

    def set_theme(self, choice: str) -> None:
        """Light, dark or the system's colours, now and at the next start."""
        self.window.theme.apply(choice)
        self.window.settings.set(S.THEME, choice)
        self.theme_actions[choice].setChecked(True)

    def show_waiting(self, count: int) -> None:
        """File ▸ Look again for missing songs, enabled while ``count`` songs of the last
        session not found wait for their drive, says how many."""
        self.look_again_action.setEnabled(count > 0)
        self.look_again_action.setText(f"&{LOOK_AGAIN}" + (f" ({count})" if count else ""))

    def loop_beats(self, count: int) -> None:
        """Loop ``count`` beats from the beat at the playhead, or say why not."""
        window = self.window
        job = window.shown_job
        if window.player.loop_beats(count) or job is None:  # no song: nothing to say
            return
        window.statusBar().showMessage(
            self._no_grid(job) + ": drag across the waveforms to loop a part instead.", 8000
        )

    @staticmethod
    def _no_grid(job: Job) -> str:
        """Why the song on screen has no beat grid (yet), as a sentence to go on."""
        tempo = job.analysis.tempo if job.analysis is not None else None
        if job.state is JobState.DONE and tempo is not None:  # the title says its tempo
            return (
                f"This song has no beat grid (its beats keep no steady one at {tempo.bpm:g} BPM: "
                "the tempo changes, or the song is too short to fit one)"
            )
        if job.state is JobState.DONE:
            return "This song has no beat grid (no steady tempo was found)"
        if job.state is JobState.CANCELLED:  # what was made plays; its beats were not found
            return "This song's beats are found once it is separated to the end (Ctrl+R retries it)"
        return "This song's beats are found once it is separated"  # fitted at the end

    def speed_trainer(self, on: bool) -> None:
        """A loop practised slower goes a step faster each time round, up to the song's pace
        (50 % to 100 % in eight times round); now and at the next start."""
        window = self.window
        window.settings.set(S.SPEED_TRAINER, bool(on))
        window.player.speed_trainer = bool(on)
        player = window.player
        if not on or not player.loaded:
            return
        # turned on at 100 % or with no loop it changed nothing, without a word
        needs = [] if player.speed < 1.0 else ["play slower first ([)"]
        if not player.transport.loop_enabled:
            needs.append("loop a part (drag across the waveforms, or press L)")
        if needs:
            window.statusBar().showMessage(
                f"To speed up each time round the loop: {' and '.join(needs)}. Playback then "
                "goes a step faster each time round, up to the song's pace.",
                8000,
            )

    def set_click(self, on: bool) -> None:
        """A metronome click on the beats of every song, now and at the next start."""
        window = self.window
        window.settings.set(S.CLICK, bool(on))
        window.player.set_click(bool(on))
        job = window.shown_job
        if on and job is not None and window.timeline.beats is None:  # else silence: say why
            window.statusBar().showMessage(
                self._no_grid(job) + ": the click sounds on the beats of songs with one.", 8000
            )

    def snap_to_beats(self, on: bool) -> None:
        """Loops dragged on a song with a beat grid go from beat to beat (or as drawn)."""
        self.window.settings.set(S.SNAP_TO_BEATS, bool(on))
        self.window.timeline.snap_to_beats = bool(on)

    def keep_stems(self, on: bool) -> None:
        """Keep (or stop keeping) separated stems between sessions, from the next song on."""
        self.window.settings.set(S.KEEP_STEMS, bool(on))
        # the cache on disk it had, if any: a store still running in it keeps to its limit
        worker = self.window.controller.worker
        worker.stem_cache = stem_cache_of(self.window) if on else None

    def ask_clear_stem_cache(self) -> None:
        """File ▸ Clear stem cache…: how many songs' stems would go, and how much, asked first;
        one click deleted them all, hours of separating on a slow computer. Counted, then
        deleted, on a thread (a big cache held the window for seconds); the item is off until
        the status bar says how it went."""
        cache = stem_cache_of(self.window)
        self.clear_action.setEnabled(False)
        self.window.statusBar().showMessage(f"Counting the stem cache ({cache.root})…")
        ask = partial(self._ask_clear, cache)
        run_cache_work(self.window, cache, cache.usage, ask, self._clear_failed, "usage")

    def _ask_clear(self, cache: Any, usage: tuple[int, int]) -> None:
        songs, used = usage
        if songs:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Clear stem cache",
                f"Delete the stems of {counted(songs, 'song')} ({in_words(used)}) kept in "
                f"{cache.root}? Those songs are separated again when they are next opened.",
                QMessageBox.StandardButton.Cancel,
                self.window,
            )
            delete = box.addButton("Delete the stems", QMessageBox.ButtonRole.DestructiveRole)
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            box.deleteLater()  # a child of the window: one more kept at every asking
            if box.clickedButton() is not delete:
                self.window.statusBar().clearMessage()  # "Counting…"
                self.clear_action.setEnabled(True)
                return
        self.clear_stem_cache()

    def clear_stem_cache(self) -> None:
        """Delete every song's stems kept between sessions (the songs open now stay), on a
        thread; the status bar says so at once, then how it went."""
        cache = stem_cache_of(self.window)
        self.clear_action.setEnabled(False)
        self.window.statusBar().showMessage(f"Clearing the stem cache ({cache.root})…")
        said = partial(self._cleared, cache)
        run_cache_work(self.window, cache, cache.clear, said, self._clear_failed, "clear")

    def _clear_failed(self, words: str) -> None:
        self.clear_action.setEnabled(True)
        self.window.statusBar().showMessage(words, 10_000)

    def _cleared(self, cache: Any, result: tuple[int, int, int]) -> None:
        entries, freed, left = result
        self.clear_action.setEnabled(True)
        message = f"Stem cache cleared: {counted(entries, 'song')}, {in_words(freed)}."
        if left:  # it said all were cleared, and they were all kept
            message += (
                f" The stems of {counted(left, 'song')} could not be deleted from "
                f"{cache.root}: make it writable, then clear it again "
                "(the log names the files)."
            )
        if any(job.state is JobState.DONE for job in self.window.controller.model.jobs):
            # their stems are read from those files until they go: the space comes free then
            message += (
                " The songs in the queue stay until removed or the app closes, and are "
                "separated again at the next start."
            )
        self.window.statusBar().showMessage(message, 10_000)

    def stem_cache_size(self) -> None:
        """How much the stem cache holds, and its size limit (``stem_cache_size``)."""
        ask_stem_cache_size(self.window)

    def zoom(self, factor: float) -> None:
        """Show ``factor`` times as much of the song, around the playhead (the middle of the
        view when the playhead is not on it)."""
        timeline = self.window.timeline
        if timeline.frames:
            timeline.zoom(factor, timeline.zoom_anchor())

    def zoom_all(self) -> None:
        self.window.timeline.set_view(0, self.window.timeline.frames)

    def show_shortcuts(self) -> None:
        from stemgui.ui.shortcuts import ShortcutsDialog

        ShortcutsDialog([self.window, self.window.queue], self.window).exec()

    def about(self) -> None:
        import stemgui

        QMessageBox.about(
            self.window,
            "About stemgui",
            f"<b>stemgui {stemgui.__version__}</b><p>Splits songs into stems with Demucs "
            "networks, plays them together, exports them.</p>",
        )
