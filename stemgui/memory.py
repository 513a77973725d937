"""How the program's memory comes from and goes back to the operating system (glibc only).

Reuse (``reuse_freed_memory``, once at start-up): separating one chunk allocates and frees
hundreds of megabytes of temporaries. By default glibc maps every block over its mmap threshold
(128 KB, raised as blocks are freed, to 32 MB at most) fresh from the kernel and unmaps it when
it is freed, and a thread other than the main one gets heaps of at most 64 MB, so every chunk
touches fresh pages: 180,000-360,000 page faults per 7.8 s chunk of the official htdemucs on a
worker thread. With one arena and blocks up to ``REUSE_BELOW`` taken from the heap and kept there
when freed, later chunks mostly reuse the same pages (0-27,000 faults a chunk): on this project's
machine the app separated a 10 s song in 8.5-8.7 s instead of 10.2 s and the command line a 60 s
song in 44-46 s instead of 49-54 s. The peak moves by the holes the heap keeps: +0-100 MB on that
60 s song, 1633 MB instead of 1480 on a 10-minute one, 2584 MB instead of 2668 on a 60-minute one.

Release (``release_free_memory``): what the heap keeps after songs of different sizes have come and
gone is returned by ``malloc_trim(0)``, which the app calls when its queue rests (and the process
exit does for the command line). Elsewhere (macOS, Windows, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable

# Blocks up to this size come from the heap and stay there when freed (larger ones, such as a
# long song's whole buffers, are mapped and unmapped as before); free memory at the top of the
# heap is kept up to the same size, so one chunk's temporaries are there for the next.
REUSE_BELOW = 128 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both or neither: not glibc otherwise
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


def _malloc_trim() -> Callable[[int], int] | None:
    libc = _glibc()
    return None if libc is None else libc.malloc_trim


def reuse_freed_memory() -> bool:
    """Keep freed blocks for reuse instead of unmapping them (see above); True when set.

    Call it first thing, before torch and Qt start their threads: glibc fixes its number of arenas
    when a second thread first allocates, and in a thread's own arena blocks over 64 MB are
    always mapped afresh.
    """
    libc = _glibc()
    if libc is None:
        return False
    return all(
        libc.mallopt(parameter, value) == 1
        for parameter, value in (
            (_M_ARENA_MAX, 1),
            (_M_MMAP_THRESHOLD, REUSE_BELOW),
            (_M_TRIM_THRESHOLD, REUSE_BELOW),
        )
    )


def release_free_memory() -> bool:
    """Return freed heap memory to the system; True when something was returned."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
