"""What the queue tests share: waiting until a ``QueueController`` has no song running or
waiting."""

from __future__ import annotations

from tests.ui.conftest import TIMEOUT_MS


def _wait_idle(qtbot, ctl):
    qtbot.waitUntil(
        lambda: ctl.current is None and ctl.model.next_waiting() is None, timeout=TIMEOUT_MS
    )
