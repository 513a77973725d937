"""What ``stemgui-separate`` shows while a track runs: a progress bar on a terminal (the track
and its number in the batch), log lines written above the bar rather than after it on its line,
a line per track where there is no terminal, and the separator's lines named after the track.
A model being downloaded has a bar of its own (``tqdm_progress``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stemgui.separation.download import ProgressCallback

# The front end's logger: its INFO lines reach the console without -v
# (stemgui.logs.CONSOLE_INFO_LOGGERS).
logger = logging.getLogger("stemgui.cli")


@contextlib.contextmanager
def track_progress(track: Path, count: tuple[int, int] | None, total: float) -> Iterator[Any]:
    """A tqdm bar of ``total`` seconds for ``track`` on stderr, shown only on a terminal;
    ``count``: (this track's number, the tracks') or None. Without a bar (no terminal, or one
    that says it has no columns) the track's start is said on a line of its own (for a batch).
    While it is open, the console's log lines are written above the bar and what the separator
    logs is prefixed with the track's path."""
    from tqdm import tqdm

    desc = track.name if count is None else f"{track.name} (%d of %d)" % count
    columns = _terminal_columns(sys.stderr)
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(
                total=total,
                unit="s",
                desc=desc,
                file=sys.stderr,
                disable=True if columns == 0 else None,  # no room for a bar: lines instead
                ncols=columns - 1 if columns else None,  # the last column left, as tqdm does
                # room for the one bar: tqdm reads a pty made without a size as -1 rows (its
                # height less one) and then draws nothing, COLUMNS set or not
                nrows=2,
                leave=False,
            )
        )
        stack.enter_context(_naming_track(track))
        if not bar.disable:
            stack.enter_context(_above_the_bar())
        if bar.disable and count is not None:  # no bar (not a terminal): said in words
            logger.info("%s: separating (%d of %d)", track, *count)
        yield bar


def _terminal_columns(stream: Any) -> int | None:
    """The width of the terminal ``stream`` shows on: COLUMNS when set above 0 (as
    ``shutil.get_terminal_size`` reads it), else the terminal's own, 0 where it does not know
    (a serial console, a pty made without a size: tqdm drew its bar cut short there); None
    for a stream that is no file."""
    with contextlib.suppress(KeyError, ValueError):
        if (columns := int(os.environ["COLUMNS"])) > 0:
            return columns
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None


class _BarSafeStream:
    """A stream that writes through ``tqdm.write``: the progress bar is cleared first and
    drawn again below, rather than the text running on after it on its line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text, file=self.stream, end="")

    def flush(self) -> None:
        self.stream.flush()


@contextlib.contextmanager
def _above_the_bar() -> Iterator[None]:
    """While a progress bar is shown, the console's log lines are written above it."""
    handlers = [
        handler
        for handler in logging.getLogger("stemgui").handlers
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr
    ]
    for handler in handlers:
        handler.setStream(_BarSafeStream(sys.stderr))
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(sys.stderr)


@contextlib.contextmanager
def _naming_track(track: Path) -> Iterator[None]:
    """Prefix what the separator logs (out-of-memory retries) with the track's path."""

    def name_it(record: logging.LogRecord) -> bool:
        record.msg, record.args = f"{track}: {record.getMessage()}", None
        return True

    separator_logger = logging.getLogger("stemgui.separation.separator")
    separator_logger.addFilter(name_it)
    try:
        yield
    finally:
        separator_logger.removeFilter(name_it)


@contextlib.contextmanager
def tqdm_progress(description: str) -> Iterator[ProgressCallback]:
    """A progress callback drawing a tqdm bar (for the command line), closed on exit."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit="B", unit_scale=True, unit_divisor=1024, disable=None)
    try:

        def update(done: int, total: int | None) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        yield update
    finally:
        bar.close()
