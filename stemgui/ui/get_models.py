""" "Get models": download the official Demucs models, with progress, cancel and verification.

The model store does the work (``ModelStore.download``: resumable, sha256-checked, moved into
place only when whole) on a Python thread; ``DownloadTask`` brings its progress and its end back
to the GUI thread as signals. A download that fails or is cancelled keeps its partial file and
resumes next time.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stemgui.errors import StemguiError, capitalised
from stemgui.ui.messages import unexpected

logger = logging.getLogger(__name__)

NOT_LOADED = "The list of official models is not loaded yet; it shows here once it is."


class DownloadTask(QObject):
    """Downloads one official model on a thread.

    Signals:
        progress(file, done, total): bytes of ``file`` so far (its name, a bag's with its
            place: ``… (file 2 of 4)``); ``total`` -1 when unknown.
        done(name): every file of the model is here and verified.
        failed(name, message): what went wrong, in words.
        cancelled(name): stopped on request (the partial file is kept).
    """

    progress = Signal(str, int, int)
    done = Signal(str)
    failed = Signal(str, str)
    cancelled = Signal(str)

    def __init__(self, name: str, root_url: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.root_url = root_url
        self.cancel_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stemgui-download", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        from stemgui.ui.models import make_store

        def report(file: str, done: int, total: int | None) -> None:
            self.progress.emit(file, int(done), -1 if total is None else int(total))

        try:
            make_store(self.root_url).download(
                self.name, on_progress=report, cancel=self.cancel_event
            )
        except StemguiError as error:
            if self.cancel_event.is_set():
                logger.info("download of %s cancelled", self.name)
                self.cancelled.emit(self.name)
            else:
                logger.warning("download of %s failed: %s", self.name, error)
                # in words; the file's path is in the log
                self.failed.emit(self.name, getattr(error, "reason", str(error)))
        except Exception as error:  # a bug: report it rather than lose it on a thread
            logger.exception("download of %s failed unexpectedly", self.name)
            self.failed.emit(self.name, unexpected(f"model {self.name}", error))
        else:
            logger.info("downloaded %s", self.name)
            self.done.emit(self.name)


class ModelsDialog(QDialog):
    """The official models, which are here, and a button to download the selected one.

    Args:
        catalogue: (name, description, downloaded) of each official model.
        root_url: where to download from (None: the Demucs authors' server).

    Signals:
        downloaded(name): a model finished downloading and can be used.

    ``show_catalogue`` shows the catalogue again when it changes while the dialog is open.
    """

    downloaded = Signal(str)

    def __init__(
        self,
        catalogue: list[tuple[str, str, bool]],
        root_url: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get models")
        self.resize(640, 360)
        self.root_url = root_url
        self.task: DownloadTask | None = None
        self.rows: dict[str, int] = {}  # model name -> its row
        layout = QVBoxLayout(self)
        intro = QLabel(
            "The official Demucs models, published by their authors. Each file is checked "
            "(sha256) before it is used. htdemucs is the usual choice (about 80 MB)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Model", "Description", "Status"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.hide()
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.close_button = QPushButton("Close")
        buttons.addStretch(1)
        for button in (self.download_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.table.itemSelectionChanged.connect(self._update)
        self.show_catalogue(catalogue)
        if not catalogue:
            self.status.setText(NOT_LOADED)

    def show_catalogue(self, catalogue: list[tuple[str, str, bool]]) -> None:
        """Show ``catalogue`` (name, description, downloaded), as given first or changed since
        (``SeparationMenus.catalogue_changed``: the list came, a model was downloaded or its
        files deleted): new models get a row, each row says what the store says now. The model
        downloading keeps its progress, a failed or cancelled one its word until it is here;
        the selection stays."""
        if catalogue and self.status.text() == NOT_LOADED:
            self.status.clear()
        for name, text, here in catalogue:
            row = self.rows.get(name)
            if row is None:
                row = self.rows[name] = self.table.rowCount()
                self.table.insertRow(row)
                for column, cell in enumerate((name, text, "")):
                    self.table.setItem(row, column, QTableWidgetItem(cell))
            self.table.item(row, 1).setText(text)
            status = self.table.item(row, 2).text()
            if self.task is not None and self.task.name == name:
                continue  # "downloading…", until it ends
            if here:
                status = "downloaded"
            elif status not in ("failed", "cancelled"):
                status = "not downloaded"
            self._set_status(name, status)
        if self.selected() is None and "htdemucs" in self.rows:
            self.table.selectRow(self.rows["htdemucs"])
        self._update()

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def _update(self) -> None:
        busy = self.task is not None
        name = self.selected()
        here = name is not None and self.table.item(self.rows[name], 2).text() == "downloaded"
        self.download_button.setEnabled(not busy and name is not None and not here)
        self.cancel_button.setEnabled(busy and not self.task.cancel_event.is_set())

    def download_selected(self) -> DownloadTask | None:
        name = self.selected()
        if name is None or self.task is not None:
            return None
        self.task = task = DownloadTask(name, self.root_url)
        task.progress.connect(self._progress)
        task.done.connect(self._done)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self._set_status(name, "downloading…")
        self.status.setText(f"Downloading {name}…")
        self.bar.setRange(0, 0)
        self.bar.show()
        task.start()
        self._update()
        return task

    def cancel(self) -> None:
        """Stop the download; said at once, though the thread takes up to a second to end
        (a connection still being made: up to its timeout)."""
        if self.task is not None and not self.task.cancel_event.is_set():
            self.task.cancel()
            self.status.setText(f"Cancelling the download of {self.task.name}…")
            self._update()

    def _set_status(self, name: str, text: str) -> None:
        self.table.item(self.rows[name], 2).setText(text)

    def _progress(self, file: str, done: int, total: int) -> None:
        if self.task is not None and self.task.cancel_event.is_set():
            return  # "Cancelling…" stays
        megabytes = done / 1e6
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * done / total))
            self.status.setText(f"{file}: {megabytes:.1f} of {total / 1e6:.1f} MB")
        else:
            self.status.setText(f"{file}: {megabytes:.1f} MB")

    def _finish(self, name: str, status: str, message: str) -> None:
        self.task = None
        self.bar.hide()
        self._set_status(name, status)
        self.status.setText(message)
        self._update()

    def _done(self, name: str) -> None:
        self._finish(name, "downloaded", f"{name} is downloaded and verified.")
        self.downloaded.emit(name)  # whoever takes it says whether it is the model now

    def _failed(self, name: str, message: str) -> None:
        self._finish(name, "failed", capitalised(message))

    def _cancelled(self, name: str) -> None:
        self._finish(
            name, "cancelled", "Download cancelled; it resumes where it stopped next time."
        )

    def reject(self) -> None:
        """Close, Esc and the window's close button: the download stops (it resumes next
        time). Not waited for here: a stalled connection held the whole window for 10 s; the
        thread ends on its own, and this dialog, shown again meanwhile, says so."""
        self.cancel()
        super().reject()
