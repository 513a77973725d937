"""The two helpers that run work off the window's thread are named for how they differ (both
were ``on_thread``): ``tempo_menu.emit_from_thread`` calls its ``deliver`` on the work's own
thread (a signal's emit) and returns a future the close waits for; ``stem_cache_tasks.
run_cache_work`` hands the outcome back on the window's thread, a failure in words."""

from __future__ import annotations

import threading

from stemgui.ui.stem_cache_tasks import run_cache_work
from stemgui.ui.tempo_menu import emit_from_thread


def test_emit_from_thread_delivers_on_the_work_s_thread_and_returns_its_future():
    delivered: list[tuple[object, str]] = []
    done = emit_from_thread(
        "stemgui-test",
        lambda: 42,
        lambda result: delivered.append((result, threading.current_thread().name)),
        "adding up",
    )
    assert done.result(timeout=10) == 42
    assert delivered == [(42, "stemgui-test")]
    failed = emit_from_thread("stemgui-test", lambda: 1 / 0, delivered.append, "dividing")
    assert failed.result(timeout=10) is None and delivered[-1] is None  # logged, not raised


def test_run_cache_work_hands_back_on_the_window_s_thread(qtbot, tmp_path):
    from PySide6.QtCore import QObject

    class Cache:
        root = tmp_path / "stemcache"

    def unreadable() -> None:
        raise PermissionError(13, "Permission denied")

    parent, got = QObject(), []
    ended = lambda value: got.append((value, threading.current_thread().name))  # noqa: E731
    run_cache_work(parent, Cache(), lambda: 7, ended, ended, "usage")
    qtbot.waitUntil(lambda: len(got) == 1, timeout=10_000)
    run_cache_work(parent, Cache(), unreadable, ended, ended, "usage")
    qtbot.waitUntil(lambda: len(got) == 2, timeout=10_000)
    assert got[0] == (7, "MainThread")
    said, thread = got[1]
    assert thread == "MainThread"
    assert said == (
        f"The stem cache folder {Cache.root} cannot be read (Permission denied): make it a "
        "folder you can read and write."
    )
