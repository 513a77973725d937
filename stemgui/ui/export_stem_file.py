"""The export dialog's Stems file format (``.stem.mp4``: one file per song holding the song and
its four stems, for Traktor, Mixxx and djay; ``stemgui.export.stem_file``).

``offer`` turns the format off, saying why in its tooltip, for a song not in four stems; while
it is chosen, ``show`` turns off what it does not use (the stem ticks, two stems, the mix heard:
every stem goes in; the sample rate: always 44.1 kHz) and shows a line saying so, and
``request`` leaves those out of the ``ExportRequest``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout

from stemgui.ui import settings as S
from stemgui.ui.elided import wrapped_label

if TYPE_CHECKING:
    from stemgui.ui.export_dialog import ExportDialog

STEM_FILE = "stem"
"""Its key in ``settings.EXPORT_FORMATS``."""
STEMS = 4
OFFERED = (
    "One file per song with the song and all four stems, which Traktor, Mixxx and djay load as "
    "one track with four stem decks; other players play the song in it. AAC, 44.1 kHz"
)
NOTE = (
    "A Stems file holds the song and all four stems: the ticks above and the sample rate "
    "(always 44.1 kHz) do not apply; the loop region and the speed and key heard do."
)


def note(layout: QLayout) -> QLabel:
    """The line that says what a Stems file holds, added to ``layout``, hidden until the
    format is chosen."""
    label = wrapped_label("")  # no name of its own: a screen reader reads what it says
    label.setText(NOTE)
    label.setVisible(False)
    layout.addWidget(label)
    return label


def offer(dialog: ExportDialog, stems: Sequence[str]) -> None:
    """Offer the format in ``dialog.format`` for a song in four stems (for several songs,
    wherever one may be: songs in other stems then fail, each saying why); else turn it off,
    its tooltip saying why, and choose the default format if it was chosen."""
    combo = dialog.format
    index = combo.findData(STEM_FILE)
    if len(stems) == STEMS or (dialog.batch and len(stems) >= STEMS):
        combo.setItemData(index, OFFERED, Qt.ItemDataRole.ToolTipRole)
        return
    combo.model().item(index).setEnabled(False)
    combo.setItemData(
        index,
        f"A Stems file holds four stems; this song is separated into {len(stems)} "
        f"({', '.join(stems)}). Separate it into four stems to export one",
        Qt.ItemDataRole.ToolTipRole,
    )
    if combo.currentIndex() == index:
        combo.setCurrentIndex(combo.findData(S.EXPORT_FORMAT.default))


def chosen(dialog: ExportDialog) -> bool:
    """Whether the dialog's format is a Stems file."""
    return dialog.format.currentData() == STEM_FILE


def show(dialog: ExportDialog) -> None:
    """Turn on and off what the format chosen uses: the stem ticks (off for two stems too),
    two stems, the mix heard and the sample rate; the note, shown for a Stems file."""
    stem_file = chosen(dialog)
    for check in dialog.stem_boxes.values():
        check.setEnabled(not stem_file and not dialog.two_stems.isChecked())
    for widget in (dialog.two_stems, dialog.mix, dialog.rate):
        widget.setEnabled(not stem_file)
    dialog.stem_file_note.setVisible(stem_file)


def request(dialog: ExportDialog, asked: Any) -> Any:
    """``asked`` (an ``ExportRequest``), without the stems, two stems and mix a Stems file
    does not use when it is the format chosen."""
    if not chosen(dialog):
        return asked
    return replace(asked, stems=None, two_stems=None, mix_gains=None)
