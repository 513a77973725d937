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

The parts it drives live beside it: ``passes`` (a pass per model and shift, chunk lengths, the
order of the chunks), ``normalisation`` (the mix's statistics), ``chunking`` (chunk plans and
the cross-fade), ``progress`` (the payload, its tally and cancelling) and ``memory_fallback``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from stemgui.errors import CancelToken, ModelRunError, SeparationCancelled, one_line
from stemgui.separation import (
    MAX_OVERLAP,
    MAX_SEGMENT,
    MAX_SHIFTS,
    MIN_SEGMENT,
    memory_fallback,
)
from stemgui.separation.chunking import (
    blend_weights,
    center_trim,
    overlap_add,
    padded_span,
    read_frames,
    triangle_window,
)
from stemgui.separation.device import resolve_device
from stemgui.separation.memory_fallback import is_out_of_memory, next_fallback
from stemgui.separation.normalisation import normalisation
from stemgui.separation.passes import (
    Pass,
    chunk_order,
    draw_delays,
    fixed_segment,
    padded_length,
    plan_passes,
    segment_for,
)
from stemgui.separation.progress import ChunkTally, Progress, Reached, checked_in_every_layer

# A GPU that failed (a driver fault, a device-side assert, a device gone) raises a RuntimeError
# of its library's: not the model's fault, which another model would not mend.
_DEVICE_FAULT = re.compile(r"\b(CUDA|cuDNN|cuBLAS|CUBLAS|HIP|MPS)\b")

# What this module logs (a capped segment, an out-of-memory step) the command line prefixes
# with the track's name (``stemgui.cli.progress``): the facade says it, not the modules it uses.
logger = logging.getLogger(__name__)


