"""What of a song a stem dragged out drops (``DragPart``): the loop region alone, at the speed
and key heard, as the export dialog was last ticked; the file it is written to is
``stemgui.ui.drag_out``'s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stemgui.export.exporter import ExportRequest
    from stemgui.export.pace import Pace


@dataclass(frozen=True)
class DragPart:
    """What of a song a drag drops, as the export dialog was last ticked: ``span``, (start,
    stop) in seconds, the loop region alone ("Only the loop region"; None: the whole song);
    ``pace``, the speed and key heard ("At the speed and key heard"; None, or a ``Pace`` that
    is ``normal``, which is kept as None: as the song is)."""

    span: tuple[float, float] | None = None
    pace: Pace | None = None

    def __post_init__(self) -> None:
        if self.pace is not None and self.pace.normal:  # one file for the song as it is
            object.__setattr__(self, "pace", None)

    def request(self, folder: Path, rate: int | None = None) -> ExportRequest:
        """The export of this part at ``rate`` into ``folder``, whose readers and names a
        drag's file takes (``stemgui.export``)."""
        from stemgui.export.exporter import ExportRequest

        return ExportRequest(Path(folder), span=self.span, samplerate=rate, pace=self.pace)

    @property
    def label(self) -> str:
        """The part in file names and titles, as an export's: "1m02.50s-1m18.00s 80% +2st";
        "" for the whole song as it is."""
        from stemgui.export.planning import part_label

        return part_label(self.request(Path()))
