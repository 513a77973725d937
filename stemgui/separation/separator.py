"""The separation facade: a song buffer in, one buffer per stem out, chunk by chunk.

``Separator`` wraps a model (one network or a ``BagOfModels``) and applies it the way the
reference ``demucs.apply.apply_model`` does, with the same numbers: the mix is normalised by its
own statistics, cut into overlapping chunks blended with a triangular cross-fade (see
``chunking``: the reference's chunks, less a trailing one that only repeats the end),
optionally shifted in time at random and averaged ("shift trick"), and a bag's models are
averaged per source with the bag's weights. It differs in what an app needs: the output is
preallocated (or the caller's, possibly an ``np.memmap``) and filled chunk by chunk, progress is
reported with a documented payload, a cancel token is checked between chunks and before each
layer of the network (a chunk of a big model takes seconds on a slow CPU), and a GPU
that runs out of memory makes it retry with shorter chunks, then on the CPU.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from stemgui.errors import SeparationCancelled
from stemgui.separation.chunking import (
    ChunkPlan,
    blend_weights,
    center_trim,
    overlap_add,
    padded_span,
    plan_chunks,
    read_frames,
    triangle_window,
)
from stemgui.separation.device import resolve_device

logger = logging.getLogger(__name__)

DEFAULT_SEGMENT = 10.0
"""Chunk length in seconds for a model that states none."""
MAX_SHIFT = 0.5
"""Longest random delay of the shift trick, in seconds (as in the reference)."""
_STD_FLOOR = 1e-8
"""Added to the mix's standard deviation, as the reference's api does: silence stays finite."""
_STATISTICS_BLOCK = 1 << 20
"""Frames per block when the mix's statistics are computed (bounds the temporary memory)."""


class CancelToken(Protocol):
    """Anything with ``is_set()``, such as ``threading.Event``."""

    def is_set(self) -> bool: ...


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
            as equal shares; reaches ``seconds_total`` when that model is done.
        seconds_total: duration of the song in seconds.
        fraction: ``chunk / chunks``, 0 to 1 over the whole job; 1 exactly at the end.
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


@dataclass(frozen=True)
class _Pass:
    """One run of one network over the whole song: ``delay`` zeros, then the song."""

    member: int
    delay: int
    plan: ChunkPlan
    scale: np.ndarray  # (sources,) bag weight / total weight / passes of that model


def _to_device(obj: Any, device: torch.device) -> Any:
    """Move a module or tensor (one place, so that tests can simulate a GPU on the CPU)."""
    return obj.to(device)


def _is_out_of_memory(error: BaseException) -> bool:
    """True for a GPU out-of-memory error (CUDA's own class, or MPS's RuntimeError)."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def _fixed_segment(net: nn.Module) -> Any:
    """The training segment (seconds) of a network that only runs on chunks of that length.

    HTDemucs with ``use_train_segment`` (the default and the official weights) pads every
    input to its training segment: shorter chunks cost the same, longer ones are refused.
    """
    flag = getattr(net, "use_train_segment", None)
    if flag is None:
        flag = type(net).__name__ == "HTDemucs"
    segment = getattr(net, "segment", None)
    return segment if flag and segment else None


@contextlib.contextmanager
def _checked_in_every_layer(nets: list[nn.Module], cancel: CancelToken | None) -> Iterator[None]:
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


def mix_statistics(buffer: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (unbiased) of the mono mix of ``buffer`` (channels, frames).

    Computed block by block in float64 (Chan's parallel update), so a long song or an
    ``np.memmap`` costs one block of temporary memory; the pages of a memmap (the app's copy of
    a long song) are let go of as they are read. A song under 2 frames has std 0.
    """
    from stemgui.spool import release_pages

    count, mean, squares = 0, 0.0, 0.0
    frames = buffer.shape[-1]
    for start in range(0, frames, _STATISTICS_BLOCK):
        mono = buffer[:, start : start + _STATISTICS_BLOCK].mean(axis=0, dtype=np.float64)
        release_pages(buffer, start, start + _STATISTICS_BLOCK, flush=False)
        n = mono.shape[0]
        block_mean = float(mono.mean())
        block_squares = float(((mono - block_mean) ** 2).sum())
        delta = block_mean - mean
        total = count + n
        mean += delta * n / total
        squares += block_squares + delta * delta * count * n / total
        count = total
    std = math.sqrt(squares / (count - 1)) if count > 1 else 0.0
    return mean, std


