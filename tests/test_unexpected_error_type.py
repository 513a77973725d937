"""``stemgui.errors.unexpected``, the words of an error nothing foresaw, in the app and on the
command line: the exception's type is named where its message alone does not say it."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.errors import unexpected

DETAILS = "Details are in the log file log.txt."


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (KeyError("x"), "KeyError: 'x'"),  # read "('x')": a key missing, but which bug?
        (IndexError("list index out of range"), "IndexError: list index out of range"),
        (ZeroDivisionError(), "ZeroDivisionError"),  # no message: the type alone, once
        (RuntimeError("RuntimeError: CUDA failed"), "RuntimeError: CUDA failed"),  # said already
        (OSError(5, "Input/output error"), "OSError: [Errno 5] Input/output error"),
    ],
)
def test_the_type_of_the_error_is_named_once(error, said):
    """A bare KeyError('x') read "a.wav: unexpected error ('x'), a fault in stemgui": its
    message is only the key, and nothing said a key was missing."""
    assert unexpected(Path("a.wav"), error, DETAILS) == (
        f"a.wav: unexpected error ({said}), a fault in stemgui. {DETAILS}"
    )
    assert unexpected(None, error, DETAILS).startswith(f"Unexpected error ({said}), a fault")


def test_a_message_on_several_lines_is_one_line_after_the_type():
    error = RuntimeError("the kernel failed\n\n  on this input\n")
    assert unexpected("song.wav", error, DETAILS).startswith(
        "song.wav: unexpected error (RuntimeError: the kernel failed on this input), a fault"
    )
