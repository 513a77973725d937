"""A saved session's songs as the settings keep them (``settings.SESSION``): the list checked
when the settings are read, and each song read where it is restored, so that one damaged song (or
one a newer version wrote) leaves out that song, not the queue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stemgui.separation import MAX_OVERLAP, MAX_SEGMENT, MAX_SHIFTS, MIN_SEGMENT


def check_session(value: str) -> None:
    """The ``SESSION`` setting's check: a JSON list of songs (each is read where it is restored,
    ``session_song``)."""
    try:
        songs = json.loads(value)
    except (json.JSONDecodeError, RecursionError):  # nested past Python's limit: hand-edited
        raise ValueError("is not a list of songs (JSON)") from None
    if not isinstance(songs, list):
        raise ValueError("is not a list of songs")


_OPTION_TYPES = {
    "model": (str,),
    "device": (str,),
    "segment": (int, float, type(None)),
    "overlap": (int, float),
    "shifts": (int,),
    "two_stems": (str, type(None)),
}


def session_song(entry: Any) -> tuple[Path, dict[str, list], dict[str, Any] | None] | None:
    """One song of a saved session, ``{"path": text, "strips": {stem: [gain dB, solo, mute]},
    "options": {SeparationOptions' fields}}``, as (path, strips, options or None); None when it
    cannot be read (no path: "" is the folder the app started in). Options fields this version
    does not know (a newer one's) are left aside; options missing a field are None. Damaged
    strips are mended where they are used (``mixer.restored_strip``)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        return None
    strips = entry.get("strips", {})
    if not isinstance(strips, dict):
        return None
    strips = {str(name): strip for name, strip in strips.items() if isinstance(strip, list)}
    options = entry.get("options")
    if isinstance(options, dict):  # a newer version's fields left aside: the song is kept
        options = {k: options[k] for k in _OPTION_TYPES if k in options}
    known = isinstance(options, dict) and set(options) == set(_OPTION_TYPES)
    if (
        not known
        or not all(
            isinstance(options[k], types) and not isinstance(options[k], bool)
            for k, types in _OPTION_TYPES.items()
        )
        or not _separable(options)
    ):
        options = None  # separated again with the settings of the day
    return Path(entry["path"]), strips, options


def _separable(options: dict[str, Any]) -> bool:
    """Whether saved options of the right types are ones the ``Separator`` takes (a segment of
    0.1-60 seconds or none, an overlap of 0 to ``MAX_OVERLAP``, 0 to ``MAX_SHIFTS`` shifts): a
    damaged session's NaN or 7.0 failed its song as an unexpected error, 0.99999 ran for days."""
    segment, overlap, shifts = options["segment"], options["overlap"], options["shifts"]
    return (
        (segment is None or MIN_SEGMENT <= segment <= MAX_SEGMENT)
        and 0 <= overlap <= MAX_OVERLAP
        and 0 <= shifts <= MAX_SHIFTS
    )
