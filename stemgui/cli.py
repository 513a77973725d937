"""``stemgui-separate``: separate songs into stem files from the command line, without the window.

    stemgui-separate song.mp3 album/ -o stems --two-stems vocals --flac

Flags follow the Demucs command line where they exist. The model is loaded once for all tracks.
Folders are searched (recursively) for audio files. A track that fails is reported on one line
(the reason, no traceback unless ``--verbose``; the log file keeps it) and the others still run;
the exit status is 1 if any track failed, 0 otherwise, 2 for bad arguments.

Existing files are never replaced without ``--overwrite``; they are detected before separating.
``--skip-existing`` skips the songs whose files all exist (a batch stopped half-way, run again).
Songs longer than ``stemgui.spool.SPOOL_THRESHOLD_SECONDS`` have their stems spooled to a
temporary file, so memory stays bounded; temporary files left in the output folder by a run that
was killed are removed when the next run starts (``stemgui.spool.clean_leftovers``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import string
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stemgui import __version__, memory
from stemgui.errors import ExportError, StemguiError
from stemgui.export.naming import DEFAULT_TEMPLATE, check_extension, template_parts
from stemgui.logs import setup_logging
from stemgui.separation.spec import file_model_name, names_a_file

logger = logging.getLogger("stemgui.cli")  # as __main__ too (python -m stemgui.cli)


def _checked(kind: type, ok: Any, words: str) -> Any:
    """An argparse type: ``kind(text)`` if ``ok`` of it holds, else the usage error ``words``
    (exit 2 before the model loads; these failed on every track, after it)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}")
        return value

    return parse


def _device(text: str) -> str:
    """A device this machine has (auto, cpu, cuda, cuda:N, mps), kept as written."""
    if text == "auto":  # always there; and the default, parsed on every run: no torch import
        return text
    from stemgui.separation.device import resolve_device

    try:
        resolve_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemgui-separate",
        description="Separate songs into stems (drums, bass, other, vocals) and write them as "
        "audio files.",
    )
    parser.add_argument(
        "tracks", nargs="*", type=Path, help="audio files, or folders searched for audio files"
    )
    parser.add_argument(
        "-n",
        "--name",
        type=_checked(str, bool, "a model name or a model file"),
        help="model name (see --list-models) or path to a model file (our checkpoint, an "
        "official Demucs .th file, or a bag .yaml); default: the bundled model",
    )
    parser.add_argument("--list-models", action="store_true", help="list the models and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug messages, tracebacks")
    parser.add_argument(
        "-o", "--out", type=Path, default=Path("separated"), help="output folder (%(default)s)"
    )
    parser.add_argument(
        "--filename",
        default=DEFAULT_TEMPLATE,
        help="file name template under the output folder (not under its model folder, as "
        "Demucs's is), with {track}, {stem}, {model}, {ext} (default: %(default)s)",
    )
    parser.add_argument(
        "-d",
        "--device",
        type=_device,
        default="auto",
        help="auto (default: cuda, then mps, then cpu), cpu, cuda",
    )
    parser.add_argument(
        "--segment",
        # Shorter chunks than 0.1 s, or more overlap than 0.9, run for hours to days (--overlap
        # 0.99999 steps one sample at a time: 530,000 chunks for 12 s) for nothing of use.
        type=_checked(float, lambda v: 0.1 <= v < float("inf"), "a number of seconds from 0.1"),
        help="chunk length in seconds (default: the model's own)",
    )
    parser.add_argument(
        "--overlap",
        type=_checked(float, lambda v: 0 <= v <= 0.9, "a fraction from 0 to 0.9"),
        default=0.25,
        help="overlap between chunks (%(default)s)",
    )
    parser.add_argument(
        "--shifts",
        type=_checked(int, lambda v: v >= 0, "a whole number from 0"),
        default=0,
        help="random time shifts averaged; each one costs a full pass (%(default)s)",
    )
    parser.add_argument(
        "--two-stems",
        metavar="STEM",
        help="write only STEM and no_STEM (the sum of the other stems)",
    )
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--int24", action="store_true", help="24-bit wav/flac")
    depth.add_argument("--float32", action="store_true", help="32-bit float wav")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--flac", action="store_true", help="write flac instead of wav")
    kind.add_argument("--mp3", action="store_true", help="write mp3 instead of wav")
    parser.add_argument(
        "--mp3-bitrate", type=int, default=320, help="mp3 bitrate in kbps (%(default)s)"
    )
    # Demucs's speed and encoder-effort flags: taken, so that its scripts run, and said to
    # do nothing here (one song at a time on every core; LAME at a constant bit rate).
    parser.add_argument("-j", "--jobs", type=int, help="Demucs's; ignored here (a warning)")
    parser.add_argument("--mp3-preset", type=int, help="Demucs's; ignored here (a warning)")
    parser.add_argument(
        "--clip-mode",
        choices=["rescale", "clamp", "none"],
        default="rescale",
        help="avoid clipping by rescaling the whole stem (default) or by clamping samples",
    )
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite", action="store_true", help="replace existing files instead of refusing"
    )
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip the songs whose files all exist (to finish a batch that was stopped)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def audio_format(args: argparse.Namespace) -> Any:
    """The ``AudioFormat`` the flags ask for."""
    from stemgui.audio.encode import AudioFormat

    kind = "mp3" if args.mp3 else "flac" if args.flac else "wav"
    if kind == "mp3" and args.int24:  # was ignored without a word
        raise ValueError("mp3 has no bit depth; leave out --int24")
    bits = 32 if args.float32 else 24 if args.int24 else 16
    return AudioFormat(
        kind=kind,
        bits=bits,
        float=args.float32,
        mp3_bitrate=args.mp3_bitrate,
        clip=args.clip_mode,
    )


