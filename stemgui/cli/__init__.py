"""``stemgui-separate``: separate songs into stem files from the command line, without the window.

    stemgui-separate song.mp3 album/ -o stems --two-stems vocals --flac

Flags follow the Demucs command line where they exist. The model is loaded once for all tracks.
Folders are searched (recursively) for audio files. A track that fails is reported on one line
(the reason, no traceback unless ``--verbose``; the log file keeps it) and the others still run
(not after a model that cannot separate: ``ModelRunError`` stops the batch);
the exit status is 1 if any track failed, 0 otherwise, 2 for bad arguments.

Existing files are never replaced without ``--overwrite``; they are detected before separating.
``--skip-existing`` skips the songs whose files all exist and writes only the missing files of
the others (a batch stopped half-way, run again).
Songs longer than ``stemgui.spool.SPOOL_THRESHOLD_SECONDS`` have their stems spooled to a
temporary file, so memory stays bounded; temporary files left in the output folder by a run that
was killed are removed when the next run starts (``stemgui.spool.clean_leftovers``).

The command line's modules: ``arguments`` (the parser and the usage checks), ``models`` (``-n``
and ``--list-models``), ``tracks`` (the songs named), ``batch`` (the run of one after another),
``kept`` (the stems the app kept for a song, written out as they are, and their tempo and key
with the user's corrections; ``--no-cache`` reads none) and
``progress`` (the bar). This one holds the entry point (``main``) and the order of its steps;
``python -m stemgui.cli`` runs it too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stemgui import memory
from stemgui.cli.arguments import (
    build_parser,
    check_usage,
    option_like_song,
    unknown_arguments,
)
from stemgui.cli.batch import TrackRun, separate_all, shared_target, summary
from stemgui.cli.kept import KeptStems
from stemgui.cli.models import list_models, load_model, said
from stemgui.cli.tracks import find_tracks
from stemgui.errors import ExportError, StemguiError, one_line
from stemgui.logs import setup_logging

logger = logging.getLogger(__name__)  # "stemgui.cli": its INFO lines reach the console


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 all good, 1 a track failed)."""
    memory.reuse_freed_memory()  # first thing: torch (and its threads) are not loaded yet
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if (said := option_like_song(parser, argv)) is not None:  # before argparse misreads it
        parser.error(said)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(unknown_arguments(unknown))
    log_file = setup_logging(args.verbose)
    if log_file is not None:
        logger.debug("log file: %s", log_file)
    for flag, given in (("-j/--jobs", args.jobs), ("--mp3-preset", args.mp3_preset)):
        if given is not None:
            logger.warning("%s is Demucs's and does nothing here; it can be left out", flag)
    try:
        with _stopped_by_signals():
            return _run(parser, args, log_file)
    except KeyboardInterrupt as stop:
        left = getattr(  # what the step it stopped left, where it says (a model's download)
            stop,
            "left",
            "files being written were discarded (finished songs are kept: run again with "
            "--skip-existing to separate the rest)",
        )
        logger.error("interrupted; %s", left)
        return 128 + getattr(stop, "signum", signal.SIGINT)  # 130 for Ctrl-C, 143 for TERM


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a kill, a closed terminal), raised where the program is, as Ctrl-C
    is: files being written are discarded on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the run as Ctrl-C does, while it runs; only where they would
    end the program anyway (their default action): not one ignored on purpose (nohup ignores
    SIGHUP), nor one handled from C (unknown to Python: it could not be given back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = [
        number
        for number in (getattr(signal, name, None) for name in ("SIGTERM", "SIGHUP"))
        if number is not None and signal.getsignal(number) is signal.SIG_DFL
    ]

    def stop(signum: int, _frame: Any) -> None:
        raise _Stopped(signum)

    for number in numbers:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number in numbers:
            signal.signal(number, signal.SIG_DFL)


@contextlib.contextmanager
def _stop_leaves(left: str) -> Iterator[None]:
    """A stop (Ctrl-C, a kill) inside says ``left`` (what ``main`` says the step left), unless a
    step inside said its own (a model's download: what came so far is kept)."""
    try:
        yield
    except KeyboardInterrupt as stop:
        if not hasattr(stop, "left"):
            stop.left = left
        raise


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, log_file: Path | None) -> int:
    """The run after the arguments are parsed: the models listed, or the usage checked, the songs
    found, the model loaded once, its output checked for clashes, then the batch."""
    if args.list_models:
        try:
            models = list_models()
        except StemguiError as error:
            logger.error("%s", said(error), exc_info=True)
            return 1
        try:
            print("\n".join(models), flush=True)
        except BrokenPipeError:  # `| head -1`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 0
    fmt = check_usage(parser, args)

    from stemgui.export.naming import template_parts
    from stemgui.spool import clean_leftovers

    # temporary files of runs that were killed, where the template writes (not a whole library)
    clean_leftovers(args.out, depth=len(template_parts(args.filename)) - 1)
    tracks, problems = find_tracks(args.tracks, exclude=args.out, template=args.filename)
    for problem in problems:
        logger.error("%s", problem)
    if not tracks:  # every argument named no song: the batch's summary all the same
        return summary(len(problems), len(problems), 0, args.out, log_file)

    from stemgui.export.exporter import ExportRequest
    from stemgui.export.pace import Pace
    from stemgui.export.planning import stem_names

    named = f"model {args.name}" if args.name is not None else "the default model"
    with _stop_leaves(f"the run stopped while loading {named}: no stem was written"):
        try:
            model, model_name = load_model(args.name)
        except StemguiError as error:
            logger.error("%s", said(error), exc_info=True)
            return 1
        from stemgui.separation.separator import Separator

        try:
            separator = Separator(  # the weights moved to the device
                model,
                device=args.device,
                segment=args.segment,
                overlap=args.overlap,
                shifts=args.shifts,
            )
        except (ValueError, RuntimeError, StemguiError) as error:
            logger.error("cannot run model %s: %s", model_name, one_line(error), exc_info=True)
            return 1
    request = ExportRequest(
        folder=args.out,
        two_stems=args.two_stems,
        fmt=fmt,
        template=args.filename,
        overwrite=args.overwrite,
        skip_existing=args.skip_existing,  # a song stopped while its files were written
        pace=Pace(args.speed, args.semitones),
        samplerate=args.samplerate if isinstance(args.samplerate, int) else None,
    )
    try:
        stem_names(request, separator.sources)
    except ExportError as error:  # --two-stems of a stem this model has not: said once
        given = args.two_stems or repr(args.two_stems)  # '' said as such
        flag = f"--two-stems {given}: model {model_name}: " if args.two_stems is not None else ""
        logger.error("%s%s", flag, error.reason)
        return 1
    if (clash := shared_target(tracks, request, separator.sources, model_name)) is not None:
        logger.error("%s", clash)
        return 1
    logger.info("model %s on %s; stems go to %s", model_name, separator.device, args.out.resolve())

    channels = int(model.audio_channels)
    # the app's stem cache keys on these options (``SeparationOptions.stem_options``)
    options = {"segment": args.segment, "overlap": args.overlap, "shifts": args.shifts}
    kept = None if args.no_cache else KeptStems(args.name or "", options)
    run = TrackRun(separator, channels, request, model_name, args.samplerate == "song", kept)
    return separate_all(
        run,
        tracks,
        problems,
        skip_existing=args.skip_existing,
        out=args.out,
        log_file=log_file,
    )
