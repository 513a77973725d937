"""Hand memory that the program freed back to the operating system.

glibc keeps freed blocks in its per-thread arenas for reuse; after songs of different sizes have
come and gone (decoded mixes and stems are freed on one thread and allocated on another), a long
session's resident size keeps tens of megabytes per song that nothing uses. ``malloc_trim(0)``
returns them. Elsewhere (macOS, Windows, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
from collections.abc import Callable

logger = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> bool:
    """Return freed heap memory to the system; True when something was returned."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
