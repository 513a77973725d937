"""The songs of the last session answered from the stem cache at start-up, without the model.

The worker finds a song's stems in the cache by a key made of the sha256 of the song's bytes and
the model's identity: torch (the model store), then a hash of each song, one after the other, and
only once the models are listed (the queue waits for that): 1 s or more after the window showed,
before the first restored song came back. The session keeps what the worker found instead
(``Kept``: the cache entry, the song's size and modification time then, and those of each file
the model was read from: a model file, a bag and its members, a store model's file). At the next
start a song whose files are as they were is answered from that entry on a thread of its own
(``answer_kept``), while torch loads; a song changed since (or a file of its model: a store
model replaced under its name has another file), or whose entry is gone, goes the worker's way:
hashed, and separated again if its new bytes have no stems. A model file gone since (deleted, or
on a drive not connected) is not needed: the song is answered, with a note that says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stemgui.ui.separation_options import SeparationOptions

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


ModelStamps = tuple[tuple[str, Stamp | None], ...]
"""(path, stamp) of each file a model was read from."""


def model_stamps(spec: str) -> ModelStamps | None:
    """The stamp of each file the model ``spec`` is read from now
    (``separation.model_identity.model_files``); None when it cannot be resolved. Imports torch
    (the model store): the worker's side."""
    from stemgui.separation.model_identity import model_files

    files = model_files(spec)
    return None if files is None else tuple((str(p), file_stamp(p)) for p in files.paths)


@dataclass(frozen=True)
class Kept:
    """Where a finished song's full stems are kept: the stem cache ``entry``, the ``song``
    file's stamp and its ``model``'s files' stamps when the worker recognised the song."""

    entry: str
    song: Stamp
    model: ModelStamps

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "song": list(self.song),
            "model": [[path, list(stamp) if stamp else None] for path, stamp in self.model],
        }

    @classmethod
    def from_json(cls, value: Any) -> Kept | None:
        """The ``Kept`` of a saved session's song, or None when absent or not readable (as is
        an earlier version's, whose model had one stamp: such a song goes the worker's way).
        An ``entry`` that is no stem cache entry's name (hand-edited) is not readable."""
        from stemgui.stemcache import is_key

        if not isinstance(value, dict) or not is_key(value.get("entry")):
            return None
        song, model = _stamp(value.get("song")), value.get("model")
        if song is None or not isinstance(model, list) or not model:
            return None
        files = []
        for item in model:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                return None
            stamp = _stamp(item[1])
            if stamp is None and item[1] is not None:
                return None
            files.append((item[0], stamp))
        return cls(value["entry"], song, tuple(files))

    def still_holds(self, path: Path) -> bool:
        """Whether the song at ``path`` and its model's files are as they were recognised. A
        model file gone since (deleted, or on a drive not connected: ``model_gone``) holds:
        nothing else made the stems kept, and only separating the song again needs it."""
        return file_stamp(path) == self.song and all(
            file_stamp(file) in (stamp, None) for file, stamp in self.model
        )

    def model_gone(self) -> list[str]:
        """The model's files that were there when the song was recognised and are not now."""
        return [file for file, stamp in self.model if stamp is not None and not file_stamp(file)]


def _stamp(value: Any) -> Stamp | None:
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
    ):
        return None
    return (value[0], value[1])


Answer = tuple[Any, Any, str, tuple[str, ...]] | None
"""(stemset, waveforms, model name, notes) of a song answered from the cache (the notes say
which model file is gone, or that its model has not the stem asked for in two stems); None:
not answered."""


def answer_kept(
    jobs: Iterable[tuple[Any, Kept, SeparationOptions]],
    cache: Any,
    deliver: Callable[[Any, Answer], None],
    scratch_file: Callable[[int], Path | None],
) -> None:
    """Call ``deliver(job, answer)`` for each restored ``job``, the ``Kept`` and the
    ``SeparationOptions`` it was restored with (taken on the GUI thread: Retry clears the job's
    own meanwhile), in order; run it on a thread of its own (it reads files and computes
    waveforms). A song asked for in two stems gets them made from the full stems kept, into
    ``scratch_file(nbytes)`` (None: in RAM), as the worker makes them. ``deliver`` raising
    RuntimeError (the receiver is gone: the app closed) ends it."""
    for job, kept, options in jobs:
        try:
            answer = _answer(job.path, kept, options, cache, scratch_file)
        except Exception:  # a bug here must not lose the song: the worker's way still works
            logger.exception("%s: answering from the stem cache failed", job.path)
            answer = None
        try:
            deliver(job, answer)
        except RuntimeError:
            return


def _answer(
    path: Path,
    kept: Kept,
    options: SeparationOptions,
    cache: Any,
    scratch_file: Callable[[int], Path | None],
) -> Answer:
    from stemgui.ui.worker_cache import cached_waveforms, two_stem_notes, two_stems_of

    if not kept.still_holds(path):
        logger.info("%s (or its model file) changed since the last session", path)
        return None
    hit = cache.get(kept.entry)
    if hit is None:
        return None
    logger.info("%s: the stems of the last session (stem cache %s)", path, hit.key)
    full = hit.stemset()
    stemset = two_stems_of(full, options, scratch_file)
    waveforms = cached_waveforms(hit, full, stemset, path)
    notes = (*two_stem_notes(options, full.names), *map(_gone_note, kept.model_gone()))
    return stemset, waveforms, hit.model_name, notes


def _gone_note(model_file: str) -> str:
    return (
        f"The model file {model_file} is not found (deleted, or on a drive not connected): "
        "these are its stems, kept in the stem cache; put the file back to separate the song "
        "again with it."
    )
