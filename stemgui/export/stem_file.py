"""Exporting a song as one Stems file (``.stem.mp4``) for DJ software, rather than a file per
stem: what the export plans (``stem_names``: one file, named ``STEMS`` for ``{stem}``, for a song
in four stems) and what it writes (``write``: the song, the plain sum of its stems, then the
stems in Native Instruments' order, through ``stemgui.audio.stem_mp4``).

A Stems file holds every stem: the request's choice of stems is not used, and two stems or the
mix as heard cannot go in one. Its tracks share one divisor, found in a first pass, that keeps
the loudest of them (the song, usually) below full scale: the stems still add up to the song.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stemgui.errors import ExportError

if TYPE_CHECKING:
    from stemgui.audio.stem_mp4 import StemFileFormat
    from stemgui.export.exporter import ExportRequest
    from stemgui.export.progress import ExportProgress

logger = logging.getLogger(__name__)

STEMS = "stems"
"""The ``{stem}`` of a Stems file's name ("{model}/{track}/{stem}.{ext}": ".../stems.stem.mp4")."""
NI_ORDER = ("drums", "bass", "other", "vocals")
"""The order of the stems in a Stems file: Native Instruments' (and the separation's)."""

Reader = Callable[[int, int], np.ndarray]


def is_stem_file(fmt: Any) -> bool:
    """Whether ``fmt`` (an ``ExportRequest.fmt``) asks for a Stems file."""
    return getattr(fmt, "kind", None) == "stem"


def stem_order(sources: Sequence[str]) -> list[str]:
    """The stems ``sources`` in the order a Stems file holds them: Native Instruments' for
    drums, bass, other and vocals; any other four as the separation has them."""
    return list(NI_ORDER) if set(sources) == set(NI_ORDER) else list(sources)


def stem_names(request: ExportRequest, sources: Sequence[str]) -> list[str]:
    """The one file a Stems file export writes, ``[STEMS]``.

    Raises:
        ExportError: the song is not in four stems, or two stems or the mix as heard are
            asked for, which a Stems file cannot hold.
    """
    if len(sources) != len(NI_ORDER):
        raise ExportError(
            request.folder,
            f"a Stems file (.stem.mp4) holds four stems, and this song is separated into "
            f"{len(sources)} ({', '.join(sources)}); separate it into four stems or choose "
            "another format",
        )
    if request.two_stems is not None or request.mix_gains is not None:
        asked = "two stems" if request.two_stems is not None else "the mix as heard"
        raise ExportError(
            request.folder,
            f"a Stems file (.stem.mp4) holds the song and its four stems, not {asked}; "
            "untick it or choose another format",
        )
    return [STEMS]


def write(
    path: Path,
    readers: Mapping[str, Reader],
    channels: int,
    frames: int,
    fmt: StemFileFormat,
    tags: Mapping[str, str],
    part: Path,
    block_frames: int | None = None,
    progress: ExportProgress | None = None,
) -> None:
    """Write the Stems file of the stems ``readers`` gives (name -> ``read(start, stop)`` of
    (channels, n) frames at ``stem_mp4.STEM_RATE``, ``frames`` of them) at ``part``, a temporary
    file the caller puts in place at ``path``, with ``tags``. NaN and infinite samples are
    written as silence. ``progress`` counts the frames of the pass that encodes them, nearly
    all the time it takes (the peak pass before it only looks at its cancel).

    Raises:
        EncodeError: naming ``path``: the disk, the folder or the encoder failed (``part`` is
            removed).
    """
    from stemgui.audio import encode, stem_mp4
    from stemgui.audio.stream import BLOCK_FRAMES, block_peak, finite

    names = stem_order(list(readers))
    reads = [readers[name] for name in names]
    step = block_frames or BLOCK_FRAMES
    spans = [(a, min(a + step, frames)) for a in range(0, frames, step)]

    counted = reads if progress is None else [progress.reading(read) for read in reads]

    def tracks(start: int, stop: int, through: list[Reader]) -> list[np.ndarray]:
        stems = [finite(np.asarray(read(start, stop), dtype=np.float32)) for read in through]
        return [np.sum(stems, axis=0, dtype=np.float32), *stems]

    def loudest(start: int, stop: int) -> float:
        if progress is not None:
            progress.check()  # cancelled: stopped between two blocks
        return block_peak(np.stack(tracks(start, stop, reads)))

    scale = np.float32(max(1.01 * max((loudest(a, b) for a, b in spans), default=0.0), 1.0))
    blocks = ([track / scale for track in tracks(a, b, counted)] for a, b in spans)
    with encode.encoding(path, False, part) as written:
        stem_mp4.write(written, blocks, names, channels, fmt, tags)
    logger.info("wrote %s (a Stems file, %d frames)", path, frames)
