"""The songs of the last session answered from the stem cache at start-up, without the model.

The worker finds a song's stems in the cache by a key made of the sha256 of the song's bytes and
the model's identity: torch (the model store), then a hash of each song, one after the other, and
only once the models are listed (the queue waits for that): 1 s or more after the window showed,
before the first restored song came back. The session keeps what the worker found instead
(``Kept``: the cache entry, and the song's and the model file's size and modification time
then). At the next start a song whose files are as they were is answered from that entry on a
thread of its own (``answer_kept``), while torch loads; a song changed since (or its model file),
or whose entry is gone, goes the worker's way: hashed, and separated again if its new bytes have
no stems. A model of the store replaced under its name is not noticed here (its name has no file
to look at): such a song keeps the stems it had when the window closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Stamp = tuple[int, int]
"""(size in bytes, modification time in ns) of a file."""


def file_stamp(spec: str | Path) -> Stamp | None:
    """(size, modification time in ns) of the file ``spec`` names; None for "", a store name or
    a file that cannot be read."""
    try:
        stat = Path(spec).stat() if spec else None
    except OSError:
        return None
    return None if stat is None else (stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class Kept:
    """Where a finished song's full stems are kept: the stem cache ``entry``, and the ``song``
    file's and the ``model`` file's stamps when the worker recognised the song (None: no file,
    e.g. a model of the store)."""

    entry: str
    song: Stamp | None
    model: Stamp | None

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "song": self.song, "model": self.model}

    @classmethod
    def from_json(cls, value: Any) -> Kept | None:
        """The ``Kept`` of a saved session's song, or None when absent or not readable."""
        if not isinstance(value, dict) or not isinstance(value.get("entry"), str):
            return None
        stamps = [value.get("song"), value.get("model")]
        for stamp in stamps:
            if stamp is not None and not (
                isinstance(stamp, list)
                and len(stamp) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in stamp)
            ):
                return None
        song, model = (tuple(s) if s is not None else None for s in stamps)
        return None if song is None else cls(value["entry"], song, model)

    def still_holds(self, path: Path, model: str) -> bool:
        """Whether the song at ``path`` and the ``model`` file are as they were recognised."""
        return file_stamp(path) == self.song and file_stamp(model) == self.model


Answer = tuple[Any, Any, str] | None
"""(stemset, waveforms, model name) of a song answered from the cache; None: not answered."""


def answer_kept(jobs: Iterable[Any], cache: Any, deliver: Callable[[Any, Answer], None]) -> None:
    """Call ``deliver(job, answer)`` for each restored ``job`` (with ``kept`` and ``options``),
    in order; run it on a thread of its own (it reads files and computes waveforms). ``deliver``
    raising RuntimeError (the receiver is gone: the app closed) ends it."""
    for job in jobs:
        try:
            answer = _answer(job, cache)
        except Exception:  # a bug here must not lose the song: the worker's way still works
            logger.exception("%s: answering from the stem cache failed", job.path)
            answer = None
        try:
            deliver(job, answer)
        except RuntimeError:
            return


def _answer(job: Any, cache: Any) -> Answer:
    from stemgui.stems.waveform import StemWaveforms
    from stemgui.ui.worker import cached_tempo

    if not job.kept.still_holds(job.path, job.options.model):
        logger.info("%s (or its model file) changed since the last session", job.path)
        return None
    hit = cache.get(job.kept.entry)
    if hit is None:
        return None
    logger.info("%s: the stems of the last session (stem cache %s)", job.path, hit.key)
    stemset = hit.stemset()
    waveforms = StemWaveforms(stemset)
    waveforms.bpm = cached_tempo(hit, stemset, job.path)
    return stemset, waveforms, hit.model_name
