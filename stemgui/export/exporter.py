"""Write a separation's stems (and, on request, the mix being heard) to audio files.

``export(stemset, request, track, model_name)`` plans every target first, refuses the whole
request if any target already exists (unless ``request.overwrite``, or ``request.skip_existing``,
which leaves those files as they are), and only then writes the files one by one, a block at a
time, through ``stemgui.audio.stream.write_blocks``, each under a temporary name in its target
folder; once all are complete they are renamed onto their targets. If a write fails or the export
is cancelled (``on_progress`` and ``cancel``: ``stemgui.export.progress``), the temporary files
are removed: an export leaves all its files or none, and the files of an earlier export it was to
replace stay as they were.

The files are at the stems' rate (the model's), or at ``request.samplerate`` (the song's own,
in the app), resampled a block at a time (``stemgui.export.rates``).

Two-stem mode (``two_stems="vocals"``) writes ``vocals`` and ``no_vocals``, the sum of every other
stem, as the Demucs command line does. A ``StemFileFormat`` writes one Stems file for DJ software
instead, the song and every stem in it, at 44.1 kHz (``stemgui.export.stem_file``).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stemgui.errors import CancelToken, ExportError, FileError
from stemgui.export.naming import DEFAULT_TEMPLATE
from stemgui.export.pace import Pace, PacedFiles
from stemgui.export.planning import part_frames, part_label, plan
from stemgui.export.progress import ExportProgress, ProgressCallback
from stemgui.export.sources import part_readers, sources_of
from stemgui.export.stem_file import is_stem_file

if TYPE_CHECKING:
    from stemgui.audio.encode import AudioFormat
    from stemgui.audio.stem_mp4 import StemFileFormat
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

MIX_NAME = "mix"


def _default_format() -> AudioFormat:
    from stemgui.audio.encode import AudioFormat

    return AudioFormat(kind="wav", bits=16)


@dataclass(frozen=True)
class ExportRequest:
    """What to write, where, and how.

    Attributes:
        folder: the output folder; the template's folders are created under it.
        stems: names of the stems to write; None writes every stem of the separation.
        mix_gains: when not None, also write the mix being heard, rendered by
            ``stemgui.stems.mixer.render_mix(stemset, mix_gains)``, under the stem name
            ``mix_name``.
        two_stems: a stem name: write that stem and ``no_<stem>`` (the sum of the others;
            silence for a song in one stem); ``stems`` is then ignored.
        fmt: the ``AudioFormat`` (wav 16/24/32f, flac, mp3); default 16-bit wav; or a
            ``stemgui.audio.stem_mp4.StemFileFormat``: one Stems file (``.stem.mp4``) of the
            song and all its stems, ``stems`` not used.
        template: the file name template (see ``stemgui.export.naming``).
        overwrite: replace existing files; otherwise any existing target refuses the export.
        skip_existing: leave the targets that exist as they are and write the others (over
            ``overwrite``): a batch stopped half-way, exported again, writes what is missing.
        rescale_together: with the ``rescale`` clip mode, divide every file by the one number
            that keeps the loudest of them below full scale, so the stems keep their levels
            against each other and still add up to the song; otherwise each file is rescaled
            by its own peak, as the Demucs command line does.
        span: (start, stop) in seconds: only that part of the song (a loop region, for a
            sample), its files named after the song and the span ("Song 1m02.50s-1m18.00s"),
            or with a template without ``{track}``, their names ("vocals 1m02.50s-1m18.00s.wav");
            None: the whole song.
        samplerate: the files' sample rate; None: the stems' own (the model's). Another
            resamples them as they are written (``stemgui.export.rates``).
        pace: a ``Pace`` (speed, semitones) the files are played at as they are written, as
            the player plays them (``stemgui.export.pace``), named after it ("Song 90% +2st");
            None: as the song is.
        analysis: the song's tempo and key (``stemgui.stems.analysis.Analysis``), written in
            every file's tags at the files' pace (``tempo_and_key``); None: not known.
    """

    folder: Path
    stems: Sequence[str] | None = None
    mix_gains: Any = None
    two_stems: str | None = None
    fmt: AudioFormat | StemFileFormat = field(default_factory=_default_format)
    template: str = DEFAULT_TEMPLATE
    overwrite: bool = False
    skip_existing: bool = False
    mix_name: str = MIX_NAME
    rescale_together: bool = False
    span: tuple[float, float] | None = None
    samplerate: int | None = None
    pace: Pace | None = None
    analysis: Analysis | None = None


def tempo_and_key(analysis: Analysis | None, pace: Pace | None) -> dict[str, str]:
    """The "bpm" and "key" tags of files at ``pace`` of a song found to be ``analysis``: its
    tempo times the speed, to the whole beat (as ID3 counts it; a half up), and its key transposed
    ("F#m", ``Key.tag``); those not known left out."""
    from stemgui.stems.tempo import round_bpm

    pace = pace or Pace()
    tempo, key = (analysis.tempo, analysis.key) if analysis is not None else (None, None)
    tags = {} if tempo is None else {"bpm": f"{round_bpm(tempo.bpm * pace.speed, 0):.0f}"}
    return tags if key is None else {**tags, "key": key.transposed(pace.semitones).tag}


def _roll_back(
    made: list[Path],
    aside: list[tuple[Path, Path, tuple[int, int] | None]],
    folders: list[Path],
) -> None:
    """Undo a failed export: remove the files it ``made``, put back the files it set ``aside``
    (target, where it is now, its times or None for a link) and remove the ``folders`` it made
    (outermost first) that stayed empty. Never raises: one file that cannot be removed must
    not keep the others from going back; what is left is logged."""
    from stemgui.audio.atomic import remove_quietly

    for path in made:
        remove_quietly(path)
    for target, earlier, times in aside:
        try:
            os.replace(earlier, target)
            if times is not None:
                os.utime(target, ns=times)  # as it was
        except OSError as error:
            logger.warning("could not put %s back from %s: %s", target, earlier, error)
    for folder in reversed(folders):  # innermost first; one that holds anything stays
        with contextlib.suppress(OSError):
            folder.rmdir()


def export(
    stemset: StemSet,
    request: ExportRequest,
    track: str | Path,
    model_name: str,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[Path]:
    """Write the files of ``request`` for ``stemset``; return the paths written, in order (not
    those ``request.skip_existing`` left as they were).

    Args:
        stemset: the separation: ``names``, ``samplerate``, ``data`` (sources, channels, frames).
        request: what to write (see ``ExportRequest``).
        track: the song's name without extension (a ``str``), or its ``Path`` (whose stem is
            used, and whose tags each file gets, with the stem's name in the title:
            ``stemgui.audio.tags``).
        model_name: the model's name, for ``{model}`` in the template.
        on_progress: told the fraction done, 0 to 1, after every block read (on this thread).
        cancel: a token (``threading.Event``) looked at before every block.

    Raises:
        ExportError: see ``plan``; or a file could not be written (the files created by this
            call are removed again).
        ExportCancelled: ``cancel`` was set; as for a failed write, nothing of this call stays.
    """
    with ExitStack() as cleanup:  # a spool of files at a pace is deleted, whatever happens
        return _export(stemset, request, track, model_name, on_progress, cancel, cleanup)


def _export(
    stemset: StemSet,
    request: ExportRequest,
    track: str | Path,
    model_name: str,
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
    cleanup: ExitStack,
) -> list[Path]:
    from stemgui.audio.atomic import (
        clean_stale_parts,
        fsync_folder,
        part_path_for,
        put_in_place,
        remove_quietly,
    )
    from stemgui.audio.encode import explain_write_error
    from stemgui.audio.stem_mp4 import STEM_RATE
    from stemgui.audio.stream import array_reader, peak, write_blocks
    from stemgui.audio.tags import read_tags, stem_tags
    from stemgui.export.stem_file import write as write_stem_file
    from stemgui.spool import STALE_PART_SECONDS

    if request.span is not None:  # named after the part the song has, not the part asked for
        start, stop = request.span
        request = replace(
            request, span=(min(max(start, 0.0), stemset.duration), min(stop, stemset.duration))
        )
    targets = plan(request, stemset.names, track, model_name)
    # (a link to nothing too: it is what is there)
    todo = [(n, p) for n, p in targets if not (request.skip_existing and os.path.lexists(p))]
    if not todo:
        logger.info("nothing to export to %s: every file exists already", request.folder)
        return []
    # a name is no path (as ``plan`` reads it): looked up, one over 255 bytes raised OSError
    song_tags = read_tags(track) if isinstance(track, Path) and track.is_file() else {}
    heard = tempo_and_key(request.analysis, request.pace)
    for folder in dict.fromkeys(target.parent for _, target in targets):
        # what an export killed there left (hidden temporary files); the app's exports go
        # beside the songs, where no start-up cleanup looks
        clean_stale_parts(folder, older_than=STALE_PART_SECONDS)
    first, frames = part_frames(stemset, request.span)
    portion = part_label(request)
    if request.span is not None and frames <= 0:
        raise ExportError(request.folder, "the part of the song to export is empty")
    stem_file = is_stem_file(request.fmt)  # its stems read block by block, as one file
    rate = STEM_RATE if stem_file else request.samplerate or stemset.samplerate
    paced = request.pace is not None and not request.pace.normal
    # a long song (its stems on disk), a part of a song, one resampled or paced: block by block
    spooled = (
        stem_file
        or isinstance(stemset.data, np.memmap)
        or frames != stemset.frames
        or rate != stemset.samplerate
        or paced
    )
    makers = sources_of(stemset, request)
    readers: dict[str, Callable[[int, int], np.ndarray]] = {}
    if spooled:
        readers, frames = part_readers(stemset, request, first, frames, rate)
        if frames <= 0:  # a frame or two of the stems, none at a lower rate: empty files
            raise ExportError(
                request.folder,
                f"the part of the song to export is empty at {rate} Hz; choose a longer part",
            )
    if paced:  # the files through the player's stretcher and transposer, spooled once
        # not every stem: those asked (a Stems file's: all)
        asked = stemset.names if stem_file else [name for name, _ in targets]
        wanted = {name: readers[name] for name in asked}
        files = PacedFiles(wanted, stemset.channels, frames, rate, request.pace)
        cleanup.callback(files.close)
        readers, frames = files.readers, files.frames

    made: dict[str, np.ndarray] = {}  # a mix or no_<stem> made for its peak, kept to write
    # (a Stems file finds its tracks' one divisor itself)
    together = request.rescale_together and request.fmt.clip == "rescale" and not stem_file
    # the frames read: a peak pass over every file for the one divisor, or write_blocks' own
    # peak pass over each file in ``rescale``; and the pass that writes each file (of a Stems
    # file, the pass that encodes each stem alone: nearly all its time)
    per_file = 2 if request.fmt.clip == "rescale" and not together else 1
    per_file = len(stemset.names) if stem_file else per_file
    total = frames * (len(targets) * together + len(todo) * per_file)
    what = track.name if isinstance(track, Path) else str(track)
    progress = ExportProgress(total, on_progress, cancel, what)

    def loudest(name: str) -> float:
        if spooled:  # a part of the song always is: the branch below is the whole song
            return peak(progress.reading(readers[name]), frames)
        samples = made[name] = makers[name]()
        return peak(progress.reading(array_reader(samples)), stemset.frames)

    fmt, divisor = request.fmt, np.float32(1.0)
    if together:  # one divisor, found first; over the files skipped too, as they were written
        divisor = np.float32(max(1.01 * max(loudest(name) for name, _ in targets), 1.0))
        fmt = replace(fmt, clip="none")  # nothing reaches full scale once divided
    # Every file is written under a temporary name first and put in place once all are
    # complete: a failure (disk full on the third stem) leaves the files of an earlier export,
    # with --overwrite too, as they were, not a set of new and old stems.
    staged: list[tuple[Path, Path]] = []  # (complete temporary file, its target)
    placed: list[Path] = []  # targets this call put its files at
    # (target, the earlier file there moved away, its (access, modification) times in ns;
    # None for a symbolic link)
    aside: list[tuple[Path, Path, tuple[int, int] | None]] = []
    folders: list[Path] = []  # made by this export, outermost first
    current = Path(request.folder)
    try:
        for name, current in todo:
            missing = [p for p in (current.parent, *current.parent.parents) if not p.exists()]
            current.parent.mkdir(parents=True, exist_ok=True)
            folders.extend(reversed(missing))
            part = part_path_for(current)  # the one temporary name: put in place below
            staged.append((part, current))
            tags = stem_tags(song_tags, name, str(track), model_name, portion) | heard
            if stem_file:
                every = {stem: readers[stem] for stem in stemset.names}
                write_stem_file(
                    current, every, stemset.channels, frames, fmt, tags, part, progress=progress
                )
                continue
            if spooled:
                read = readers[name]
            else:  # the whole song in memory: read a block at a time too, to be cancelled
                samples = made.pop(name) if name in made else makers[name]()
                read = array_reader(np.ascontiguousarray(samples, dtype=np.float32))
            write_blocks(
                current,
                progress.reading(read if divisor == 1 else lambda a, b, r=read: r(a, b) / divisor),
                stemset.channels,
                frames,
                rate,
                fmt,
                tags=tags,
                part=part,
            )
            logger.debug("wrote %s", current)
        progress.check()  # the last moment: once files are renamed into place, they stay
        for part, current in staged:
            if request.overwrite and os.path.lexists(current):  # kept until all are in place
                link = current.is_symlink()  # moved as it is; the file it names is not touched
                info = None if link else current.stat()
                times = None if info is None else (info.st_atime_ns, info.st_mtime_ns)
                aside.append((current, part_path_for(current), times))
                os.replace(current, aside[-1][1])
                if not link:
                    os.utime(aside[-1][1])  # a renamed file keeps its age: a cleanup took it
            try:
                put_in_place(part, current, request.overwrite)
            except FileExistsError:
                if not request.skip_existing:
                    raise
                # written meanwhile (another run of the same batch): kept, as the others were
                logger.info("%s was written meanwhile; kept as it is", current)
                remove_quietly(part)
                continue
            placed.append(current)
        for folder in dict.fromkeys(target.parent for _, target in staged):
            fsync_folder(folder)
    except BaseException as error:
        # A failed write, or an interruption (Ctrl-C, a cancel): no partial export stays, and
        # the files it was replacing go back (a rename refused on Windows: a file a DAW holds).
        _roll_back([part for part, _ in staged] + placed, aside, folders)
        if isinstance(error, ExportError) or not isinstance(error, (FileError, OSError)):
            raise
        if isinstance(error, FileError):
            reason = error.reason
            if not reason.startswith(("could not be written", "cannot be written")):
                reason = f"could not be written: {reason}"
        else:  # a folder that cannot be made, a rename refused: with what to do
            reason = explain_write_error(current, error)
        raise ExportError(current, reason) from error
    for _, earlier, _times in aside:
        earlier.unlink(missing_ok=True)
    progress.finish()
    logger.info("exported %d file(s) to %s", len(placed), request.folder)
    return placed