class Separator:
    """Applies a model to song buffers, chunk by chunk, on one device.

    Args:
        model: a network or a ``BagOfModels`` (``sources``, ``samplerate``, ``audio_channels``,
            ``segment``; forward (batch, channels, time) -> (batch, sources, channels, time)).
            It is put in eval mode and moved to the device.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda[:N]"``, ``"mps"``.
            A GPU without the memory for the model's weights gives the CPU (said in ``notes``).
        segment: chunk length in seconds; default the bag's ``segment``, else each network's,
            else ``passes.DEFAULT_SEGMENT``. A network with a fixed training segment (HTDemucs)
            never gets longer chunks than that segment.
        overlap: fraction of a chunk shared with the next, 0 to ``MAX_OVERLAP``.
        shifts: number of random delays (0 to ``passes.MAX_SHIFT`` seconds) to average, 0 (none)
            to ``MAX_SHIFTS``.
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
        if segment is not None and not MIN_SEGMENT <= segment <= MAX_SEGMENT:  # nan too
            raise ValueError(
                f"segment must be {MIN_SEGMENT:g}-{MAX_SEGMENT:g} seconds, got {segment}"
            )
        if not 0 <= overlap <= MAX_OVERLAP:  # nan too
            raise ValueError(f"overlap must be 0 to {MAX_OVERLAP:g}, got {overlap}")
        if not 0 <= shifts <= MAX_SHIFTS:
            raise ValueError(f"shifts must be 0 to {MAX_SHIFTS}, got {shifts}")
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
        try:
            memory_fallback.to_device(self.model, self.device)
        except RuntimeError as error:  # the weights alone do not fit: shorter chunks cannot help
            if not is_out_of_memory(error):
                raise
            if not self._recover_from_oom(error, flexible=False):
                raise MemoryError(one_line(error)) from error  # the machine's, said as memory

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
                Every sample finite: a NaN or infinite one is a ``ValueError`` (through the
                mix's statistics it would make every stem NaN; ``stemgui.audio.decode``
                makes them silence).
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
        mean, std = normalisation(buffer)
        if not (math.isfinite(mean) and math.isfinite(std)):
            raise ValueError("the buffer has NaN or infinite samples: every stem would be NaN")
        delays = draw_delays(len(self._nets), self.shifts, self.seed, self.samplerate)
        reached = Reached()  # frames final and the fraction reported, over the attempts
        with checked_in_every_layer(self._nets, cancel):
            while True:
                try:
                    self._run(buffer, out, mean, std, delays, on_progress, cancel, reached)
                except RuntimeError as error:
                    if not is_out_of_memory(error):
                        raise
                    if not self._recover_from_oom(error):  # nothing left to try: the CPU's
                        raise MemoryError(one_line(error)) from error
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
        reached: Reached,
    ) -> None:
        """One attempt; ``reached.frames_ready``: frames of ``out`` final from an earlier
        attempt, kept (neither zeroed nor added to; chunks that only touch them are not run),
        then updated as frames become final; the progress goes on from ``reached.fraction``."""
        keep = reached.frames_ready
        frames = buffer.shape[-1]
        passes = self._plan_passes(frames, delays)
        tally = ChunkTally(passes, len(self._nets), frames, self.samplerate, reached)
        order = tally.skip_kept(chunk_order(passes))  # what an earlier attempt finished is done
        # ``out`` is zeroed just ahead of the chunks, not all at once: a memory-mapped spool
        # then only has the pages of the chunks in flight resident (see stemgui.spool).
        zeroed = keep

        def report(model: int) -> None:
            if on_progress is not None:
                on_progress(tally.progress(model, tuple(self.notes)))

        report(0)
        windows: dict[int, np.ndarray] = {}
        for number, index in order:
            if cancel is not None and cancel.is_set():
                raise SeparationCancelled(
                    f"separation cancelled after {tally.done} of {tally.chunks} chunks"
                )
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
            report(tally.chunk_done(number, index))
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
        first, last = padded_span(start, stop, padded_length(net, length, self.samplerate))
        chunk = read_frames(buffer, first, last, delay, mean=mean, std=std)  # (channels, time)
        mix = torch.from_numpy(chunk)[None]  # (1, channels, time)
        mix = memory_fallback.to_device(mix, self.device)
        with torch.inference_mode():
            try:
                estimate = net(mix)  # (1, sources, channels, time)
            except (RuntimeError, ValueError, IndexError) as error:
                if is_out_of_memory(error) or _DEVICE_FAULT.search(str(error)):
                    raise  # the GPU's, not the model's: another model would fail alike
                # shapes that do not line up inside the network: the model's fault, not the song's
                raise ModelRunError(
                    f"the model's {type(net).__name__} network cannot separate any song "
                    f"({one_line(error)}); choose another model"
                ) from error
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

    def _plan_passes(self, frames: int, delays: list[list[int]]) -> list[Pass]:
        """The passes of one attempt, with the chunk lengths of now (shorter after the GPU ran
        out of memory); a length capped at a network's fixed segment is said once."""
        segments = []
        capped = {}  # (asked, used): once for a bag whose members have the same fixed length
        for net in self._nets:
            segment, asked = segment_for(net, self.segment, self._bag_segment, self._segment_scale)
            if asked is not None:
                capped[asked, segment] = None
            segments.append(segment)
        passes = plan_passes(frames, segments, delays, self._scales, self.overlap, self.samplerate)
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

    def _recover_from_oom(self, error: BaseException, flexible: bool | None = None) -> bool:
        """Shorter chunks first (unless ``flexible`` is False), then the CPU; False when nothing
        is left to try."""
        if flexible is None:
            flexible = any(fixed_segment(net) is None for net in self._nets)
        step = next_fallback(self.device, self._segment_scale, flexible)
        if step is None:
            return False
        self._segment_scale = step.segment_scale
        if step.device != self.device:
            self.device = step.device
            memory_fallback.to_device(self.model, self.device)
        logger.warning("%s (%s)", step.note, error)
        self.notes.append(step.note)
        return True
