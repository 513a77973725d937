"""Stems dragged out of the window onto a folder or a DAW: the wav files they drop.

Each stem is written as a 32-bit float wav in ``<user cache>/stemgui/drag``, named after its
song, of the part of it and at the rate and pace an export would take
(``stemgui.ui.drag_part.DragPart``: the loop region, the speed and key heard), through an
export's readers (``stemgui.export.sources``, ``stemgui.export.pace``), a block at a time: every
sample as separated at the stems' rate, resampled at another, the stems at a pace stretched
together, so stems dragged one by one still add up to the song; with the tags an export gives it
(the song's, the stem and the part in its title, its tempo and key at its pace:
``stemgui.audio.tags``), for a DJ's library. The file written for the same stems, part, rate and
tags is dropped again while it is as written (the same stems: those of the same song file
separated with the same options, swapped since for the stem cache's copy though they be):
writing a long stem holds the window up for a moment, at every drag otherwise. A file dropped
earlier, in this run or an earlier one, is never written over by other stems (another song of
the same name, the song separated with other options), another part, rate or other tags: a DAW
may play it where it lies, so those get the next free name ("My Song (2) - bass.wav").

Files are written on threads (from the mouse press: ``stemgui.ui.stem_drags``), the last song's
still, maybe, as the next one is dragged: a name is picked and taken for the stems it is written
for in one step, under a lock, so two songs of the same name written at once never share a file,
and the same stems being written on another thread are waited for, not written twice.

The files stay after the drop, for as long as ``stemgui.ui.drag_folder.KEEP_SECONDS``.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stemgui.ui.drag_folder import ELSEWHERE, drag_folder, made_folder
from stemgui.ui.drag_part import DragPart

if TYPE_CHECKING:
    from stemgui.errors import CancelToken, StemguiError

logger = logging.getLogger(__name__)

MIX = "mix"
"""The name the original mix (``StemSet.mix``) is written under, as a stem's: "My Song -
mix.wav", as an export names its mix file (``stemgui.export.exporter.MIX_NAME``)."""


