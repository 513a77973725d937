"""The time left of a separation, from its progress reports.

The rate is measured from the first report past the first chunk, which carries the network's
one-time warm-up (a second or so), and afresh when a new note says the job runs otherwise (on
the CPU now, after the GPU ran out of memory). No estimate is given before the job has moved
``MIN_FRACTION`` past that report: one chunk's time says little about the whole song.
"""

from __future__ import annotations

import time

MIN_FRACTION = 0.02


class Eta:
    """Seconds left of one job; ``restart`` when a new job (or a new stage) begins."""

    def __init__(self) -> None:
        self._from: tuple[float, float, int] | None = None  # (time, fraction, notes)

    def restart(self) -> None:
        self._from = None

    def update(self, fraction: float, notes: int) -> float | None:
        """The seconds left after a report of ``fraction`` done (0 to 1) with ``notes`` notes
        so far, or None while it cannot be told."""
        now = time.monotonic()
        # not the report before the first chunk (fraction 0): from the end of the first chunk
        if fraction > 0 and (self._from is None or notes != self._from[2]):
            self._from = (now, fraction, notes)
        if self._from is None:
            return None
        since, base, _ = self._from
        if fraction - base < MIN_FRACTION:
            return None
        return (now - since) * (1.0 - fraction) / (fraction - base)
