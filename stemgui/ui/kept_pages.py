"""The pages of a memory-mapped song the player keeps in memory: those around the playhead.

Played through, a 60-minute song's stems file would otherwise all count in the app's memory
(4.9 GB): every ``player.TRIM_POLLS`` polls the player lets go of the pages read so far (played,
drawn, exported) but those ``KEEP_BEHIND`` seconds behind the playhead to ``KEEP_AHEAD`` ahead,
and the loop's start, where each wrap lands (not read back from the file on the audio thread).
The file keeps them (``stemgui.spool.release_outside``).
"""

from __future__ import annotations

from typing import Any

KEEP_BEHIND, KEEP_AHEAD = 2.0, 10.0
"""Seconds around the playhead whose pages are kept."""


def let_go_of_pages(stemset: Any, transport: Any) -> None:
    """Drop from memory the pages of ``stemset``'s memory-mapped stems (and mix) read so far but
    those around ``transport``'s playhead and its loop's start. What is not final yet is left
    to the separation."""
    from stemgui.spool import release_outside

    position, rate = transport.position, stemset.samplerate
    keep = [(position - round(KEEP_BEHIND * rate), position + round(KEEP_AHEAD * rate))]
    if transport.loop_enabled and transport.loop is not None:
        start = transport.loop[0]
        keep.append((start, start + round(KEEP_AHEAD * rate)))
    for array in (stemset.data, stemset.mix):
        if array is not None:
            release_outside(array, keep, stemset.frames_ready)