def _written_stems() -> tuple[str, ...]:
    """The stem names this program writes: the official models' sources (4 and 6), two-stem
    mode's no_<stem>, and the mix."""
    from stemgui.export.exporter import MIX_NAME
    from stemgui.separation.store import OFFICIAL_MODELS

    sources = dict.fromkeys(s for model in OFFICIAL_MODELS.values() for s in model.sources)
    return (*sources, *(f"no_{s}" for s in sources), MIX_NAME)


def _earlier_output(path: Path, out: Path, folder: Path, written: Sequence[Any]) -> bool:
    """Whether ``path``, found in ``folder``, is a stem an earlier run wrote into ``out``.

    An output folder inside the searched one holds nothing else; one that is the searched
    folder or above it (``album -o .``) holds the songs too, so there only the paths that
    match one of ``written`` (file name templates' patterns) are.
    """
    if out not in path.parents:
        return False
    if out == folder or out in folder.parents:
        relative = path.relative_to(out).as_posix()
        return any(pattern.fullmatch(relative) is not None for pattern in written)
    return True


def find_tracks(
    paths: Sequence[Path], exclude: Path | None = None, template: str = DEFAULT_TEMPLATE
) -> tuple[list[Path], list[str]]:
    """The songs named by ``paths`` and one-line problems for folders that hold none.

    Folders are searched as ``stemgui.audio.decode.find_audio_files`` does (recursively,
    supported extensions, no hidden files); files are kept whatever their extension and missing
    paths are kept too, so that decoding reports what is wrong with them. Stems an earlier run
    wrote into ``exclude`` (the output folder) with ``template`` or the default template are
    skipped, so they are never separated again (see ``_earlier_output``). Each file appears
    once, in the order given.
    """
    from stemgui.audio.decode import find_audio_files
    from stemgui.export.naming import template_pattern

    excluded = _real_path(exclude) if exclude is not None else None
    # this run's template, and the default one: stems of a run before a --filename change
    written = [
        template_pattern(t, _written_stems()) for t in dict.fromkeys([template, DEFAULT_TEMPLATE])
    ]
    tracks: dict[Path, Path] = {}
    problems: list[str] = []
    for path in paths:
        found = find_audio_files([path])
        if path.is_dir() and excluded is not None:
            folder = _real_path(path)
            earlier = [
                p for p in found if _earlier_output(_real_path(p), excluded, folder, written)
            ]
            if earlier:  # a song named like a stem would be missed without a word
                logger.warning(
                    "%s: left out %d file(s) that look like stems of an earlier run (%s%s)",
                    path,
                    len(earlier),
                    earlier[0],
                    ", …" if len(earlier) > 1 else "",
                )
            found = [p for p in found if p not in earlier]
        if path.is_dir() and not found:
            problems.append(f"{path}: no audio files in this folder")
        for p in found:
            key = _real_path(p)
            if key in tracks and not path.is_dir():  # named twice, or a link to another: said
                first = tracks[key]
                again = "given twice" if first == p else f"the same file as {first}"
                logger.warning("%s: %s; separated once, as %s", p, again, first)
            tracks.setdefault(key, p)
    return list(tracks.values()), problems


