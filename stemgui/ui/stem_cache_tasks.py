"""The stem cache's slow work on a thread of its own: counting what it holds, clearing it,
applying a size limit. Walking or deleting a big cache on the GUI thread held the window for
seconds.

``run_cache_work`` runs one such piece of work and hands the outcome back on the GUI thread:
what the work returned, or why it failed in words (the folder cannot be read; an unexpected
error, logged), each to its own callback (``stemgui.ui.tempo_menu.emit_from_thread`` instead
calls its one callback on the work's thread, a signal's emit, and returns a future).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)


def unreadable(cache: Any, error: OSError) -> str:
    """What to say when the folder of ``cache`` cannot be read (``error``), with what to do."""
    logger.warning("the stem cache %s cannot be read: %s", cache.root, error)
    return (
        f"The stem cache folder {cache.root} cannot be read ({error.strerror or error}): make "
        "it a folder you can read and write."
    )


class _Relay(QObject):
    """Carries the outcomes of ``run_cache_work`` from their threads to the GUI thread; made
    once, never deleted (an object per task, deleted once its outcome was handed over, crashed the
    app in its destructor now and then).

    Signals:
        done(hand_over, outcome): ``hand_over(outcome)`` is called on the GUI thread.
    """

    done = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._hand_over)  # queued: emitted on the threads

    def _hand_over(self, hand_over: Callable[[Any], None], outcome: Any) -> None:
        hand_over(outcome)


_relay: _Relay | None = None


def run_cache_work(
    parent: QObject,
    cache: Any,
    work: Callable[[], Any],
    then: Callable[[Any], None],
    failed: Callable[[str], None],
    name: str,
) -> None:
    """Run ``work()`` (on the stem cache ``cache``) on a thread named
    ``stemgui-stem-cache-<name>``; then, on the GUI thread, ``then(result)`` with what it
    returned, or ``failed(words)`` with why it failed (``unreadable``, or for an unexpected
    error a message naming the folder, the error logged). Nothing is handed over once
    ``parent`` is gone (a dialog closed meanwhile). Called on the GUI thread."""
    global _relay
    if _relay is None:
        _relay = _Relay()
    relay = _relay

    def run() -> None:
        from stemgui.ui.messages import unexpected

        outcome: tuple[bool, Any]
        try:
            outcome = (True, work())
        except OSError as error:
            outcome = (False, unreadable(cache, error))
        except Exception as error:  # a bug: said, not lost on a thread
            logger.exception("the stem cache's %s failed", name)
            outcome = (False, unexpected(cache.root, error))
        relay.done.emit(hand_over, outcome)

    def hand_over(outcome: tuple[bool, Any]) -> None:
        if not shiboken6.isValid(parent):
            return
        ok, value = outcome
        (then if ok else failed)(value)

    threading.Thread(target=run, name=f"stemgui-stem-cache-{name}", daemon=True).start()
