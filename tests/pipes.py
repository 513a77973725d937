"""Calls that could block opening a named pipe, run so that a test fails rather than hangs."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def without_waiting(
    call: Callable[[], T], *pipes: Path, seconds: float = 60.0, doing: str | None = None
) -> T:
    """``call()``'s result (or its exception), run on a thread of its own. If it still runs
    after ``seconds``, blocked opening one of ``pipes`` for reading, a writer opened on each
    lets it go and the test fails, naming what waited: ``doing`` (such as "discover([album])"),
    else the test running."""
    outcome: list[T] = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test's thread
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _release(pipes)
        thread.join(seconds)
        _fail(doing, seconds)
    if raised:
        raise raised[0]
    return outcome[0]


@contextlib.contextmanager
def released_after(*pipes: Path, seconds: float = 60.0, doing: str | None = None) -> Iterator[None]:
    """``without_waiting`` for a body that must run on the test's own thread (Qt's calls): if
    it still runs after ``seconds``, a writer is opened on each of ``pipes``, every ``seconds``
    until it ends, so that a read blocked on one goes on, and the test fails."""
    done = threading.Event()
    released = threading.Event()

    def watch() -> None:
        while not done.wait(seconds):
            released.set()
            _release(pipes)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        if released.is_set():
            _fail(doing, seconds)


def _release(pipes: tuple[Path, ...]) -> None:
    """Open a writer on each of ``pipes`` and close it: a reader blocked opening one goes on."""
    for pipe in pipes:
        with contextlib.suppress(OSError):  # ENXIO: nobody reads this one
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))


def _fail(doing: str | None, seconds: float) -> None:
    """Fail the test, saying that ``doing`` (None: the test running) waited on a pipe."""
    if doing is None:  # "tests/x.py::test_y (call)"
        doing = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
    pytest.fail(f"{doing} waited on a named pipe for {seconds} s")