def _real_path(path: Path) -> Path:
    """``path`` with its links followed. A link loop stays as it is, for decoding to say so:
    ``Path.resolve`` raised RuntimeError on one before Python 3.13 (a traceback, and no song of
    the batch separated)."""
    return Path(os.path.realpath(path))


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be written under ``folder`` (made if need be), or None."""
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):  # a read-only disk too, for root
        return f"{existing} cannot be written"
    try:  # /proc and /sys pass os.access for root, and refuse every file after the separation
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        return f"{existing} cannot be written"
    return None


def _shared_target(
    tracks: Sequence[Path], request: Any, sources: Sequence[str], model_name: str
) -> str | None:
    """Two tracks whose stems the template puts in the same file (album/cd1/01.wav and
    album/cd2/01.wav under {track}), or a stem that would replace one of the tracks (a song
    named vocals.wav, ``-o . --filename {stem}.{ext} --overwrite``), in words; None when every
    file is a track's own."""
    from dataclasses import replace

    from stemgui.export.exporter import plan

    def key(path: Path) -> str:
        text = str(_real_path(path))
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


def load_model(name: str | None, *, download: bool = True) -> tuple[Any, str]:
    """The model named ``name`` (None: the store's default) and its name for ``{model}``.

    ``name`` is a model name (``--list-models``) or a path to a file: our checkpoint, an
    official Demucs ``.th`` file, or a bag ``.yaml`` (whose models are looked up in its folder).
    An official model (``htdemucs``...) that is not downloaded yet is downloaded first, with a
    progress bar, as the Demucs command line does; with ``download=False`` (the app, whose
    downloads go through Get models…, with progress and Cancel) it is refused instead.

    Raises:
        ModelLoadError: the model is missing, unknown, fails its sha256 check or its download.
    """
    from stemgui.errors import ModelLoadError
    from stemgui.separation.store import OFFICIAL_MODELS, ModelStore

    store = ModelStore()
    if name is None:
        name = store.default_name()
        if name is None:
            raise ModelLoadError(
                store.bundled_dir,
                "no model is installed; choose one with -n: a model file, or an official "
                "name such as htdemucs (downloaded on first use)",
            )
    path = Path(name)
    local = {entry.name for entry in store.list_models() if entry.origin != "official"}
    named = len(path.parts) == 1 and (name in local or name in OFFICIAL_MODELS)
    if path.is_dir() and not named:  # a folder named like a model is not one: the model is
        raise ModelLoadError(path, "is a folder; name a model file in it (.stemgui, .th, .yaml)")
    if path.is_file() or names_a_file(path):
        if not path.is_file():
            raise ModelLoadError(path, "no such model file; check the path")
        return store.load(path), file_model_name(path)
    if name in OFFICIAL_MODELS and name not in local:
        if not download and store.missing_files(name):
            raise ModelLoadError(
                store.official_dir,
                f"model {name} is not downloaded (or its files were deleted since); get it "
                "with Model ▸ Get models…, or choose another model",
            )
        _download_official(store, name)
    return store.load(name), name


def _download_official(store: Any, name: str) -> None:
    """Fetch the missing files of official model ``name`` into the store, with progress bars."""
    from stemgui.separation.download import download_file, tqdm_progress

    for url, dest in store.missing_files(name):
        logger.info("downloading model %s: %s", name, url)
        with tqdm_progress(dest.name) as on_progress:
            download_file(url, dest, name=name, on_progress=on_progress)


def list_models() -> list[str]:
    """One line per model the store knows: name, origin, default mark, description."""
    from stemgui.separation.store import ModelStore

    store = ModelStore()
    default = store.default_name()
    rows = []
    for entry in store.list_models():
        state = "" if entry.available else "(downloaded on first use)"
        if entry.name == default and entry.available:
            state = "(default)"
        rows.append((entry.name, entry.origin, state, entry.description or ""))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]  # aligned columns
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0])).rstrip()
        for row in rows
    ]


