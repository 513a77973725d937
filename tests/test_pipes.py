"""tests/pipes.py's guard: a call blocked on a named pipe fails the test, saying what waited."""

from __future__ import annotations

import os
import sys

import pytest

from tests.pipes import released_after, without_waiting

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no named pipes in folders there")


def test_a_blocked_call_fails_naming_what_it_was_doing(tmp_path):
    """The failure named the call as "<function ...<lambda> at 0x7f...>", which says nothing."""
    pipe = tmp_path / "song.wav"
    os.mkfifo(pipe)
    with pytest.raises(pytest.fail.Exception) as caught:
        without_waiting(pipe.read_bytes, pipe, seconds=0.1, doing="reading song.wav")
    assert str(caught.value) == "reading song.wav waited on a named pipe for 0.1 s"


def test_without_a_description_the_test_is_named(tmp_path):
    pipe = tmp_path / "song.wav"
    os.mkfifo(pipe)
    with pytest.raises(pytest.fail.Exception) as caught:
        without_waiting(lambda: pipe.read_bytes(), pipe, seconds=0.1)
    test = "tests/test_pipes.py::test_without_a_description_the_test_is_named"
    assert str(caught.value) == f"{test} waited on a named pipe for 0.1 s"


def test_a_call_that_does_not_block_gives_its_result_or_its_error(tmp_path):
    assert without_waiting(lambda: 42) == 42
    with pytest.raises(FileNotFoundError):
        without_waiting((tmp_path / "absent.wav").read_bytes)


def test_a_body_blocked_on_the_tests_thread_is_let_go_and_fails(tmp_path):
    """Qt's calls stay on the test's thread: the pipe is opened for writing beside them."""
    pipe = tmp_path / "song.wav"
    os.mkfifo(pipe)
    read: list[bytes] = []
    guard = released_after(pipe, seconds=0.1, doing="dropping song.wav")
    with pytest.raises(pytest.fail.Exception) as caught, guard:
        read.append(pipe.read_bytes())
    assert read == [b""]  # let go: a writer came and went
    assert str(caught.value) == "dropping song.wav waited on a named pipe for 0.1 s"
    with released_after(pipe, seconds=60):
        pass  # not blocked: nothing said
