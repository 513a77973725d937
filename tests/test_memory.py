"""Freed memory goes back to the system after each song (glibc keeps it otherwise)."""

from __future__ import annotations

import subprocess
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


# Run in a fresh interpreter: the allocator is set up once for the whole process, first thing.
_REUSE_SCRIPT = """
import ctypes, resource, sys, threading
from stemgui import memory

if sys.argv[1] == "reuse":
    assert memory.reuse_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
SIZE = 96 * 2**20  # a chunk's temporary of the official htdemucs is up to 66 MB
faults = []

def chunks():  # on a thread, as the app's worker: a big block written, freed, four times
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(SIZE)
        ctypes.memset(block, 1, SIZE)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

thread = threading.Thread(target=chunks)
thread.start()
thread.join()

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

held = rss_kib()
memory.release_free_memory()
print(max(faults[1:]), held - rss_kib())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("mode", ["default", "reuse"])
def test_big_blocks_freed_on_a_thread_are_reused_and_go_back_at_rest(mode):
    result = subprocess.run(
        [sys.executable, "-c", _REUSE_SCRIPT, mode], capture_output=True, text=True, check=True
    )
    faults, returned_kib = map(int, result.stdout.split())
    pages = 96 * 2**20 // 4096
    if mode == "default":
        # glibc maps a block this big afresh each time it is asked for: every page faults again.
        assert faults > 0.9 * pages
    else:
        # Kept in the heap when freed, the block's pages serve the next one; the trim at rest
        # (the app's, when its queue rests) still hands them back.
        assert faults < 0.01 * pages
        assert returned_kib > 80 * 1024


def test_reuse_is_not_set_up_without_glibc(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    assert memory.reuse_freed_memory() is False


_TRAINING_SCRIPT = """
import sys
import training.__main__ as cli
from stemgui import memory

loaded = ["numpy" in sys.modules]
memory.reuse_freed_memory = lambda: loaded.append("numpy" in sys.modules) or True
try:
    cli.main(["--help"])
except SystemExit:
    pass
print(loaded)
"""


def test_the_training_command_sets_the_allocator_up_before_numpy_loads():
    # As stemgui's own commands do: glibc fixes its arenas when numpy's and torch's threads
    # first allocate (a CPU training step took 0.70 of the time with it: bench/train_speed.py).
    result = subprocess.run(
        [sys.executable, "-c", _TRAINING_SCRIPT], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[-2] == "[False, False]"
