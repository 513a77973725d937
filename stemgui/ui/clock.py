"""Times as the window shows them: the clock (``m:ss.t``) and a loop region's span."""

from __future__ import annotations

import math


def _units(seconds: float, decimals: int) -> int:
    """``seconds`` in units of the last decimal shown, a half rounded up as a clock reads
    (Python's ``round`` takes it to even: a 0.05 s song read "0:00.0", 0.25 s "0:00.2")."""
    return math.floor(max(0.0, seconds) * 10**decimals + 0.5)


def clock(seconds: float, decimals: int = 1) -> str:
    """``m:ss.t`` (``m:ss`` for no decimals), rounded whole: 59.97 s is 1:00.0, not 0:60.0."""
    scale = 10**decimals
    minutes, rest = divmod(_units(seconds, decimals), 60 * scale)
    width = 3 + decimals if decimals else 2
    return f"{minutes}:{rest / scale:0{width}.{decimals}f}"


def loop_times(start: float, end: float, decimals: int = 1) -> tuple[str, str]:
    """A loop region's times and its length, as the clock shows them: ("0:08.4–0:12.6",
    "4.2 s"); a minute or longer, its length on the clock too ("1:02.5")."""
    length = end - start
    scale = 10**decimals
    span = (
        f"{_units(length, decimals) / scale:.{decimals}f} s"
        if length < 60
        else clock(length, decimals)
    )
    return f"{clock(start, decimals)}–{clock(end, decimals)}", span