class DragFiles:
    """The files stems were dragged out as, remembered by their path."""

    def __init__(self) -> None:
        # path -> (the stems' source, else the stems; rate, tags, part, size, modification
        # time) of each file written
        self._written: dict[Path, tuple[Hashable, int, dict[str, str], DragPart, int, int]] = {}
        self._writing: dict[Path, tuple] = {}  # path -> (stems, rate, tags, part) written there
        self._lock = threading.Condition()  # over both; notified as a file is written or not

    def file(
        self,
        stemset: Any,
        track: str,
        name: str,
        rate: int | None,
        tags: Mapping[str, str] | None = None,
        source: Hashable | None = None,
        part: DragPart | None = None,
        others: Mapping[str, Mapping[str, str]] | None = None,
        cancel: CancelToken | None = None,
        others_failed: Callable[[StemguiError], None] | None = None,
    ) -> Path:
        """Stem ``name`` of ``stemset`` (the song ``track``; ``MIX``: its original mix) as a
        wav at ``rate`` (None: the stems' own) with ``tags``, of ``part`` of the song (None:
        all of it as it is; a part is named as an export's, "My Song 1m02.50s-1m18.00s 80% -
        bass.wav"), written unless a file this object wrote is of these stems, that part at
        that rate with those tags and as written; under the next free name where a file (of
        an earlier run too) holds others. ``source`` says what the stems were made from (the
        song's ``Job.cache_key``): stems of the same source are the same stems, another object
        though they be (the stem cache's copy of a song that was left); None: these stems
        only.

        A part at a pace takes as long as an export of every stem at that pace (seconds): the
        caller runs it off the window's thread. Every stem goes through the stretcher together,
        as an export of them all does (``stemgui.export.pace.PacedFiles``), so that stems
        dragged one by one at a pace still add up to the song at that pace: the files of the
        others are written in the same pass, with their tags in ``others`` (stem -> tags),
        where those of this part are not there as written already. One of theirs failing
        once this stem's is written leaves the rest of them out and is told to
        ``others_failed`` (and logged): this stem's file is given all the same. The original
        mix goes through it alone, at once while the song is separating too (``writable``).

        ``cancel`` (a file written ahead of a drag that may not come: ``discard``) is looked at
        before every block and as the file is put in place: once set, nothing of it stays.

        Raises:
            StemguiError: the song is still separating (or was cancelled), the part is empty
                at ``rate``, or the file (or its folder) cannot be written.
            ExportCancelled: ``cancel`` was set before the file was written.
        """
        from stemgui.errors import ExportError

        if not writable(stemset, name):
            raise ExportError(  # a cancelled song's never finishes: Retry does
                track,
                "the stems can be dragged out once the whole song is separated "
                "(Retry a cancelled song)",
            )
        folder = made_folder()
        key = _key(stemset, rate, tags, source, part)
        stems, rate, tags_here, part = key
        tags_of = {**{n: dict(t) for n, t in (others or {}).items()}, name: tags_here}
        path, ready = self._claim(folder, track, name, key)
        if ready:
            return path
        targets = {name: path}  # taken: written here alone, and free again if not written
        try:
            written_for = (stems, rate, part)
            failed = self._write(
                stemset, folder, track, targets, tags_of, written_for, source, cancel
            )
        finally:
            self._let_go(targets.values())
        if failed is not None:
            logger.warning("%s is written, not the other stems at its pace: %s", path, failed)
            if others_failed is not None:
                others_failed(failed)
        return path

    def _write(
        self,
        stemset: Any,
        folder: Path,
        track: str,
        targets: dict[str, Path],
        tags_of: dict[str, dict[str, str]],
        key: tuple[Hashable, int, DragPart],
        source: Hashable | None,
        cancel: CancelToken | None = None,
    ) -> StemguiError | None:
        """Write ``targets`` (stem -> the path ``_claim`` took for it) of ``stemset``, each
        tagged with ``tags_of[stem]``, at ``key``'s (stems, rate, part); at a pace, the other
        stems too, whose paths are added to ``targets`` as they are taken. ``cancel``: as
        ``file``'s. Returns the error that left out the other stems after the first target was
        written (None: all written); the first target's own is raised."""
        from stemgui.audio.atomic import remove_quietly
        from stemgui.audio.encode import AudioFormat
        from stemgui.audio.stream import array_reader, write_blocks
        from stemgui.errors import ExportCancelled, ExportError, StemguiError
        from stemgui.export.planning import part_frames
        from stemgui.export.progress import ExportProgress
        from stemgui.export.sources import part_readers

        stems, rate, part = key
        # a block at a time, as an export reads them: a long song's stem, on disk, is not
        # copied whole into memory; at another rate, every sample as separated is resampled,
        # so that stems dragged one by one still add up to the song
        first, frames = part_frames(stemset, part.span)
        mix = {MIX: array_reader(stemset.mix)} if MIX in targets else None  # alone
        readers, frames = part_readers(stemset, part.request(folder), first, frames, rate, mix)
        if frames <= 0:
            raise ExportError(
                track,
                f"the loop region is empty at {rate} Hz; loop a longer part, or untick "
                "“Only the loop region” in File ▸ Export stems…",
            )
        with ExitStack() as cleanup:  # the spool of the stems at a pace is deleted
            if part.pace is not None:
                from stemgui.export.pace import PacedFiles

                together = [] if mix else list(stemset.names)  # in an export's order
                readers = {n: readers[n] for n in together} or readers  # or the mix alone
                paced = PacedFiles(readers, stemset.channels, frames, rate, part.pace)
                cleanup.callback(paced.close)
                readers, frames = paced.readers, paced.frames
                for other in [stem for stem in together if stem not in targets]:
                    taken = (stems, rate, tags_of.get(other, {}), part)
                    there, ready = self._claim(folder, track, other, taken, wait=False)
                    if not ready:
                        targets[other] = there
            progress = ExportProgress(frames, cancel=cancel, what=track)  # only its cancel
            first = next(iter(targets))
            for stem, target in targets.items():
                try:
                    write_blocks(
                        target,
                        progress.reading(readers[stem]),
                        stemset.channels,
                        frames,
                        rate,
                        AudioFormat("wav", 32, float=True, clip="none"),
                        overwrite=True,
                        tags=tags_of.get(stem, {}),
                        elsewhere=ELSEWHERE,
                    )
                except StemguiError as error:
                    if stem == first or isinstance(error, ExportCancelled):
                        raise
                    return error  # the first one's file is ready: its drag goes on
                stat = target.stat()
                kept = weakref.ref(stemset) if source is None else source
                written = (rate, tags_of.get(stem, {}), part, stat.st_size, stat.st_mtime_ns)
                with self._lock:  # cancelled now: not put where a drag (``_place``) finds it
                    try:
                        progress.check()
                    except ExportCancelled:
                        remove_quietly(target)
                        raise
                    self._written[target] = (kept, *written)
                    self._writing.pop(target)
                    self._lock.notify_all()
        return None

    def ready(
        self,
        stemset: Any,
        track: str,
        name: str,
        rate: int | None,
        tags: Mapping[str, str] | None = None,
        source: Hashable | None = None,
        part: DragPart | None = None,
        others: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Path | None:
        """The file ``file`` would drop for these (``others`` left aside) without writing it:
        that of an earlier drag, as written; None: it would write one (or refuse)."""
        key = _key(stemset, rate, tags, source, part)
        with self._lock:
            path, ready = self._place(drag_folder(), track, name, key)
        return path if ready else None

    def discard(self, **asked: Any) -> None:
        """Delete the file ``ready`` gives for ``asked`` (its arguments), and forget it: one
        written ahead of a drag that never came (the button let go with no drag), by a ``file``
        call whose ``cancel`` was set before this: still being written, nothing of it stays.
        The caller knows that no drag dropped it: ``ready`` gave None before it was written.

        Its name is free at once (renamed as a temporary file); its blocks are freed on a
        thread: deleting a 60-minute stem (1.27 GB) held the window 0.7 s."""
        from stemgui.audio.atomic import part_path_for, remove_quietly

        with self._lock:  # a Condition's lock is reentrant: ``ready`` takes it again
            path = self.ready(**asked)
            if path is None:
                return
            del self._written[path]
            gone = part_path_for(path)  # left by a crash: removed at the next start
            try:
                path.rename(gone)
            except OSError:  # removed under its name, then
                gone = path
        removing = threading.Thread(
            target=remove_quietly, args=(gone,), name="stemgui-drag-discard", daemon=True
        )
        removing.start()

    def _claim(
        self, folder: Path, track: str, name: str, key: tuple, wait: bool = True
    ) -> tuple[Path, bool]:
        """``_place`` of stem ``name`` for ``key``, the path taken for it while it is not
        there (``_let_go`` it once written, or not); one being written for ``key`` on another
        thread is waited for, or (``wait`` False) given as (its path, True): nothing to write."""
        with self._lock:
            while True:
                path, ready = self._place(folder, track, name, key)
                if ready or path not in self._writing:
                    break
                if not wait:
                    return path, True
                self._lock.wait()  # until it is written (then there), or not (then free)
            if not ready:
                self._writing[path] = key
            return path, ready

    def _let_go(self, paths: Iterable[Path]) -> None:
        """Free the paths taken by ``_claim`` but not written (an error)."""
        with self._lock:
            for path in paths:
                self._writing.pop(path, None)
            self._lock.notify_all()

    def _place(self, folder: Path, track: str, name: str, key: tuple) -> tuple[Path, bool]:
        """(the path of stem ``name``'s file, whether it is there as written for ``key``:
        (stems, rate, tags, part)): the first of "My Song - bass.wav", "My Song (2) -
        bass.wav"… that holds the file written for ``key``, is being written for it (not
        there), or is free: neither on disk nor being written for other stems. Called under
        ``_lock``."""
        from stemgui.export.naming import render

        label = key[3].label
        for number in itertools.count(1):
            # a long song's name gives way, not the stem's: each stem has a file of its own
            numbered = "" if number == 1 else f"({number})"
            path = render(
                "{track} - {stem}.{ext}",
                folder,
                track=track,
                stem=name,
                model="",
                ext="wav",
                track_label=" ".join(text for text in (label, numbered) if text),
            )
            if self._as_written(path) == key:
                return path, True
            if path in self._writing:  # on another thread, for these stems or others
                if self._writing[path] == key:
                    return path, False
                continue
            if not os.path.lexists(path):  # not a drop of this run nor of an earlier one
                return path, False
        raise AssertionError("unreachable")

    def _as_written(self, path: Path) -> tuple[Hashable, int, dict[str, str], DragPart] | None:
        """(the stems' source, else their id; rate, tags, part) the file at ``path`` was
        written with, if its stems (without a source) still exist and the file is still as
        written then (not replaced by another song's of the same name, not deleted); else
        None."""
        if path not in self._written:
            return None
        stems, rate, tags, part, size, modified = self._written[path]
        if isinstance(stems, weakref.ref):
            stems = None if stems() is None else id(stems())
        try:
            stat = path.stat()
        except OSError:
            return None
        if stems is None or (stat.st_size, stat.st_mtime_ns) != (size, modified):
            return None
        return stems, rate, tags, part


def writable(stemset: Any, name: str) -> bool:
    """Whether stem ``name`` of ``stemset`` can be dragged out: once the whole song is
    separated; its original mix (``MIX``) at once, decoded whole before the separation."""
    return bool(stemset.complete) or (name == MIX and stemset.mix is not None)


def _key(
    stemset: Any,
    rate: int | None,
    tags: Mapping[str, str] | None,
    source: Hashable | None,
    part: DragPart | None,
) -> tuple[Hashable, int, dict[str, str], DragPart]:
    """What a file is written for (``DragFiles.file``'s arguments): (the stems' ``source``,
    else their id; the ``rate``, else theirs; the ``tags``; the ``part``, else the whole song
    as it is)."""
    stems = id(stemset) if source is None else source
    return stems, rate or stemset.samplerate, dict(tags or {}), part or DragPart()
