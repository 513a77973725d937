"""How far a separation has got, and stopping it between two chunks or two layers.

``Separator.separate`` runs the chunks of every pass (each model of a bag, each shift) in the
order of where they start in the song. ``ChunkTally`` counts them as they run, works out which
output frames are final (every pass has run every chunk that touches them) and makes the
``Progress`` payload that ``on_progress`` gets. The ``CancelToken`` is looked at before every
chunk and, through ``checked_in_every_layer``, before every layer of the network: a chunk of a
big model takes seconds on a slow CPU. Either way ``SeparationCancelled`` is raised.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import nn

from stemgui.errors import CancelToken, SeparationCancelled

if TYPE_CHECKING:
    from stemgui.separation.passes import Pass


@dataclass(frozen=True)
class Progress:
    """What ``Separator.separate`` reports after each chunk (and once before the first).

    Attributes:
        chunk: chunks done so far over the whole job (every model, every shift pass).
        chunks: chunks of the whole job.
        model: index in the bag of the model that ran the last chunk, from 0 (0 for a single
            network). The passes (every model of a bag, every shift) advance together along
            the song, so with a bag this alternates between models.
        models: models in the bag (1 for a single network).
        seconds_done: seconds of the song that model has finished, counting its shift passes
            as equal shares, never going back; reaches ``seconds_total`` when that model is
            done. After an out-of-memory restart it goes on from the seconds reached, as
            ``fraction`` does.
        seconds_total: duration of the song in seconds.
        fraction: 0 to 1 over the whole job, never going back; 1 exactly at the end.
            ``chunk / chunks``, but after an out-of-memory restart (whose ``chunks`` may be
            more, and whose first chunks may redo the last ones run) it goes on from the
            fraction reached, over the chunks the restart has left.
        frames_ready: output frames ``[0, frames_ready)`` are final and safe to play: every
            pass has run every chunk that touches them. It grows as the job goes, with a bag
            or shifts too, and is the song's length at the end.
        notes: what the separator changed on its own so far, in words for the user (e.g. "the
            GPU ran out of memory; separating on the CPU"); the same as ``Separator.notes``.
    """

    chunk: int
    chunks: int
    model: int
    models: int
    seconds_done: float
    seconds_total: float
    fraction: float
    frames_ready: int
    notes: tuple[str, ...] = ()


@dataclass
class Reached:
    """How far a job has got over its attempts (an out-of-memory error restarts it): read by
    each attempt as where the one before it left off, raised as it goes."""

    frames_ready: int = 0  # output frames final: kept, not run again
    fraction: float = 0.0  # the last ``Progress.fraction`` reported
    seconds_done: dict[int, float] = field(default_factory=dict)  # per model: the last reported


class ChunkTally:
    """The chunks one attempt of a job has run, and the output frames final so far.

    Args:
        passes: the attempt's passes; a chunk is named by its pass's number here and its index.
        models: models in the bag (1 for a single network).
        frames: frames of the song.
        samplerate: frames per second of the song.
        reached: the job's, over every attempt: its frames ready are those kept from an earlier
            attempt, and its fraction where this attempt's progress starts from; both raised as
            the attempt goes (so that one cut short by an out-of-memory error leaves them for
            the next).
    """

    def __init__(
        self, passes: list[Pass], models: int, frames: int, samplerate: int, reached: Reached
    ) -> None:
        self.passes = passes
        self.models = models
        self.frames = frames
        self.seconds_total = frames / samplerate
        self.chunks = sum(job.plan.count for job in passes)
        self.done = 0
        self.reached = reached
        self._per_model = [
            sum(job.plan.count for job in passes if job.member == m) for m in range(models)
        ]
        self._member_done = [0 for _ in range(models)]
        self._start_here()
        self._finished = [0 for _ in passes]  # per pass: frames [0, n) its later chunks never touch
        if self.chunks == 0:  # nothing to run: the (empty) song is final
            reached.frames_ready = max(reached.frames_ready, frames)

    def skip_kept(self, order: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``order`` (pass number, chunk index) less the chunks at its head that only touch
        frames kept from an earlier attempt: those are counted as done, not run again."""
        keep = self.reached.frames_ready
        count = 0
        for number, index in order:
            job = self.passes[number]
            if job.plan.span(index)[1] - job.delay > keep:
                break
            count += 1
            self._member_done[job.member] += 1
        self.done += count
        self._start_here()
        return order[count:]

    def _start_here(self) -> None:
        """Progress goes on from where the job has reached: an earlier attempt's chunks may be
        run again, and this attempt's may be more (shorter) than its."""
        self._from = (self.done, self.reached.fraction)  # (chunks done, fraction)
        self._seconds_from = [  # per model: (its chunks done, its seconds done)
            (done, self.reached.seconds_done.get(m, 0.0))
            for m, done in enumerate(self._member_done)
        ]

    def chunk_done(self, number: int, index: int) -> int:
        """Count chunk ``index`` of pass ``number`` as run; returns the model that ran it."""
        job = self.passes[number]
        self.done += 1
        self._member_done[job.member] += 1
        final = min(max(job.plan.final_before(index) - job.delay, 0), self.frames)
        self._finished[number] = final
        self.reached.frames_ready = max(self.reached.frames_ready, min(self._finished))
        return job.member

    def progress(self, model: int, notes: tuple[str, ...]) -> Progress:
        """The payload after a chunk of ``model`` (0 before the first chunk)."""
        done, fraction = self._from
        fraction = _onward(fraction, 1.0, done, self.done, self.chunks)
        self.reached.fraction = fraction
        done, seconds = self._seconds_from[model]
        seconds = _onward(
            seconds, self.seconds_total, done, self._member_done[model], self._per_model[model]
        )
        self.reached.seconds_done[model] = seconds
        return Progress(
            chunk=self.done,
            chunks=self.chunks,
            model=model,
            models=self.models,
            seconds_done=seconds,
            seconds_total=self.seconds_total,
            fraction=fraction,
            frames_ready=self.reached.frames_ready,
            notes=notes,
        )


def _onward(start: float, end: float, since: int, done: int, count: int) -> float:
    """``start``, reached after ``since`` of ``count`` chunks, carried on toward ``end`` over the
    chunks left: ``done`` of them run; ``end`` exactly once all are."""
    if done >= count:
        return end
    return start + (end - start) * (done - since) / (count - since)


@contextlib.contextmanager
def checked_in_every_layer(nets: list[nn.Module], cancel: CancelToken | None) -> Iterator[None]:
    """While the block runs, a forward pre-hook on every module of ``nets`` raises
    ``SeparationCancelled`` once ``cancel`` is set: cancelling (or closing the app) waits for
    one layer, not for a whole chunk. The hooks cost microseconds per chunk."""
    if cancel is None:
        yield
        return

    def check(module: nn.Module, args: Any) -> None:
        if cancel.is_set():
            raise SeparationCancelled("separation cancelled in the middle of a chunk")

    handles = [m.register_forward_pre_hook(check) for net in nets for m in net.modules()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
