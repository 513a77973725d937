"""Logging set-up shared by the command-line tool and the app.

Two handlers, installed once by the program's entry point (never by a library module):

- a rotating file in the user log folder (``platformdirs.user_log_dir("stemgui")``, or the folder
  named by the ``STEMGUI_LOG_DIR`` environment variable) that keeps everything at INFO and
  stemgui's own DEBUG messages, tracebacks included;
- a console handler on stderr for stemgui's messages: one line each, ``error: ...`` for errors,
  with the traceback only when ``verbose``. Without ``verbose`` it shows warnings, errors and
  the INFO lines of the front end (``stemgui.cli``) only; with it, every DEBUG message.

Modules only ever call ``logging.getLogger(__name__)``; this module owns the handlers.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TextIO

LOG_FILE_NAME = "stemgui.log"
MAX_LOG_BYTES = 1_000_000
BACKUP_COUNT = 3
LOG_DIR_ENV = "STEMGUI_LOG_DIR"

_FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
_OURS = "_stemgui_handler"  # attribute marking the handlers this module installed


def log_folder() -> Path:
    """The folder of the log file: ``$STEMGUI_LOG_DIR`` if set, else the user log folder."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("stemgui", appauthor=False))


class ConsoleFormatter(logging.Formatter):
    """One line per record: the bare message for INFO and below, ``error: message`` above.

    Tracebacks are shown only when ``verbose``; the log file keeps them in any case.
    """

    def __init__(self, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            message = f"error: {message}"
        elif record.levelno >= logging.WARNING:
            message = f"warning: {message}"
        if self.verbose and record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        return message


# Loggers whose INFO messages the console shows without --verbose: the front ends' own reports.
CONSOLE_INFO_LOGGERS = ("stemgui.cli",)


def _quiet_console(record: logging.LogRecord) -> bool:
    """Without --verbose the console shows warnings, errors, and the front end's own INFO lines."""
    return record.levelno >= logging.WARNING or (
        record.levelno >= logging.INFO and record.name in CONSOLE_INFO_LOGGERS
    )


def _remove_ours(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, _OURS, False):
            logger.removeHandler(handler)
            handler.close()


def reset_logging() -> None:
    """Remove and close the handlers ``setup_logging`` installed (tests, app shutdown)."""
    _remove_ours(logging.getLogger())
    _remove_ours(logging.getLogger("stemgui"))


def setup_logging(
    verbose: bool = False, *, console: bool = True, stream: TextIO | None = None
) -> Path | None:
    """Install the file and console handlers; return the log file path (None if unwritable).

    Calling it again replaces the handlers it installed before (tests and the CLI call it per run),
    and leaves other handlers (pytest's, the app's) alone.

    Args:
        verbose: console shows DEBUG messages and tracebacks.
        console: install the stderr handler (the GUI passes False).
        stream: where the console handler writes; default ``sys.stderr`` at the time of the call.
    """
    root = logging.getLogger()
    ours = logging.getLogger("stemgui")
    reset_logging()
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)

    if console:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handler.setFormatter(ConsoleFormatter(verbose))
        if not verbose:
            handler.addFilter(_quiet_console)
        setattr(handler, _OURS, True)
        ours.addHandler(handler)

    folder = log_folder()
    path = folder / LOG_FILE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=MAX_LOG_BYTES,
            backupCount=BACKUP_COUNT,
            encoding="utf-8",
            errors="backslashreplace",  # a file name that is not UTF-8: "Caf\udce9.wav"
        )
    except OSError as error:
        ours.warning(
            "cannot write the log file in %s (%s); logging to the console only", folder, error
        )
        return None
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(logging.Formatter(_FILE_FORMAT))
    setattr(file_handler, _OURS, True)
    root.addHandler(file_handler)
    return path
