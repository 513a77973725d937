"""The export dialog: which stems, the mix as heard, format, folder and file name template.

The dialog only builds an ``ExportRequest``; ``exporting.ExportRunner`` plans it, asks before
replacing existing files, and writes it on a thread (see ``stemgui.ui.exporting``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stemgui.playback.stretch import speed_percent
from stemgui.ui import export_stem_file
from stemgui.ui import settings as S
from stemgui.ui.elided import ElidedLabel, wrapped_label
from stemgui.ui.export_formats import MP3_BITRATES, audio_format, khz
from stemgui.ui.stemview import stem_label
from stemgui.ui.theme import readable

logger = logging.getLogger(__name__)


class ExportDialog(QDialog):
    """Choose what to export for one song, or for several (File ▸ Export all separated songs).

    Args:
        stems: the song's stem names.
        settings: remembered choices (format, bit rate, folder, template).
        default_folder: the song's folder: the files go there when the settings name no
            folder, and a relative folder (``stems``) is taken from there.
        two_stems: the two-stem setting ("off" or a stem name): preselects that export.
        track, model: the song's name and the model's, for the file name example.
        loop: the song's loop region (start, stop) in seconds, if it has one: offered as
            the part to export instead of the whole song.
        songs: how many songs the export is for; with more than one, ``stems`` are those of
            every song, the folder is "beside each song" unless one is chosen, and
            ``request_for`` gives each song's request (``default_folder``, ``track`` and
            ``model`` are the first song's, for the example).
        song_rate, stems_rate: the song's sample rate (None: unknown) and its stems' (the
            model's): the files are at the song's own unless the stems' is chosen.
        mixer: the song's ``MixerState``, if one song: a mix as heard with every stem muted
            is refused in the dialog already.
        pace: the ``Pace`` (speed, semitones) the song was last heard at: when not the song's
            own, offered for the files (a backing track slowed down, or in a singer's key).
        some_paced: for several songs: some were last heard at another speed or key; offered
            for each at its own (``request_for``'s ``pace``).
    """

    def __init__(
        self,
        stems: Sequence[str],
        settings: S.Settings,
        default_folder: Path,
        two_stems: str = "off",
        parent: QWidget | None = None,
        track: str = "song",
        model: str = "model",
        loop: tuple[float, float] | None = None,
        songs: int = 1,
        song_rate: int | None = None,
        stems_rate: int = 44100,
        mixer: Any = None,
        pace: Any = None,
        some_paced: bool = False,
    ) -> None:
        super().__init__(parent)
        self.mixer = mixer
        self.batch = songs > 1
        # the song in the player may not be the one selected in the queue: the title names it
        self.setWindowTitle(
            f"Export the stems of {songs} songs" if self.batch else f"Export stems — {track}"
        )
        self.settings = settings
        layout = QVBoxLayout(self)

        box = QGroupBox("What to export")
        stems_layout = QVBoxLayout(box)
        self.stem_boxes: dict[str, QCheckBox] = {}
        for name in stems:
            check = QCheckBox(stem_label(name))
            check.setChecked(True)
            self.stem_boxes[name] = check
            stems_layout.addWidget(check)
        self.two_stems = QCheckBox()
        self.two_stems_name = (
            two_stems if two_stems in stems else ("vocals" if "vocals" in stems else "")
        )
        if f"no_{self.two_stems_name}" in stems:  # the song is in two stems already
            self.two_stems_name = ""
        if self.two_stems_name:
            self.two_stems.setText(
                f"Two stems: {self.two_stems_name} and no {self.two_stems_name} (the rest "
                f"summed, in a file named no_{self.two_stems_name})"
            )
            self.two_stems.setChecked(two_stems in stems)
            stems_layout.addWidget(self.two_stems)
        self.mix = QCheckBox(
            "Export what I hear (each song's mix, with its solo, mute and gain)"
            if self.batch
            else "Export what I hear (the current mix, with solo, mute and gain)"
        )
        stems_layout.addWidget(self.mix)
        self.loop = loop
        self.only_loop: QCheckBox | None = None
        if loop is not None:  # a sample of the song: the region looped
            from stemgui.export.naming import span_label
            from stemgui.ui.clock import loop_times

            # as the player's clock says it, and as its files are named (to the hundredth)
            times, length = loop_times(*loop, decimals=2)
            self.only_loop = QCheckBox(
                f"Only the loop region: {times} ({length}), named {span_label(*loop)}"
            )
            stems_layout.addWidget(self.only_loop)
        self.pace = pace
        self.at_pace: QCheckBox | None = None
        if self.batch and some_paced:
            self.at_pace = QCheckBox(
                "At the speed and key each song was last heard at (named after them)"
            )
        elif not self.batch and pace is not None and not pace.normal:  # slower, transposed
            self.at_pace = QCheckBox(
                f"At the speed and key heard ({pace_words(pace)}), named {pace.label}"
            )
        if self.at_pace is not None:
            self.at_pace.setToolTip(
                "The files as the player plays them now; the stems still add up to the mix"
            )
            stems_layout.addWidget(self.at_pace)
        self.stem_file_note = export_stem_file.note(stems_layout)
        layout.addWidget(box)

        form = QFormLayout()
        self.format = QComboBox()
        for key, label in S.EXPORT_FORMATS.items():
            self.format.addItem(label, key)
        self.format.setCurrentIndex(self.format.findData(settings.get(S.EXPORT_FORMAT)))
        export_stem_file.offer(self, stems)
        self.bitrate = QComboBox()
        for rate in MP3_BITRATES:
            self.bitrate.addItem(f"{rate} kbps", rate)
        self.bitrate.setCurrentIndex(self.bitrate.findData(settings.get(S.MP3_BITRATE)))
        self.format.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.format)
        form.addRow("MP3 bit rate", self.bitrate)
        self.song_rate, self.stems_rate = song_rate, stems_rate
        self.rate = QComboBox()
        song = "Each song's own" if self.batch else "The song's own"
        if song_rate is not None and not self.batch:
            song += f" ({khz(song_rate)})"
        self.rate.addItem(song, "song")
        self.rate.addItem(f"The stems' own ({khz(stems_rate)}, as separated)", "stems")
        self.rate.setCurrentIndex(self.rate.findData(settings.get(S.EXPORT_RATE)))
        self.rate.setToolTip(
            "At the song's own rate the stems line up sample for sample with the song in a DAW "
            "session at that rate; mp3 holds at most 48 kHz, and below 32 kHz at most 160 kbps "
            "(64 below 16 kHz): a song it cannot hold at the bit rate chosen, at the stems' rate"
        )
        form.addRow("Sample rate", self.rate)
        self.song_folder = Path(default_folder)
        remembered = settings.get(S.EXPORT_FOLDER)
        self.folder = QLineEdit(remembered if self.batch else remembered or str(default_folder))
        self.folder.setPlaceholderText("beside each song" if self.batch else "beside the song")
        self.folder.setToolTip("A folder; one typed without its full path is in the song's folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_line = QHBoxLayout()
        folder_line.addWidget(self.folder, 1)
        folder_line.addWidget(browse)
        form.addRow("Folder", folder_line)
        self.template = QLineEdit(settings.get(S.EXPORT_TEMPLATE))
        self.template.setToolTip("Keys: {track}, {stem}, {model}, {ext}; / makes folders")
        form.addRow("File names", self.template)
        # the first file's path, cut in the middle (whole in its tooltip): a long path made
        # the dialog as wide as itself; or, in its place, what is wrong
        self.example = ElidedLabel()
        # as many lines as it takes; no name of its own: a screen reader reads what it says
        self.problem = wrapped_label("")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the template typed
        red = readable(QColor("#d9534f"), self.palette().window().color())  # 3.4 to 1 as it was
        self.problem.setStyleSheet(f"color: {red.name()};")
        examples = QVBoxLayout()
        examples.addWidget(self.example)
        examples.addWidget(self.problem)
        form.addRow("", examples)
        layout.addLayout(form)
        self._names = (track, model)
        self._stems = tuple(stems)
        self.template.textChanged.connect(self._show_example)
        self.folder.textChanged.connect(self._show_example)
        self.format.currentIndexChanged.connect(self._show_example)
        checks = (self.two_stems, self.mix, self.only_loop, self.at_pace)
        for check in (*self.stem_boxes.values(), *checks):
            if check is not None:
                check.toggled.connect(self._show_example)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.two_stems.toggled.connect(self._two_stems_changed)
        self._format_changed()
        self._two_stems_changed()
        self._show_example()

    def _show_example(self) -> None:
        """The first file's path in ``example``, or what is wrong in ``problem`` (then Export
        is off): the export's own checks (template, stems, two stems on one file, a mix with
        every stem muted), less the files that exist already, which the export asks about."""
        from dataclasses import replace

        from stemgui.errors import ExportError, capitalised, sentence
        from stemgui.export.planning import plan

        track, model = self._names
        request = replace(self.request(), overwrite=True)
        if self.mix.isChecked() and self.mix.isEnabled():  # the gains are taken when exporting
            request = replace(request, mix_gains=self.mixer.mix_gains if self.mixer else ())
        try:
            (_, path), *_ = plan(request, self._stems, track, model)
        except ExportError as error:
            self.example.clear()
            # what is wrong with a file or folder under the one chosen names it; else it is
            # said alone, a sentence (the command line prints it after the path and a colon)
            if error.path == request.folder:
                self.problem.setText(sentence(capitalised(error.reason)))
            else:
                self.problem.setText(str(error))
        else:
            self.example.setText(f"e.g. {path}")
            self.problem.clear()
        self.example.setVisible(bool(self.example.text()))
        self.problem.setVisible(bool(self.problem.text()))
        self.export_button.setEnabled(not self.problem.text())
        self._fit_problem()

    def _fit_problem(self) -> None:
        """Room for every line of ``problem`` at its width: a window does not grow by itself
        for a label's wrapped lines (three were cut to one and a half, over Export)."""
        problem = self.problem
        problem.setMinimumHeight(problem.heightForWidth(problem.width()) if problem.text() else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_problem()  # its lines at its new width

    def _format_changed(self) -> None:
        self.bitrate.setEnabled(self.format.currentData() == "mp3")
        export_stem_file.show(self)

    def _two_stems_changed(self) -> None:
        export_stem_file.show(self)  # the stem ticks: off for two stems, or a Stems file

    def _browse(self) -> None:
        # where the files would go (the song's folder for one typed without its full path, or
        # none), or the nearest folder above it that is there: not the app's working folder
        there = self.request().folder
        there = next((p for p in (there, *there.parents) if os.path.isdir(p)), there)
        folder = QFileDialog.getExistingDirectory(self, "Export to", str(there))
        if folder:
            self.folder.setText(folder)

    def request(
        self, mixer: Any = None, overwrite: bool = False, song_folder: Path | None = None
    ) -> Any:
        """The ``ExportRequest`` the dialog describes (``mixer`` gives the heard mix's gains;
        ``song_folder``, the folder of the song, the first song's by default)."""
        from stemgui.export.exporter import ExportRequest

        two = self.two_stems_name if self.two_stems.isChecked() else None
        stems = [name for name, check in self.stem_boxes.items() if check.isChecked()]
        song_folder = self.song_folder if song_folder is None else song_folder
        fmt = audio_format(self.format.currentData(), self.bitrate.currentData())
        asked = ExportRequest(
            # "~/x" is in the home folder; "~Exports" (no such user) a folder of that name
            folder=song_folder / os.path.expanduser(self.folder.text().strip()),
            stems=stems,
            mix_gains=mixer.mix_gains if (self.mix.isChecked() and mixer is not None) else None,
            two_stems=two,
            fmt=fmt,
            template=self.template.text().strip(),  # a space pasted after .{ext}, as a folder's
            overwrite=overwrite,
            rescale_together=True,  # the stems still add up to the song
            span=self.loop if self.only_loop and self.only_loop.isChecked() else None,
            samplerate=self.samplerate(fmt, self.song_rate, self.stems_rate),
            pace=self.pace if self.at_pace and self.at_pace.isChecked() else None,
        )
        return export_stem_file.request(self, asked)

    def samplerate(self, fmt: Any, song_rate: int | None, stems_rate: int) -> int | None:
        """The ``ExportRequest.samplerate`` of a song at ``song_rate`` whose stems are at
        ``stems_rate``, as chosen: the song's own if ``fmt`` holds it, else None (the stems')."""
        from stemgui.export.rates import export_rate

        if self.rate.currentData() != "song":
            return None
        return export_rate(fmt, song_rate, stems_rate)

    def request_for(
        self,
        stems: Sequence[str],
        mixer: Any,
        song_folder: Path,
        song_rate: int | None = None,
        stems_rate: int = 44100,
        pace: Any = None,
    ) -> Any:
        """The request for one song of a batch, separated into ``stems`` at ``stems_rate``,
        whose exports go in or under ``song_folder``, at ``song_rate`` if it is its own, at
        ``pace`` (the one it was last heard at) if that is ticked: the chosen stems it has;
        None when it has none of them (and no mix is asked for)."""
        from dataclasses import replace

        request = self.request(mixer, song_folder=song_folder)
        request = replace(
            request,
            samplerate=self.samplerate(request.fmt, song_rate, stems_rate),
            pace=pace if self.at_pace is not None and self.at_pace.isChecked() else None,
        )
        if request.stems is None:  # a Stems file: all its stems (one not in four, refused)
            return request
        if request.two_stems is not None:  # (not offered when a song is in two stems)
            return request if request.two_stems in stems else None
        chosen = [name for name in request.stems if name in stems]
        if not chosen and request.mix_gains is None:
            return None
        return replace(request, stems=chosen)

    def remember(self) -> None:
        """Keep the format, bit rate, sample rate and template for next time (the folder:
        ``remember_folder``, once the export has written its files)."""
        self.settings.set(S.EXPORT_FORMAT, self.format.currentData())
        self.settings.set(S.MP3_BITRATE, self.bitrate.currentData())
        self.settings.set(S.EXPORT_TEMPLATE, self.template.text().strip())
        self.settings.set(S.EXPORT_RATE, self.rate.currentData())

    def remember_folder(self) -> None:
        """Keep the folder for next time: called once files were written there, so that a
        folder the export could not write to (a typo, a disk gone) is not offered again. The
        song's own folder is kept as "beside each song", not as this song's folder for every
        song after it."""
        beside = not self.folder.text().strip() or (
            not self.batch and self.request().folder == self.song_folder
        )
        self.settings.set(S.EXPORT_FOLDER, "" if beside else self.folder.text().strip())


def pace_words(pace: Any) -> str:
    """ "75 % speed, 2 semitones up": a ``Pace`` as the dialog says it (the percent as in
    its ``label``)."""
    said = [] if pace.speed == 1.0 else [f"{speed_percent(pace.speed)} % speed"]
    if pace.semitones:
        way = "up" if pace.semitones > 0 else "down"
        plural = "s" if abs(pace.semitones) > 1 else ""
        said.append(f"{abs(pace.semitones)} semitone{plural} {way}")
    return ", ".join(said)
