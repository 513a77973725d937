"""What the original mix row drags out (``stemgui.ui.stem_drags.StemDrags.start_song``): the
song file itself where a DAW takes it as it is, else a WAV of the song as decoded, written as a
stem's is (``stemgui.ui.drag_out.MIX``).

The file itself goes only as WAV, AIFF, FLAC or MP3, the formats DAWs import everywhere (and
that the app's first decoder, libsndfile, reads: ``stemgui.audio.decode``), and only for a drag
of the whole song as it is: an .m4a, a video (.mp4, .mkv, .webm, .mov), .ogg, .opus or .wma,
which many DAWs cannot import, and the part a drag takes (the loop region, the speed and key
heard: ``DragPart``) drop the decoded mix, as the stems dragged beside it are.
"""

from __future__ import annotations

import os
from pathlib import Path

from stemgui.ui.drag_part import DragPart

AS_IS = frozenset({".wav", ".wave", ".aif", ".aiff", ".flac", ".mp3"})
"""The song files the original mix row drags out as they are, by their extension."""


def as_is(song: str | os.PathLike[str], part: DragPart) -> bool:
    """Whether the original mix of ``song`` dragged out as ``part`` is the song file itself:
    one of ``AS_IS``, dragged whole as it is."""
    return part == DragPart() and Path(song).suffix.lower() in AS_IS
