"""What an export reads for each file it writes: a stem, ``no_<stem>`` (the others summed) or
the mix as heard (``stemgui.stems.mixer.render_mix``).

``sources_of`` gives each file's whole samples, computed only when asked (a short song in RAM);
``readers_of`` gives ``read(start, stop)`` of its frames, for stems spooled to disk or a part of
the song, so that a long song is written a block at a time; ``part_readers`` those of a part of
the song, resampled to the rate the files are written at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from stemgui.export.exporter import ExportRequest
    from stemgui.stems.stemset import StemSet


def sources_of(stemset: StemSet, request: ExportRequest) -> dict[str, Callable[[], np.ndarray]]:
    """Stem name -> function returning its samples (channels, frames), computed only when asked."""
    names = list(stemset.names)
    data = stemset.data  # (sources, channels, frames)

    def stem(index: int) -> Callable[[], np.ndarray]:
        return lambda: data[index]

    makers: dict[str, Callable[[], np.ndarray]] = {n: stem(i) for i, n in enumerate(names)}
    if request.two_stems is not None and request.two_stems in names:
        kept = names.index(request.two_stems)

        def rest() -> np.ndarray:
            total = np.zeros(data.shape[1:], dtype=np.float32)
            for index in range(len(names)):
                if index != kept:
                    total += data[index]
            return total

        makers[f"no_{request.two_stems}"] = rest
    if request.mix_gains is not None:

        def mix() -> np.ndarray:
            from stemgui.stems.mixer import render_mix

            return np.asarray(render_mix(stemset, request.mix_gains), dtype=np.float32)

        makers[request.mix_name] = mix
    return makers


def readers_of(stemset: StemSet, request: ExportRequest) -> dict[str, Callable]:
    """Stem name -> ``read(start, stop)`` of its frames, for stems spooled to an ``np.memmap``
    (written block by block by ``stemgui.audio.stream.write_blocks``)."""
    from stemgui.audio.stream import stem_reader

    names = list(stemset.names)
    readers = {name: stem_reader(stemset.data, i) for i, name in enumerate(names)}
    if request.two_stems is not None and request.two_stems in names:
        others = [readers[n] for n in names if n != request.two_stems]

        def rest(start: int, stop: int) -> np.ndarray:
            # the sum of no stem (a song in one stem) is silence, as ``sources_of`` makes it
            total = np.zeros(stemset.data[0, :, start:stop].shape, np.float32)
            for read in others:
                total += read(start, stop)
            return total

        readers[f"no_{request.two_stems}"] = rest
    if request.mix_gains is not None:
        from stemgui.spool import release_pages
        from stemgui.stems.mixer import render_mix

        def mixed(start: int, stop: int) -> np.ndarray:
            block = render_mix(stemset, request.mix_gains, start=start, stop=stop)
            for array in (stemset.data, stemset.mix):  # read through the mapping: let go
                if array is not None:
                    release_pages(array, start, stop, flush=False)
            return block

        readers[request.mix_name] = mixed
    return readers


def part_readers(
    stemset: StemSet,
    request: ExportRequest,
    first: int,
    frames: int,
    samplerate: int,
    readers: dict[str, Callable[[int, int], np.ndarray]] | None = None,
) -> tuple[dict[str, Callable[[int, int], np.ndarray]], int]:
    """Stem name -> ``read(start, stop)`` of the file's frames, and how many frames there are:
    the ``frames`` frames of the stems from ``first`` on (the whole song, or a loop region), at
    ``samplerate``; resampled with julius a block at a time when the stems are at another rate
    (``stemgui.audio.resample.BlockResampler``), so a long song never is whole in memory. The
    whole song at its own rate has its own frame count (``StemSet.song``). ``readers``: name
    -> ``read(start, stop)`` of the whole song's frames at the stems' rate, whose part is taken
    instead of the files of ``request`` (``readers_of``): the original mix dragged out."""
    if readers is None:
        readers = readers_of(stemset, request)
    if first:
        readers = {
            name: lambda a, b, read=read: read(first + a, first + b)
            for name, read in readers.items()
        }
    if samplerate == stemset.samplerate:
        return readers, frames
    from stemgui.audio.resample import BlockResampler

    resampler = BlockResampler(stemset.samplerate, samplerate)
    whole = frames == stemset.frames and song_length(stemset, samplerate)
    length = whole or resampler.length(frames)
    resampled = {name: resampler.reader(read, frames, length) for name, read in readers.items()}
    return resampled, length


def song_length(stemset: StemSet, samplerate: int) -> int | None:
    """The frames of the whole song at ``samplerate`` when that is its own rate (its stems
    resampled back miss a frame or two in rounding); None otherwise, or when unknown."""
    song = stemset.song
    return song[1] if song is not None and song[0] == samplerate else None
