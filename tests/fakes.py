"""Stand-ins shared by the tests: an audio output that plays nothing, a cancel token."""

from __future__ import annotations


class FakeOutput:
    """An audio output that plays nothing (no sound card in the tests; the transport is driven
    by the tests). ``closed`` says whether the window let go of it."""

    def __init__(self, stemset=None, mixer=None, transport=None):
        self.closed = False

    def close(self):
        self.closed = True


class CancelAfter:
    """A cancel token that turns on at its ``calls``-th check."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.calls
