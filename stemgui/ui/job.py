"""One song in the queue: its ``Job`` (what it is, what became of it, what shows it) and the
``JobState`` it moves through.

A job moves ``WAITING -> DECODING -> LOADING -> SEPARATING -> DONE``, or ends ``FAILED`` (with
the reason in plain words) or ``CANCELLED``. :mod:`stemgui.ui.queue` holds the jobs in queue
order.
"""

from __future__ import annotations

import enum
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stemgui.ui import settings as S


class JobState(enum.Enum):
    WAITING = "waiting"
    DECODING = "decoding"
    LOADING = "loading model"
    SEPARATING = "separating"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Being worked on right now."""
        return self in (JobState.DECODING, JobState.LOADING, JobState.SEPARATING)

    @property
    def ended(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One song in the queue.

    ``stemset`` appears when separation starts (silent, filled in as chunks finish) and is
    complete once ``state`` is DONE. ``eta`` is the estimated seconds left, or None.
    """

    path: Path
    id: int = field(default_factory=lambda: next(_ids))
    state: JobState = JobState.WAITING
    fraction: float = 0.0
    eta: float | None = None
    error: str = ""
    retry_helps: bool = True  # False: it failed as a file that is not audio at all
    stemset: Any = None  # stemgui.stems.stemset.StemSet
    waveforms: Any = None  # stemgui.stems.waveform.StemWaveforms of the finished stems
    model_name: str = ""
    notes: tuple[str, ...] = ()
    export_folder: Path | None = None
    mixer: Any = None  # stemgui.stems.mixer.MixerState, made when the stems are first shown
    cache_key: tuple | None = None  # the file and the options its stems were made with
    # a restored song's own SeparationOptions (its stems come from the cache as they were);
    # None: the settings' when it starts
    options: Any = None
    stem_entry: str = ""  # the stem cache entry holding its stems once stored or found there
    # where its full stems are kept, for the next start (``restore``): a ``restore.Kept``
    kept: Any = None
    hold: str = ""  # why the queue does not start it yet ("no model yet")
    removed: bool = False  # taken out while running: dropped when it ends
    stopping: bool = False  # cancelled while running: until the worker stops at its chunk
    strips: dict = field(default_factory=dict)  # stem -> StemControl, for its first mixer
    # where the player was on this song when another was shown, or at the last close: a
    # ``place.Place``, put back when it is shown again
    place: Any = None

    @property
    def title(self) -> str:
        return self.path.name

    @property
    def analysis(self) -> Any:
        """Its tempo and key (``stemgui.stems.analysis.Analysis``), found by the worker with
        its waveforms; None until then."""
        return getattr(self.waveforms, "analysis", None)

    def _quality(self) -> str:
        """The quality preset the stems were made with, unless the default (Balanced)."""
        options = self.cache_key[-1] if self.cache_key else None
        if options is None:
            return ""
        key = S.preset_named(options.segment, options.overlap, options.shifts)
        return "" if key == S.QUALITY.default else key.title()

    @property
    def reason(self) -> str:
        """``error`` without this song's path in front: where the song is named already."""
        own = f"{self.path}: "
        return self.error[len(own) :] if self.error.startswith(own) else self.error

    def status_text(self) -> str:
        """The state in words, as the queue shows it."""
        if self.removed:  # until the worker stops at its next chunk
            return "removing…"
        if self.stopping:
            return "cancelling…"
        if self.state is JobState.SEPARATING:
            text = f"separating {math.floor(self.fraction * 100):d} %"
            if self.eta is not None and self.eta >= 1:
                text += f", {format_duration(self.eta)} left"
            return text
        if self.state is JobState.FAILED:
            return f"failed: {self.reason}"
        if self.state is JobState.WAITING and self.hold:
            return f"waiting: {self.hold}"
        if self.state is JobState.DONE and self.stemset is not None:
            # with what: a song added again to redo it otherwise shows which row is which
            from stemgui.stems.stemset import is_two_stems

            names = tuple(self.stemset.names)
            two = is_two_stems(names)
            made = ", ".join(
                filter(
                    None,
                    [
                        self.model_name,
                        self._quality(),
                        f"{names[0]} / no {names[0]}" if two else "",
                    ],
                )
            )
            return f"done ({made})" if made else "done"
        return self.state.value


def song_file(path: str | Path) -> Path:
    """The file a song's ``path`` leads to (links followed, ``..`` taken out), by which the
    queue knows the same song reached two ways: a link to it or ``sub/../a.wav`` queued it
    twice."""
    return Path(os.path.realpath(path))


def format_duration(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a duration in seconds."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
