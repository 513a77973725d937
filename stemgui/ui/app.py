"""``python -m stemgui``: the QApplication, logging to the user log folder, and the main window.

Songs named on the command line are queued, or handed to the window already open
(``stemgui.ui.single``: one window per user). torch is not imported here: the window is on screen
before the separation engine loads on the worker thread.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stemgui.logs import setup_logging

logger = logging.getLogger(__name__)

_window = None  # the open window (kept referenced while the app runs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemgui",
        description="Split songs into stems, play them together, export them.",
        epilog="Without a window (a server, a script): python -m stemgui separate --help, or "
        "stemgui-separate --help.",
    )
    parser.add_argument("songs", nargs="*", type=Path, help="songs or folders to queue")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug messages on stderr")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="separate and export the bundled demo song headless, check the stems, exit (0: ok)",
    )
    return parser


def _no_display() -> bool:
    """True on Linux with neither an X nor a Wayland display (a server, an ssh session) and no
    other Qt platform asked for: Qt would abort the process with a page about its plugins."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (queueing the songs in ``argv``) and run until it closes."""
    from PySide6.QtCore import QLockFile
    from PySide6.QtWidgets import QApplication

    import stemgui
    from stemgui.ui.window import MainWindow

    args_in = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(args_in):  # before Qt, which aborts the process with no display
        build_parser().parse_args(args_in)
    if _no_display():
        print(
            "stemgui: no display to open the window on; to separate songs without one, use "
            "`python -m stemgui separate SONG...` (or stemgui-separate)",
            file=sys.stderr,
        )
        return 2
    # Qt takes its own options (-platform, -style) out of the list first. A name that is not
    # UTF-8 (a song's Latin-1 bytes, which Python keeps as surrogates) crashed PySide (a
    # segmentation fault, no window): Qt gets it with those bytes written out, put back after.
    for_qt = [_for_qt(a) for a in args_in]
    app = QApplication.instance() or QApplication([_for_qt(sys.argv[0]), *for_qt])
    qt_args = app.arguments()[1:] if argv is None else for_qt
    given = dict(zip(for_qt, args_in))  # each as Qt had it: as it is
    args = build_parser().parse_args([given[a] for a in qt_args if a in given])
    app.setApplicationName("stemgui")
    app.setOrganizationName("stemgui")
    app.setApplicationVersion(stemgui.__version__)
    log_file = setup_logging(args.verbose, console=args.verbose)
    logger.info("stemgui %s starting; log file %s", stemgui.__version__, log_file)
    if args.smoke_test:
        from stemgui.ui.smoke import run_smoke_test

        return run_smoke_test(app)

    from stemgui.ui import settings as S
    from stemgui.ui.single import Answer, hand_over, instance_lock, server_name, wait_for_lock

    name = server_name(S.default_store().fileName())
    lock = instance_lock(name)
    locked = lock.tryLock(0)
    if not locked and lock.error() is not QLockFile.LockError.LockFailedError:
        # no lock file can be made at all (a temporary folder gone or read-only): no window
        # holds it, and asking one for 10 s ended in "open already but does not answer"
        folder = Path(lock.fileName()).parent
        why = "it cannot be written" if os.path.isdir(folder) else "no such folder"
        print(
            f"stemgui: its lock file cannot be made in {folder} ({why}): a second window "
            "would not be noticed; make that folder (TMPDIR), or let it be written",
            file=sys.stderr,
        )
        logger.warning("the lock file %s cannot be made: %s", lock.fileName(), lock.error())
    elif not locked:  # a window runs: it takes the songs, and no second one opens
        answer = hand_over(name, args.songs, lock=lock)
        if answer is Answer.TAKEN:
            print("stemgui is open already: the songs went to its queue")
            return 0
        if answer is Answer.SILENT:
            print(
                "stemgui is open already but does not answer; if the songs do not appear in "
                "its queue, add them in its window, or close it and start again",
                file=sys.stderr,
            )
            return 1
        if not lock.isLocked():  # closing: this launch opens the window once it is gone
            print("stemgui is closing: a new window opens with the songs once it has")
            if not wait_for_lock(lock):
                print(
                    "stemgui is still closing (finishing exports?); start it again once it has",
                    file=sys.stderr,
                )
                return 1
    global _window
    window = _window = MainWindow()
    previous_hook = sys.excepthook
    try:
        with closed_by_signals(window):
            window.intake.listen(name)
            window.show()
            window.schedule_cleanup()  # leftovers of killed runs, after the first paint
            window.restore_session()  # the songs separated last time, from the stem cache
            if args.songs:
                window.add_paths(args.songs)
            sys.excepthook = report_uncaught
            return int(app.exec())
    finally:
        from stemgui.spool import remove_own_spools

        sys.excepthook = previous_hook
        _window = None
        remove_own_spools()  # a stem dragged at a pace, its daemon thread still writing
        lock.unlock()


def _for_qt(argument: str) -> str:
    """``argument`` with the bytes of a name that are not UTF-8 written out (``\\xe9``)."""
    return argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def closed_by_signals(window: Any) -> Iterator[None]:
    """While it lasts, logging out, a ``kill`` or Ctrl-C in the terminal that started the app
    (SIGTERM, SIGHUP, SIGINT) close ``window`` as File ▸ Quit does, so that the queue is kept
    for the next start: SIGTERM and SIGHUP ended the process where it stood, the session lost,
    and Ctrl-C did nothing. Only signals left to their default action (not SIGHUP ignored by
    nohup). Python runs a handler only when the interpreter runs, which Qt's event loop may not
    do for long: the signal wakes a socket the loop watches (``signal.set_wakeup_fd``)."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    previous = {
        number: signal.getsignal(number)
        for number in (getattr(signal, name, None) for name in ("SIGTERM", "SIGHUP", "SIGINT"))
        if number is not None
        and signal.getsignal(number) in (signal.SIG_DFL, signal.default_int_handler)
    }
    try:
        reader, writer = socket.socketpair()  # on Windows, through the loopback interface
    except OSError as error:  # refused (a firewall): the signals end the app as before
        logger.warning("signals cannot close the window: %s", error)
        yield
        return
    for end in (reader, writer):
        end.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def woken() -> None:
        caught = reader.recv(64)  # the signals' numbers
        logger.info("signal %s: the window closes", ", ".join(map(str, caught)))
        if window.isVisible():  # not again while it closes (hidden while stems are stored)
            window.close()

    notifier.activated.connect(woken)
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    for number in previous:
        signal.signal(number, lambda signum, frame: None)  # woken() answers it
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        reader.close()
        writer.close()


def report_uncaught(kind: type[BaseException], error: BaseException, traceback: Any) -> None:
    """A bug in a slot: log it with its traceback and say so in the window, which goes on."""
    logger.critical("uncaught exception", exc_info=(kind, error, traceback))
    if _window is not None:
        from stemgui.ui.messages import unexpected

        _window.show_error(unexpected(None, error))
