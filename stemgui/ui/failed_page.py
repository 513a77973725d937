"""The page of a song that was not separated: its name, why, and what can be done about it.

It says everything itself (the banner above can be closed, or replaced by another message):
the file's name and folder, the whole reason, word-wrapped and selectable, and Retry (only when
trying again can help: not for a file that is not audio at all), Remove and Open log folder.
The song loaded in the player stays loaded under this page; the page names it, since Space and
the transport below still play it. Short of room (the window at its smallest, a long message in
the banner above), the page scrolls: its words were cut, the song's name and folder gone.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from stemgui.errors import capitalised
from stemgui.ui.elided import wrapped_label
from stemgui.ui.queue import Job

RETRY_HELPS = "Retry it once that is mended, or remove it from the queue."
RETRY_CANNOT_HELP = (
    "Trying again cannot help: this file itself is not a song. Remove it, and add the song "
    "it should have been."
)


def reason_sentence(job: Job) -> str:
    """Why ``job`` failed, as a sentence: "It is not an audio file (…)" for an error about the
    song's file (whose message goes on from its name), else the message as it is."""
    reason = job.reason
    sentence = f"It {reason}" if job.error.startswith(f"{job.path}: ") else capitalised(reason)
    return sentence if sentence.endswith((".", "!", "?", ")")) else f"{sentence}."


class FailedPage(QScrollArea):
    """Shows one failed ``Job`` (``show_failed``) and the song still loaded (``show_loaded``),
    scrolling up and down where the window is too short for it; never sideways: its words wrap,
    and it asks for the width of its buttons.

    Args:
        retry, remove, open_log: what its buttons do; retry and remove get the job shown.
    """

    def __init__(
        self,
        retry: Callable[[Job], None],
        remove: Callable[[Job], None],
        open_log: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop of its own showing nothing
        self.job: Job | None = None
        self.heading = wrapped_label("Song not separated")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.reason = wrapped_label("Why it was not separated")
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.advice = wrapped_label("What to do")
        self.advice.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Separate this song again")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove this song from the queue")
        self.log_button = QPushButton("Open log folder")
        self.log_button.setToolTip("The log file has the details of what went wrong")
        self.loaded = wrapped_label("Song still loaded")
        self.loaded.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button.clicked.connect(lambda _=False: self._act(retry))
        self.remove_button.clicked.connect(lambda _=False: self._act(remove))
        self.log_button.clicked.connect(lambda _=False: open_log())
        for button in (self.retry_button, self.remove_button, self.log_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keyboard_focus says why

        buttons = QHBoxLayout()
        for button in (self.retry_button, self.remove_button, self.log_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(1)
        for label in (self.heading, self.reason, self.advice):
            layout.addWidget(label)
        layout.addLayout(buttons)
        layout.addSpacing(24)
        layout.addWidget(self.loaded)
        layout.addStretch(2)
        self.setWidget(content)

    def minimumSizeHint(self) -> QSize:
        """As narrow as its buttons and its vertical scroll bar allow, as short as a scroll
        area."""
        hint = super().minimumSizeHint()
        content = self.widget().minimumSizeHint().width()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), content + bar + 2 * self.frameWidth()), hint.height())

    def show_failed(self, job: Job) -> None:
        """Say why ``job`` failed; Retry only where trying again can help."""
        self.job = job
        self.heading.setText(
            "<h3>This song was not separated</h3>"
            f"<p><b>{html.escape(job.title)}</b><br>"
            f"in {html.escape(str(job.path.parent))}</p>"
        )
        self.reason.setText(reason_sentence(job))
        self.advice.setText(RETRY_HELPS if job.retry_helps else RETRY_CANNOT_HELP)
        self.retry_button.setVisible(job.retry_helps)

    def show_loaded(self, job: Job | None) -> None:
        """Name the song still in the player under this page (None: none is)."""
        self.loaded.setVisible(job is not None)
        if job is not None:
            self.loaded.setText(
                f"Still loaded: {job.path.stem}. Space and the transport below play it; "
                "select it in the queue to see its stems."
            )

    def _act(self, action: Callable[[Job], None]) -> None:
        if self.job is not None:
            action(self.job)
