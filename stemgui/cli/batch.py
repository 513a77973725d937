"""The batch of ``stemgui-separate``: the check that no two of the songs found
(``stemgui.cli.tracks``) write the same file, and the run of one track after another with one
Separator (``--skip-existing``, a line per track, the summary).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stemgui.cli.kept import KeptStems
from stemgui.cli.progress import track_progress
from stemgui.cli.tracks import NoSongs, real_path
from stemgui.errors import (
    ExportError,
    ModelRunError,
    StemguiError,
    one_line,
    out_of_memory,
    unexpected,
)

# The front end's logger: its INFO lines (a track done, the summary) reach the console without
# -v (stemgui.logs.CONSOLE_INFO_LOGGERS).
logger = logging.getLogger("stemgui.cli")


def shared_target(
    tracks: Sequence[Path], request: Any, sources: Sequence[str], model_name: str
) -> str | None:
    """Two tracks whose stems the template puts in the same file (album/cd1/01.wav and
    album/cd2/01.wav under {track}), or a stem that would replace one of the tracks (a song
    named vocals.wav, ``-o . --filename {stem}.{ext} --overwrite``), in words; None when every
    file is a track's own."""
    from stemgui.export.planning import plan

    def key(path: Path) -> str:
        text = str(real_path(path))
        if sys.platform in ("win32", "darwin"):  # names that differ in case: one file there
            text = text.casefold()
        return text

    inputs = {key(track): track for track in tracks}
    writers: dict[str, Path] = {}
    for track in tracks:
        try:
            targets = plan(replace(request, overwrite=True), sources, track, model_name)
        except ExportError:
            continue  # said for that track when its turn comes
        for _name, target in targets:
            if key(target) in inputs:
                return (
                    f"{track}: a stem would be written over the song {inputs[key(target)]}; "
                    "choose another -o folder or --filename"
                )
            first = writers.setdefault(key(target), track)
            if first != track:
                return (
                    f"{first} and {track} would both write {target}; separate them in two runs "
                    "with different -o folders"
                )
    return None


class TrackRun:
    """Separates and exports one track after another with one Separator."""

    def __init__(
        self,
        separator: Any,
        channels: int,
        request: Any,
        model_name: str,
        song_rate: bool = False,
        kept: KeptStems | None = None,
    ) -> None:
        self.separator = separator
        self.channels = channels
        self.request = request
        self.model_name = model_name
        self.song_rate = song_rate  # each song's files at its own rate (--samplerate song)
        self.kept = kept  # the app's stems and their tempo and key (None: --no-cache)
        self.count: tuple[int, int] | None = None  # (this track's number, the tracks') if set

    def existing(self, track: Path) -> int:
        """How many files ``track`` would write if all of them exist already, else 0."""
        from stemgui.export.planning import plan

        try:
            targets = plan(replace(self.request, overwrite=True), self.separator.sources, track,
                           self.model_name)  # fmt: skip
        except ExportError:
            return 0  # said when the track's turn comes
        # a link to nothing too, as the export skips it: the song was separated for no file
        return len(targets) if all(os.path.lexists(target) for _name, target in targets) else 0

    def __call__(self, track: Path) -> list[Path]:
        from stemgui.export.exporter import export
        from stemgui.export.planning import plan
        from stemgui.export.rates import export_rate

        sep = self.separator
        plan(self.request, sep.sources, track, self.model_name)  # fail before the long part
        with contextlib.ExitStack() as cleanup:
            hit = None if self.kept is None else self.kept.look_up(track)
            stems = self._kept(track, hit)
            if stems is None:
                stems = self._separated(track, cleanup)
            # the files carry the song's tempo and key, as the app's exports do: as the user
            # corrected them there, where the app kept them
            request = replace(self.request, analysis=KeptStems.analysis(track, stems, hit))
            if self.song_rate:
                rate = export_rate(request.fmt, stems.song[0], sep.samplerate)
                request = replace(request, samplerate=rate)
            written = export(stems, request, track, self.model_name)
            del stems, hit  # the spool can be unmapped, the cache entry let go of
            return written

    def _kept(self, track: Path, hit: Any) -> Any:
        """The full stems of ``track`` that the app kept in ``hit`` (its stem cache entry,
        memory-mapped: a long song's are never in RAM), said on the console; None when there is
        no entry or it is not what this model would separate (``KeptStems.reusable``)."""
        sep = self.separator
        if hit is None or not KeptStems.reusable(hit, sep.sources, sep.samplerate, self.channels):
            return None
        count = "" if self.count is None else " ({} of {})".format(*self.count)
        logger.info(
            "%s: from the stem cache%s: the app separated it with this model and these "
            "options; not separated again (--no-cache separates it afresh)",
            track,
            count,
        )
        return hit.stemset()

    def _separated(self, track: Path, cleanup: contextlib.ExitStack) -> Any:
        """The ``StemSet`` of ``track`` decoded and separated, with its own rate and length;
        a long song's stems spooled to a temporary file that ``cleanup`` removes."""
        import numpy as np

        from stemgui import spool
        from stemgui.audio.decode import decode
        from stemgui.stems.stemset import StemSet

        sep = self.separator
        # A long song's mix and stems go to temporary np.memmaps, removed at the end in any
        # case: the song is decoded into its file, not the RAM (1.3 GB for 60 minutes).
        stems_spool = None

        def allocate(shape: tuple[int, int]) -> np.ndarray:
            nonlocal stems_spool
            if stems_spool is not None:  # called again (a file shorter than it said)
                stems_spool.close()
                stems_spool = None
            if shape[1] <= spool.SPOOL_THRESHOLD_SECONDS * sep.samplerate:
                return np.empty(shape, dtype=np.float32)
            stems_spool = cleanup.enter_context(spool.StemSpool((len(sep.sources), *shape)))
            return stems_spool.mix_array(shape)

        audio = decode(
            track,
            sep.samplerate,
            self.channels,
            allocate=allocate,
            scratch=lambda: Path(tempfile.gettempdir()),
        )
        logger.debug(
            "%s: %.1f s, %d Hz, %d channel(s)",
            track,
            audio.duration,
            audio.original_samplerate,
            audio.original_channels,
        )
        total = max(round(audio.duration, 1), 0.1)
        # the bar's track named in what is logged until the song's files are written
        bar = cleanup.enter_context(track_progress(track, self.count, total))

        def on_progress(progress: Any) -> None:
            bar.update(min(total, round(progress.fraction * total, 1)) - bar.n)
            if stems_spool is not None:
                stems_spool.release(progress.frames_ready)

        mix, song = audio.samples, (audio.original_samplerate, audio.original_frames)
        out = stems_spool.array if stems_spool is not None else None
        del audio
        data = sep.separate(mix, on_progress=on_progress, out=out)
        del mix, out  # the mix is not exported: free it before writing
        bar.close()
        return StemSet(list(sep.sources), sep.samplerate, data, song=song)