class _TrackRun:
    """Separates and exports one track after another with one Separator."""

    def __init__(self, separator: Any, channels: int, request: Any, model_name: str) -> None:
        self.separator = separator
        self.channels = channels
        self.request = request
        self.model_name = model_name
        self.count: tuple[int, int] | None = None  # (this track's number, the tracks') if set

    def existing(self, track: Path) -> int:
        """How many files ``track`` would write if all of them exist already, else 0."""
        from dataclasses import replace

        from stemgui.export.exporter import plan

        try:
            targets = plan(replace(self.request, overwrite=True), self.separator.sources, track,
                           self.model_name)  # fmt: skip
        except ExportError:
            return 0  # said when the track's turn comes
        return len(targets) if all(target.exists() for _name, target in targets) else 0

    def __call__(self, track: Path) -> list[Path]:
        import numpy as np
        from tqdm import tqdm

        from stemgui import spool
        from stemgui.audio.decode import decode
        from stemgui.export.exporter import export, plan
        from stemgui.stems.stemset import StemSet

        sep = self.separator
        plan(self.request, sep.sources, track, self.model_name)  # fail before the long part
        with contextlib.ExitStack() as cleanup:
            # A long song's mix and stems go to temporary np.memmaps, removed at the end in
            # any case: the song is decoded into its file, not the RAM (1.3 GB for 60 minutes).
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
                scratch=Path(tempfile.gettempdir()),
            )
            logger.debug(
                "%s: %.1f s, %d Hz, %d channel(s)",
                track,
                audio.duration,
                audio.original_samplerate,
                audio.original_channels,
            )
            total = max(round(audio.duration, 1), 0.1)
            desc = track.name if self.count is None else f"{track.name} (%d of %d)" % self.count
            bar = cleanup.enter_context(
                tqdm(total=total, unit="s", desc=desc, file=sys.stderr, disable=None, leave=False)
            )
            cleanup.enter_context(_naming_track(track))
            if not bar.disable:
                cleanup.enter_context(_above_the_bar())
            if bar.disable and self.count is not None:  # no bar (not a terminal): said in words
                logger.info("%s: separating (%d of %d)", track, *self.count)

            def on_progress(progress: Any) -> None:
                bar.update(min(total, round(progress.fraction * total, 1)) - bar.n)
                if stems_spool is not None:
                    stems_spool.release(progress.frames_ready)

            mix = audio.samples
            out = stems_spool.array if stems_spool is not None else None
            del audio
            data = sep.separate(mix, on_progress=on_progress, out=out)
            del mix, out  # the mix is not exported: free it before writing
            bar.close()
            stems = StemSet(list(sep.sources), sep.samplerate, data)
            del data
            written = export(stems, self.request, track, self.model_name)
            del stems  # the spool can be unmapped
            return written


class _BarSafeStream:
    """A stream that writes through ``tqdm.write``: the progress bar is cleared first and
    drawn again below, rather than the text running on after it on its line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        from tqdm import tqdm

        tqdm.write(text, file=self.stream, end="")

    def flush(self) -> None:
        self.stream.flush()


@contextlib.contextmanager
def _above_the_bar() -> Iterator[None]:
    """While a progress bar is shown, the console's log lines are written above it."""
    handlers = [
        handler
        for handler in logging.getLogger("stemgui").handlers
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr
    ]
    for handler in handlers:
        handler.setStream(_BarSafeStream(sys.stderr))
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(sys.stderr)


@contextlib.contextmanager
def _naming_track(track: Path) -> Iterator[None]:
    """Prefix what the separator logs (out-of-memory retries) with the track's path."""

    def name_it(record: logging.LogRecord) -> bool:
        record.msg, record.args = f"{track}: {record.getMessage()}", None
        return True

    separator_logger = logging.getLogger("stemgui.separation.separator")
    separator_logger.addFilter(name_it)
    try:
        yield
    finally:
        separator_logger.removeFilter(name_it)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 all good, 1 a track failed)."""
    memory.reuse_freed_memory()  # first thing: torch (and its threads) are not loaded yet
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(_unknown_arguments(unknown))
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
        logger.error(
            "interrupted; files being written were discarded (finished songs are kept: run "
            "again with --skip-existing to separate the rest)"
        )
        return 128 + getattr(stop, "signum", signal.SIGINT)  # 130 for Ctrl-C, 143 for TERM


def _template_keys(template: str) -> set[str]:
    """The keys a (checked) file name template fills in; ``{{stem}}`` is the text ``{stem}``."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(template) if field}


