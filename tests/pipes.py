"""Calls that could block opening a named pipe, run so that a test fails rather than hangs."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
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
        for pipe in pipes:
            with contextlib.suppress(OSError):  # ENXIO: nobody reads this one
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
        if doing is None:  # "tests/x.py::test_y (call)"
            doing = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        pytest.fail(f"{doing} waited on a named pipe for {seconds} s")
    if raised:
        raise raised[0]
    return outcome[0]
