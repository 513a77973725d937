"""Freed memory goes back to the system after each song (glibc keeps it otherwise)."""

from __future__ import annotations

import sys

import pytest

from stemgui import memory


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_memory_is_returned():
    blocks = [bytearray(2000) for _ in range(40_000)]  # 80 MB of malloc'd blocks
    pin = bytearray(2000)  # above them on the heap: glibc cannot shrink the heap by itself
    del blocks
    before = _rss_kib()
    assert memory.release_free_memory()
    assert _rss_kib() < before - 20_000  # at least 20 MB went back
    del pin


def test_nothing_to_do_without_malloc_trim(monkeypatch):
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    assert memory.release_free_memory() is False
