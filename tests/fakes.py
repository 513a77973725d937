"""Stand-ins shared by the tests: an audio output that plays nothing, a cancel token; what of
a memory-mapped file is in memory; folders that cannot be read, written or entered."""

from __future__ import annotations

import os


class FakeOutput:
    """An audio output that plays nothing (no sound card in the tests; the transport is driven
    by the tests). ``closed`` says whether the window let go of it."""

    def __init__(self, stemset=None, mixer=None, transport=None):
        self.closed = False

    def close(self):
        self.closed = True


class FakeClock:
    """A ``time.monotonic`` that stands still until the test moves ``now`` on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CancelAfter:
    """A cancel token that turns on at its ``calls``-th check."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.calls


def resident(array, start: int, stop: int) -> float:
    """The share of the pages of frames [start, stop) of every row of a memory-mapped
    (..., frames) ``array`` that are in this process's memory (Linux's /proc/self/pagemap;
    the test is skipped elsewhere)."""
    import mmap
    import struct

    import pytest

    try:
        pagemap = open("/proc/self/pagemap", "rb")  # noqa: SIM115 (closed below)
    except OSError:
        pytest.skip("needs Linux's /proc/self/pagemap")
    page = mmap.PAGESIZE
    rows = array.reshape(-1, array.shape[-1])  # a view of the same memory
    present = total = 0
    with pagemap:
        for row in range(rows.shape[0]):
            begin = rows[row, start:stop].ctypes.data
            end = begin + (stop - start) * rows.itemsize
            for address in range(-(-begin // page) * page, end // page * page, page):
                pagemap.seek(address // page * 8)
                (entry,) = struct.unpack("Q", pagemap.read(8))
                present += entry >> 63
                total += 1
    assert total, "no whole page in that range"
    return present / total


def unreadable(monkeypatch, *folders):
    """``folders`` cannot be listed, as a folder of another user's (0700) cannot for anyone but
    them and root: listing one raises PermissionError (root lists anything, so chmod won't do)."""
    real_scandir = os.scandir
    refused = {os.fspath(folder) for folder in folders}

    def scandir(path="."):
        if os.fspath(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def unwritable(monkeypatch, *folders, refused=os.W_OK | os.X_OK):
    """``folders`` cannot be written in (``os.W_OK``) or entered (``os.X_OK``), as another
    user's folder cannot: ``os.access`` says so for the ``refused`` modes (root's says yes to
    any folder, so chmod won't do; what is written there is not refused)."""
    real_access = os.access
    closed = {os.path.abspath(folder) for folder in folders}

    def access(path, mode, *args, **kwargs):
        if mode & refused and os.path.abspath(path) in closed:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
