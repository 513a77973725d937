"""The export dialog's ticks, kept for the rest of the session.

Which stems, two stems, the mix as heard, the loop region alone and the speed and key heard:
an export dialog opens as the last one was accepted (Export pressed, even if the question about
existing files was then cancelled), so a musician exporting song after song ticks them once. Not
saved between sessions; the format, bit rate, folder and file names are settings
(``ExportDialog.remember``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stemgui.ui.export_dialog import ExportDialog


@dataclass(frozen=True)
class ExportChoices:
    """What was ticked in an accepted export dialog.

    Attributes:
        stems: stem name -> ticked, for every stem offered so far this session (a song in
            other stems leaves the ticks of these as they were; a stem never offered is ticked).
        two_stems: "Two stems" ticked (where the song offers it).
        mix: "Export what I hear" ticked.
        only_loop: "Only the loop region" ticked (where the song has a loop).
        at_pace: "At the speed and key heard" ticked (where the song is heard at another).
    """

    stems: dict[str, bool] = field(default_factory=dict)
    two_stems: bool = False
    mix: bool = False
    only_loop: bool = False
    at_pace: bool = False

    @classmethod
    def of(cls, dialog: ExportDialog, earlier: ExportChoices | None = None) -> ExportChoices:
        """The ticks of ``dialog``, over those of ``earlier`` for the stems it did not offer."""
        stems = dict(earlier.stems) if earlier is not None else {}
        stems.update({name: check.isChecked() for name, check in dialog.stem_boxes.items()})
        only_loop = dialog.only_loop is not None and dialog.only_loop.isChecked()
        if dialog.only_loop is None and earlier is not None:
            only_loop = earlier.only_loop  # a song without a loop says nothing about it
        at_pace = dialog.at_pace is not None and dialog.at_pace.isChecked()
        if dialog.at_pace is None and earlier is not None:
            at_pace = earlier.at_pace  # a song heard as it is says nothing about it
        two_stems = dialog.two_stems.isChecked() if dialog.two_stems_name else None
        return cls(
            stems=stems,
            two_stems=(earlier.two_stems if earlier else False) if two_stems is None else two_stems,
            mix=dialog.mix.isChecked(),
            only_loop=only_loop,
            at_pace=at_pace,
        )

    def apply(self, dialog: ExportDialog) -> None:
        """Tick ``dialog`` as these choices say (what it does not offer is left alone)."""
        for name, check in dialog.stem_boxes.items():
            check.setChecked(self.stems.get(name, True))
        if dialog.two_stems_name:
            dialog.two_stems.setChecked(self.two_stems)
        dialog.mix.setChecked(self.mix)
        if dialog.only_loop is not None:
            dialog.only_loop.setChecked(self.only_loop)
        if dialog.at_pace is not None:
            dialog.at_pace.setChecked(self.at_pace)