def _unknown_arguments(unknown: Sequence[str]) -> str:
    """argparse's words for arguments it does not know, and how to name a song whose file name
    starts with ``-`` (``-x.wav``), which argparse takes for an option."""
    words = f"unrecognized arguments: {' '.join(unknown)}"
    song = next((a for a in unknown if a.startswith("-") and Path(a).exists()), None)
    if song is not None:
        words += f"; {song} is a file: write ./{song}, or put -- before it (-- {song})"
    return words


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


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, log_file: Path | None) -> int:
    if args.list_models:
        try:
            models = list_models()
        except StemguiError as error:
            logger.error("%s", error, exc_info=True)
            return 1
        try:
            print("\n".join(models), flush=True)
        except BrokenPipeError:  # `| head -1`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 0
    if not args.tracks:
        parser.error("give at least one track (an audio file or a folder)")
    try:
        fmt = audio_format(args)
    except ValueError as error:
        parser.error(str(error))
    try:
        template_parts(args.filename, args.out)
        check_extension(args.filename, fmt.extension, args.out)
        if "stem" not in _template_keys(args.filename):  # every run writes two stems or more
            raise ExportError(
                args.out,
                f"file name template {args.filename!r} has no {{stem}}: every stem would get "
                "the same file; put {stem} in it",
            )
    except ExportError as error:
        parser.error(error.reason)
    if args.out.exists() and not args.out.is_dir():  # before any song is separated
        parser.error(f"-o {args.out}: is a file, not a folder; name a folder for the stems")
    if (problem := _unwritable(args.out)) is not None:  # found after every song otherwise
        parser.error(f"-o {args.out}: {problem}; name a folder you can write to")

    from stemgui.spool import clean_leftovers

    clean_leftovers(args.out)  # temporary files of runs that were killed
    tracks, problems = find_tracks(args.tracks, exclude=args.out, template=args.filename)
    for problem in problems:
        logger.error("%s", problem)
    if not tracks:
        return 1

    from stemgui.export.exporter import ExportRequest, stem_names

    try:
        model, model_name = load_model(args.name)
    except StemguiError as error:
        logger.error("%s", error, exc_info=True)
        return 1
    from stemgui.separation.separator import Separator

    try:
        separator = Separator(
            model,
            device=args.device,
            segment=args.segment,
            overlap=args.overlap,
            shifts=args.shifts,
        )
    except (ValueError, RuntimeError, StemguiError) as error:
        logger.error("cannot run model %s: %s", model_name, error, exc_info=True)
        return 1
    request = ExportRequest(
        folder=args.out,
        two_stems=args.two_stems,
        fmt=fmt,
        template=args.filename,
        overwrite=args.overwrite,
    )
    try:
        stem_names(request, separator.sources)
    except ExportError as error:  # --two-stems of a stem this model has not: said once
        flag = f"--two-stems {args.two_stems}: " if args.two_stems else ""
        logger.error("%s%s", flag, error.reason)
        return 1
    if (clash := _shared_target(tracks, request, separator.sources, model_name)) is not None:
        logger.error("%s", clash)
        return 1
    logger.info("model %s on %s; stems go to %s", model_name, separator.device, args.out.resolve())

    run = _TrackRun(separator, int(model.audio_channels), request, model_name)
    failed = len(problems)
    skipped = 0
    for number, track in enumerate(tracks, 1):
        if args.skip_existing and (count := run.existing(track)):
            skipped += 1
            logger.info("%s: its %d file(s) exist already; skipped", track, count)
            continue
        run.count = (number, len(tracks))
        try:
            written = run(track)
        except StemguiError as error:
            failed += 1
            line = str(error).replace("allow overwriting", "pass --overwrite")  # in our words
            if getattr(error, "path", None) != track:
                line = f"{track}: {line}"
            logger.error("%s", line, exc_info=True)
            continue
        except (RuntimeError, MemoryError, ValueError, OSError) as error:
            # Not a domain error: a bug, the machine running out of memory, a file system
            # refusing something unforeseen. Keep going with the next track; the traceback is
            # in the log file.
            failed += 1
            logger.error(
                "%s: separation failed (%s: %s)",
                track,
                type(error).__name__,
                error,
                exc_info=True,
            )
            continue
        folders = sorted({str(p.parent) for p in written})
        logger.info("%s: %d file(s) in %s", track, len(written), ", ".join(folders))
    if failed:
        details = f"; details in {log_file}" if log_file is not None else ""
        logger.error("%d of %d track(s) failed%s", failed, len(tracks) + len(problems), details)
        return 1
    also = f"; {skipped} skipped, their files exist already" if skipped else ""
    logger.info(
        "done: %d track(s) separated into %s%s", len(tracks) - skipped, args.out.resolve(), also
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