class Separator:
    """Applies a model to song buffers, chunk by chunk, on one device.

    Args:
        model: a network or a ``BagOfModels`` (``sources``, ``samplerate``, ``audio_channels``,
            ``segment``; forward (batch, channels, time) -> (batch, sources, channels, time)).
            It is put in eval mode and moved to the device.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda[:N]"``, ``"mps"``.
        segment: chunk length in seconds; default the bag's ``segment``, else each network's,
            else ``DEFAULT_SEGMENT``. A network with a fixed training segment (HTDemucs) never
            gets longer chunks than that segment.
        overlap: fraction of a chunk shared with the next, in [0, 1).
        shifts: number of random delays (0 to ``MAX_SHIFT`` seconds) to average; 0 for none.
        seed: makes the random delays reproducible; None draws fresh ones on every call.

    Attributes:
        device: the ``torch.device`` in use (the CPU after an out-of-memory fallback).
        notes: what the separator changed on its own (out-of-memory retries), for the user.
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device = "auto",
        segment: float | None = None,
        overlap: float = 0.25,
        shifts: int = 0,
        seed: int | None = None,
    ) -> None:
        if segment is not None and not 0 < segment < math.inf:  # nan, inf: no chunk plan
            raise ValueError(f"segment must be positive seconds, got {segment}")
        if not 0 <= overlap < 1:
            raise ValueError(f"overlap must be in [0, 1), got {overlap}")
        if shifts < 0:
            raise ValueError(f"shifts must be 0 or more, got {shifts}")
        self.model = model.eval()
        self.segment = segment
        self.overlap = overlap
        self.shifts = int(shifts)
        self.seed = seed
        self.notes: list[str] = []
        self._capped_said: set[tuple[float, float]] = set()  # segment warnings given
        self._segment_scale = 1.0
        if hasattr(model, "models") and hasattr(model, "weights"):
            self._nets = list(model.models)
            weights = np.asarray(model.weights, dtype=np.float64)  # (models, sources)
            self._scales = list(weights / weights.sum(axis=0))
            self._bag_segment = getattr(model, "segment", None)
        else:
            self._nets = [model]
            self._scales = [np.ones(len(model.sources))]
            self._bag_segment = None
        self.device = resolve_device(device)
        _to_device(self.model, self.device)

    @property
    def sources(self) -> list[str]:
        """Names of the stems, in the order of the output's first axis."""
        return list(self.model.sources)

    @property
    def samplerate(self) -> int:
        """Sample rate the buffers must have (the model's)."""
        return int(self.model.samplerate)

    def separate(
        self,
        buffer: np.ndarray,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Separate a song into its stems.

        Args:
            buffer: (channels, frames) float32 at ``samplerate``, ``channels`` the model's
                ``audio_channels`` (other float types are converted, at the cost of a copy).
            on_progress: called on this thread with a ``Progress`` once before the first chunk
                and after every chunk; see ``Progress`` for the payload.
            cancel: checked before every chunk and every layer of the network; once set,
                ``SeparationCancelled`` is raised and nothing more runs. ``out`` is then partly
                written: discard it.
            out: optional (sources, channels, frames) float32 array to fill (an ``np.memmap``
                keeps a long song's stems on disk); zeroed first. Default: a new array.

        Returns:
            (sources, channels, frames) float32: ``out`` if given.

        A GPU out-of-memory error restarts the job with chunks half as long (not for HTDemucs,
        whose chunks are fixed), then on the CPU; each step is logged and added to ``notes``.
        The frames already final (reported ready, perhaps being played) are kept as they are,
        and the job goes on from there. Both choices stay for later calls.
        """
        buffer = self._check_buffer(buffer)
        frames = buffer.shape[-1]
        out = self._prepare_out(out, frames)
        mean, std = mix_statistics(buffer)
        delays = self._draw_delays()
        ready = [0]  # frames final so far, over the attempts
        with _checked_in_every_layer(self._nets, cancel):
            while True:
                try:
                    self._run(
                        buffer, out, mean, std + _STD_FLOOR, delays, on_progress, cancel, ready
                    )
                except RuntimeError as error:
                    if not _is_out_of_memory(error) or not self._recover_from_oom(error):
                        raise
                else:
                    return out

    # -- one attempt ----------------------------------------------------------------------

    def _run(
        self,
        buffer: np.ndarray,
        out: np.ndarray,
        mean: float,
        std: float,
        delays: list[list[int]],
        on_progress: Callable[[Progress], None] | None,
        cancel: CancelToken | None,
        ready: list[int],
    ) -> None:
        """One attempt; ``ready[0]``: frames of ``out`` final from an earlier attempt, kept
        (neither zeroed nor added to; chunks that only touch them are not run), then updated
        as frames become final."""
        keep = ready[0]
        frames = buffer.shape[-1]
        seconds_total = frames / self.samplerate
        passes = self._plan_passes(frames, delays)
        # Every pass (each model of a bag, each shift) advances together along the song: the
        # chunks of all passes in the order of where they start in it. Frames then become final
        # as the job goes, whatever the number of passes (the app plays them), and a
        # memory-mapped ``out`` only has the pages around the current position resident.
        order = sorted(
            (job.plan.start(index) - job.delay, number, index)
            for number, job in enumerate(passes)
            for index in range(job.plan.count)
        )
        chunks = len(order)
        per_model = [sum(p.plan.count for p in passes if p.member == m) for m in self._members()]
        member_done = [0 for _ in self._members()]
        finished = [0 for _ in passes]  # per pass: frames [0, n) its later chunks never touch
        # ``out`` is zeroed just ahead of the chunks, not all at once: a memory-mapped spool
        # then only has the pages of the chunks in flight resident (see stemgui.spool).
        zeroed = keep
        done = 0
        for _, number, index in order:  # what the earlier attempt finished: done already
            if passes[number].plan.span(index)[1] - passes[number].delay > keep:
                break
            done += 1
            member_done[passes[number].member] += 1
        order = order[done:]

        def report(member: int, frames_ready: int) -> None:
            ready[0] = max(ready[0], frames_ready)
            if on_progress is None:
                return
            share = member_done[member] / per_model[member] if per_model[member] else 1.0
            on_progress(
                Progress(
                    chunk=done,
                    chunks=chunks,
                    model=member,
                    models=len(self._nets),
                    seconds_done=seconds_total * share,
                    seconds_total=seconds_total,
                    fraction=done / chunks if chunks else 1.0,
                    frames_ready=ready[0],
                    notes=tuple(self.notes),
                )
            )

        report(0, frames if chunks == 0 else keep)
        windows: dict[int, np.ndarray] = {}
        for _, number, index in order:
            if cancel is not None and cancel.is_set():
                raise SeparationCancelled(f"separation cancelled after {done} of {chunks} chunks")
            job = passes[number]
            plan = job.plan
            window = windows.setdefault(plan.segment_length, triangle_window(plan.segment_length))
            start, stop = plan.span(index)
            net = self._nets[job.member]
            estimate = self._separate_chunk(net, buffer, start, stop, job.delay, mean, std)
            end = min(stop - job.delay, frames)
            if end > zeroed:
                out[..., zeroed:end] = 0
                zeroed = end
            overlap_add(
                out,
                estimate,
                start,
                blend_weights(plan, window, index),
                scale=job.scale,
                delay=job.delay,
                floor=keep,
            )
            done += 1
            member_done[job.member] += 1
            finished[number] = min(max(plan.final_before(index) - job.delay, 0), frames)
            report(job.member, min(finished))
        if zeroed < frames:
            out[..., zeroed:] = 0

    def _separate_chunk(
        self,
        net: nn.Module,
        buffer: np.ndarray,
        start: int,
        stop: int,
        delay: int,
        mean: float,
        std: float,
    ) -> np.ndarray:
        """Estimate of frames [start, stop) of the delayed song: (sources, channels, stop-start).

        The network gets the normalised chunk padded to the length it wants (audio of the
        neighbours where there is some, zeros beyond the song) and its output is trimmed back.
        """
        length = stop - start
        first, last = padded_span(start, stop, self._padded_length(net, length))
        chunk = read_frames(buffer, first, last, delay, mean=mean, std=std)  # (channels, time)
        mix = _to_device(torch.from_numpy(chunk)[None], self.device)  # (1, channels, time)
        with torch.inference_mode():
            estimate = net(mix)  # (1, sources, channels, time)
        expected = (len(self.model.sources), chunk.shape[0])
        if estimate.dim() != 4 or tuple(estimate.shape[1:3]) != expected:
            raise ValueError(
                f"the network returned shape {tuple(estimate.shape)}, expected "
                f"(1, {expected[0]}, {expected[1]}, time)"
            )
        estimate = estimate[0].float().cpu().numpy()
        estimate = center_trim(estimate, length)
        return estimate * std + mean

    # -- planning -------------------------------------------------------------------------

    def _members(self) -> range:
        return range(len(self._nets))

    def _draw_delays(self) -> list[list[int]]:
        """Per model, the delay in frames of each shift pass ([0] without shifts)."""
        if not self.shifts:
            return [[0] for _ in self._nets]
        rng = np.random.default_rng(self.seed)
        max_shift = int(MAX_SHIFT * self.samplerate)
        return [
            [int(d) for d in rng.integers(0, max_shift + 1, size=self.shifts)] for _ in self._nets
        ]

    def _segment_of(self, net: nn.Module) -> tuple[Any, Any]:
        """(chunk length in seconds for ``net``: requested, bag's, net's or default, capped;
        the longer length asked for when it was capped, else None)."""
        segment = self.segment
        if segment is None:
            segment = self._bag_segment
        if segment is None:
            segment = getattr(net, "segment", None) or DEFAULT_SEGMENT
        fixed = _fixed_segment(net)
        if fixed is not None:
            if segment > fixed:
                return fixed, segment
        elif self._segment_scale != 1.0:
            segment = segment * self._segment_scale
        return segment, None

    def _padded_length(self, net: nn.Module, length: int) -> int:
        """Frames ``net`` must be fed for a chunk of ``length`` frames."""
        if hasattr(net, "valid_length"):
            return int(net.valid_length(length))
        fixed = _fixed_segment(net)
        if fixed is not None:
            return max(length, int(self.samplerate * fixed))
        return length

    def _plan_passes(self, frames: int, delays: list[list[int]]) -> list[_Pass]:
        passes = []
        capped = {}  # (asked, used): once for a bag whose members have the same fixed length
        for member, net in enumerate(self._nets):
            segment, asked = self._segment_of(net)
            if asked is not None:
                capped[asked, segment] = None
            segment_length = max(1, int(self.samplerate * segment))
            member_delays = delays[member]
            for delay in member_delays:
                plan = plan_chunks(frames + delay, segment_length, self.overlap)
                scale = self._scales[member] / len(member_delays)
                passes.append(_Pass(member, delay, plan, scale))
        for asked, used in capped.keys() - self._capped_said:  # once, not for every song
            self._capped_said.add((asked, used))  # (as Demucs refuses it: said where seen)
            logger.warning(
                "segment %g s is longer than the network's fixed %g s; %g s is used",
                asked,
                used,
                used,
            )
        return passes

    # -- input, output, recovery ----------------------------------------------------------

    def _check_buffer(self, buffer: np.ndarray) -> np.ndarray:
        if buffer.ndim != 2:
            raise ValueError(f"buffer must be (channels, frames), got shape {buffer.shape}")
        channels = int(self.model.audio_channels)
        if buffer.shape[0] != channels:
            raise ValueError(
                f"the model takes {channels} channels, the buffer has {buffer.shape[0]}"
            )
        if buffer.dtype != np.float32:
            buffer = np.asarray(buffer, dtype=np.float32)
        return buffer

    def _prepare_out(self, out: np.ndarray | None, frames: int) -> np.ndarray:
        shape = (len(self.model.sources), int(self.model.audio_channels), frames)
        if out is None:
            return np.zeros(shape, dtype=np.float32)
        if tuple(out.shape) != shape or out.dtype != np.float32:
            raise ValueError(f"out must be float32 {shape}, got {out.dtype} {tuple(out.shape)}")
        return out

    def _recover_from_oom(self, error: BaseException) -> bool:
        """Shorter chunks first, then the CPU; False when nothing is left to try."""
        if self.device.type == "cpu":
            return False
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        flexible = any(_fixed_segment(net) is None for net in self._nets)
        if flexible and self._segment_scale == 1.0:
            self._segment_scale = 0.5
            note = "The GPU ran out of memory; retrying with chunks half as long."
        else:
            self._segment_scale = 1.0
            self.device = torch.device("cpu")
            _to_device(self.model, self.device)
            note = "The GPU ran out of memory; separating on the CPU instead (slower)."
        logger.warning("%s (%s)", note, error)
        self.notes.append(note)
        return True
