"""Sizes in words for people, in one convention: decimal units, 1 GB = 10^9 bytes and
1 MB = 10^6, as macOS's Finder, GNOME's Files and the label on a disk count them (Windows
Explorer says "GB" for 2^30 bytes: the same cache reads 7 % less there).

Every size the user reads goes through ``in_words`` (the stem cache's use, what clearing it
freed, the room a long song's stems need), and the stem cache's limit, set in GB, is in the
same GB, so that a full 4 GB cache reads 4.0 GB.
"""

from __future__ import annotations

MB = 10**6
GB = 10**9


def in_words(nbytes: int) -> str:
    """ "1.5 GB" from a GB up (and what reads 1000 MB), "420 MB" below."""
    if round(nbytes / MB) >= 1000:
        return f"{nbytes / GB:.1f} GB"
    return f"{nbytes / MB:.0f} MB"
