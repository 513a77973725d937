"""What the window says in its banner: errors in plain words, playback off, damaged settings.

The banner above the stems shows one message at a time and remembers what it is about:
"model" (none can be used), "export" (the last export failed), "drag" (the last stem dragged out
could not be), "playback" (it is off), "session" (songs of the last session left out or not found),
"stemcache" (stems could not be kept), "output" (the output device chosen is not connected), a
failed queue ``Job``, or None. It goes when that subject is mended; playback still off then comes
back to it. Playback off is also a lasting label in the status bar. The details are in the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from stemgui import errors

if TYPE_CHECKING:
    from stemgui.ui.window import MainWindow

Actions = Sequence[tuple[str, Callable[[], object]]]
"""The banner's buttons: (label, callback)."""


def unexpected(what: object, error: BaseException) -> str:
    """``stemgui.errors.unexpected`` in the window: the log file is reached from the Help menu."""
    return errors.unexpected(what, error, "Details are in the log file (Help ▸ Open log folder).")


class Messages(QObject):
    """The window's banner and what it is about; lives on the GUI thread, a child of the window.

    Attributes:
        message: the last error said (the window's ``message``; the tests read it).
        about: what the banner is about now (see the module's docstring).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.message = ""
        self.about: object = None
        self._playback_said = ""  # why playback is off, as the banner last said it
        self._said_once: set[str] = set()  # what ``say_once`` said

    def show_error(
        self, message: str, about: object = None, actions: Actions | None = None
    ) -> None:
        """An error in plain words, in the banner above the stems (details are in the log).

        ``about``: what it concerns ("model", "export", "drag", "playback", a failed Job): the
        banner goes once that is mended (a model can be used, an export or a drag succeeds, a
        device opens, the song is retried) or, for a song, once the user selects another.
        ``actions``: the banner's buttons, (label, callback); Open log folder by default.
        """
        self.message = message
        if actions is None:
            actions = [("Open log folder", self.window.open_log_folder)]
        self.show(message, about, actions)

    def show(self, text: str, about: object, actions: Actions) -> None:
        """Show ``text`` in the banner about ``about``, not as an error (``message`` stays)."""
        self.about = about
        self.window.banner.show_message(text, actions)

    def clear(self, about: object) -> None:
        """Hide the banner if it is about ``about``; playback still off comes back to it (a
        song's failure had taken its place)."""
        if self.about is not None and self.about == about:
            self.window.banner.hide()
            self.about = None
            if about != "playback" and self.window.player.error:
                self._show_playback_off(self.window.player.error)

    def playback_unavailable(self, message: str) -> None:
        """The player's ``unavailable``: playback is off for ``message`` ("" when it works)."""
        window = self.window
        window.playback_off.setVisible(bool(message))
        window.playback_off.setToolTip(f"Playback is off: {message}" if message else "")
        if message:
            # its first sentence: the whole of it runs on behind the "Playback off" label
            first = message.split(". ", 1)[0].rstrip(".")
            window.statusBar().showMessage(f"Playback is off: {first}.")
            # in the banner too, which stays (the status bar's next message replaced it), once
            # per reason (not at every song shown), never over a song's or a model's message
            banner_free = not window.banner.isVisibleTo(window) or self.about == "playback"
            if message != self._playback_said and banner_free:
                self._show_playback_off(message)
        else:
            window.statusBar().clearMessage()
            self.clear("playback")
            self._playback_said = ""
        window.transport_bar.refresh()

    def _show_playback_off(self, message: str) -> None:
        self._playback_said = message
        self.show_error(
            f"Playback is off: {message}", "playback", [("Try again", self._try_playback)]
        )

    def _try_playback(self) -> None:
        """The banner's Try again: open an audio output again; say so when there is none yet
        (with no song on screen, the next song shown tries)."""
        window = self.window
        if not window.player.loaded:
            self.clear("playback")
        elif not window.player.reopen():
            window.statusBar().showMessage("Still no audio output.", 6000)  # the banner says why

    def not_kept(self, message: str) -> None:
        """A song's stems could not be kept in the stem cache (``message``: why, what to do):
        said once per cause; only the log said it, and every start separated those songs
        again."""
        self.say_once(message, "stemcache")

    def say_once(self, message: str, about: object) -> None:
        """``message`` once a session: in the banner, about ``about``, or in the status bar
        under a song's or a model's message (the banner shows one at a time)."""
        if message in self._said_once:
            return
        self._said_once.add(message)
        if self.window.banner.isVisibleTo(self.window) and self.about != about:
            self.window.statusBar().showMessage(message, 20000)
        else:
            self.show_error(message, about)

    def settings_problems(self) -> None:
        """Say once that damaged settings were reset to their defaults (the log has details)."""
        problems = self.window.settings.problems
        if not problems:
            return
        text = "\n".join(problems)
        if self.about == "model":  # the banner asks for a model: that comes first
            self.window.statusBar().showMessage(text, 20000)
        else:
            self.show_error(text)