def separate_all(
    run: TrackRun,
    tracks: Sequence[Path],
    problems: Sequence[NoSongs],
    *,
    skip_existing: bool,
    out: Path,
    log_file: Path | None,
) -> int:
    """Separate ``tracks`` one after another, a line for each; a track that fails is said and the
    next one runs, except after a model that cannot run (``ModelRunError``): the batch stops
    there, saying the tracks not tried. ``problems``: the arguments that named no song, counted
    as failed. Return the exit status: 1 if any failed, else 0."""
    failed = len(problems)
    skipped = 0
    details = (
        f"Details are in the log file {log_file}."
        if log_file is not None
        else "Run again with --verbose for the details."
    )
    for number, track in enumerate(tracks, 1):
        if skip_existing and (count := run.existing(track)):
            skipped += 1
            logger.info("%s: its %d file(s) exist already; skipped", track, count)
            continue
        run.count = (number, len(tracks))
        try:
            written = run(track)
        except StemguiError as error:
            failed += 1
            line = one_line(error).replace("allow overwriting", "pass --overwrite")  # our words
            if isinstance(error, ModelRunError):  # the network's class alone said which
                line = f"model {run.model_name}: {line}".replace(
                    "choose another model", "choose another model with -n"
                )
            if getattr(error, "path", None) != track:
                line = f"{track}: {line}"
            logger.error("%s", line, exc_info=True)
            if isinstance(error, ModelRunError) and number < len(tracks):
                # every song would fail alike: the batch stops rather than fail them one by one
                logger.error(
                    "the %d track(s) after %s were not tried: model %s would fail them alike",
                    len(tracks) - number,
                    track,
                    run.model_name,
                )
                break
            continue
        except MemoryError:  # numpy's too: the machine's, not a bug
            failed += 1
            logger.error("%s", out_of_memory(track, "separate this song"), exc_info=True)
            continue
        except Exception as error:
            # A bug, here or in the engine: said in one line, its traceback in the log file,
            # and the next track runs (Ctrl-C and exit are no Exception: they still stop).
            failed += 1
            logger.error("%s", unexpected(track, error, details), exc_info=True)
            continue
        if not written:  # with --skip-existing: another run wrote them meanwhile
            logger.info("%s: its files were written meanwhile, by another run; kept", track)
            continue
        folders = sorted({str(p.parent) for p in written})
        logger.info("%s: %d file(s) in %s", track, len(written), ", ".join(folders))
    return summary(failed, len(tracks) + len(problems), skipped, out, log_file)


def summary(failed: int, total: int, skipped: int, out: Path, log_file: Path | None) -> int:
    """The batch's last line, and its exit status: ``failed`` of ``total`` tracks said (1), or
    those separated into ``out`` and the ``skipped`` ones (0)."""
    if failed:
        details = f"; details in {log_file}" if log_file is not None else ""
        logger.error("%d of %d track(s) failed%s", failed, total, details)
        return 1
    also = f"; {skipped} skipped, their files exist already" if skipped else ""
    logger.info("done: %d track(s) separated into %s%s", total - skipped, out.resolve(), also)
    return 0
