"""Argument types shared by the ``python -m training`` commands: a bad number or device is
refused by argparse (usage, the option's name, exit 2) before any work starts; and the check of
the file a command writes, before it reads or writes anything."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from stemgui.separation import MAX_OVERLAP, MAX_SEGMENT, MIN_SEGMENT


def count(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` (to ``high``)."""
    words = f"a whole number from {low}" + ("" if high is None else f" to {high}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}")
        return value

    return parse


def _number(
    low: float, high: float = math.inf, *, strict: bool = False, what: str = "a number"
) -> Callable[[str], float]:
    """A finite number above ``low`` (``strict``) or from it, up to ``high``; nan and inf are
    refused."""
    words = f"{what} {'above' if strict else 'from'} {low:g}"
    words += "" if high == math.inf else f" to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above = value > low if strict else value >= low
        if not (math.isfinite(value) and above and value <= high):
            raise argparse.ArgumentTypeError(f"{words}, got {text!r}")
        return value

    return parse


positive = _number(0, strict=True)
non_negative = _number(0)
# A chunk overlap, as the Separator takes it.
fraction = _number(0, MAX_OVERLAP)
chunk_seconds = _number(MIN_SEGMENT, MAX_SEGMENT, what="seconds")  # as the app's Separator
# A synthetic song: under a second is no music to learn from (fit leaves out tracks shorter than
# its excerpts), and 1e5 s asked 131 GiB after rendering for 15 s.
song_seconds = _number(1, 600, what="seconds")


def add_measure_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--data``, ``--cache`` and ``--device`` of a command that measures on MUSDB18
    validation tracks the model it writes (``bag``, ``quantize``, ``segment``); ``what`` says
    what it does with them."""
    from training.model_arguments import DataThenModels, model_or_data_root

    parser.add_argument(
        "--data",
        nargs="*",
        type=model_or_data_root,
        action=DataThenModels,
        default=[],
        help=f"data roots: {what} on their MUSDB18 validation tracks (default: none, not "
        "measured); model files named after them (told by their suffix) are taken as if named "
        "before --data; given again, its roots are added",
    )
    parser.add_argument(
        "--cache",
        type=given_path,
        default="runs/cache",
        help="folder of the decoded --data tracks, kept for the next run (default: runs/cache)",
    )
    parser.add_argument(
        "--device",
        type=device,
        default="cpu",
        help="where to separate --data: cpu, cuda, cuda:N, mps or auto (default: cpu)",
    )


def given_path(text: str) -> str:
    """A file or folder named on the command line, not empty: "" (an unset shell variable,
    ``--out "$POOL"``) was taken for the current folder, which export, synth and the track cache
    then wrote into, or for the option not given."""
    if not text:
        raise argparse.ArgumentTypeError(
            "an empty path (an unset shell variable?); name a file or folder"
        )
    return text


def input_path(text: str) -> str:
    """A file or folder a command reads (a model, a recipe, a data root), as given: empty (see
    ``given_path``), a name longer than its disk takes (255 bytes of UTF-8, or fewer), or a path
    longer than the system takes, cannot be there, and is refused here, naming the option, not
    by "[Errno 36] File name too long" from the first read."""
    from stemgui.audio.atomic import file_system_limits

    path = Path(given_path(text))
    existing = path.absolute()
    while not os.path.lexists(existing) and existing.parent != existing:  # os.path's: no raise
        existing = existing.parent
    name_max, path_max = file_system_limits(existing if existing.is_dir() else existing.parent)
    for part in (path, *path.parents):
        if (size := len(os.fsencode(part.name))) > name_max and not os.path.lexists(part):
            raise argparse.ArgumentTypeError(
                f"{text}: no such file or folder: the name {part.name!r} is {size} bytes long, "
                f"more than the disk takes ({name_max}); check the path"
            )
    if path_max is not None and (size := len(os.fsencode(text))) > path_max:
        raise argparse.ArgumentTypeError(
            f"{text}: no such file or folder: the path is {size} bytes long, more than the "
            f"system takes ({path_max}); check the path"
        )
    return text


def model_output(text: str) -> str:
    """OUTPUT of ``quantize``, ``segment``, ``bag`` and ``member``, as ``given_path`` takes it:
    a stemgui model file, named with ``.stemgui`` wherever it stands. After ``--data`` only
    that suffix tells it from a data folder, and ``quantize m.th q`` wrote a file ``q``, which
    the app does not list; ``bag --data ROOT b m.th n.th`` took the member ``m.th`` for the bag
    to write. A folder is left to ``output_file``, which says to name a file in it."""
    from stemgui.separation.checkpoint import SUFFIX

    text = given_path(text)
    if Path(text).suffix.lower() != SUFFIX and not os.path.isdir(text):  # os.path's: no raise
        raise argparse.ArgumentTypeError(f"{text}: {stemgui_suffix_rule(text)}")
    return text


def stemgui_suffix_rule(text: str) -> str:
    """What to do with ``text``, given as the model file to write without ``.stemgui``; a
    suffix alone (``.stemgui``, ``runs/.th``: a hidden file of no name) is told to take a name,
    not to be named ``.stemgui.stemgui``."""
    from stemgui.separation.checkpoint import SUFFIX
    from stemgui.separation.spec import MODEL_SUFFIXES

    rule = f"the model file to write is told by its suffix, {SUFFIX}"
    if Path(text).name.lower() in MODEL_SUFFIXES:
        return (
            f"{rule}, after its name; give it a name, like {Path(text).with_name('NAME')}{SUFFIX}"
        )
    named = Path(text).with_suffix(SUFFIX) if is_model_name(text) else Path(text + SUFFIX)
    return f"{rule}; name it {named}"


def data_root(text: str) -> str:
    """A ``--data`` root, as ``input_path`` takes it, that is no file other than a ``.stem.mp4``
    (a model saved without its suffix, one stem): data loading said "is a file, not a track",
    after the models were loaded, and nothing of how a model file is told apart."""
    text = input_path(text)
    if os.path.isfile(text):  # os.path's: never raises
        from training.data import STEM_SUFFIX, TRACK_LAYOUTS

        if not text.endswith(STEM_SUFFIX):
            from stemgui.separation.spec import MODEL_SUFFIXES

            raise argparse.ArgumentTypeError(
                f"{text}: a file; --data takes data folders, each holding tracks or being one "
                f"({TRACK_LAYOUTS}), or {STEM_SUFFIX} files; model files are told by their "
                f"suffix ({', '.join(MODEL_SUFFIXES)}), before --data or after its folders: if "
                f"{text} is one, rename it with its suffix"
            )
    return text


def is_model_name(text: str) -> bool:
    """Whether ``text`` names a model file by its suffix (``.stemgui``, ``.th``, ...)."""
    from stemgui.separation.spec import MODEL_SUFFIXES

    return Path(text).suffix.lower() in MODEL_SUFFIXES


def not_a_model(text: str, option: str) -> str:
    """``text`` given to ``option``, which takes every name after it (``bag --weights``),
    unless it names a model file by its suffix: OUTPUT and the members written after the option
    (``bag --weights 1,1,0,1 OUT.stemgui M.th``) were taken by it, and said as "the following
    arguments are required". ``--data`` keeps such names as the command's own
    (``training.model_arguments``).

    Raises:
        argparse.ArgumentTypeError: saying to name the model files before ``option``.
    """
    if is_model_name(text):
        raise argparse.ArgumentTypeError(
            f"{text}: a model file, given after {option}, which takes every name after it; "
            f"name the model files before {option}"
        )
    return text


def device(text: str) -> str:
    """A device this machine has: cpu, cuda, cuda:N, mps or auto (the best one), as torch names
    it; a GPU that is not there is refused here, not by a traceback from the first tensor."""
    from stemgui.separation.device import resolve_device

    try:
        return str(resolve_device(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def output_file(
    path: str | Path,
    inputs: Iterable[str | Path] = (),
    *,
    model: bool = True,
    overwrite: bool = False,
) -> Path:
    """``path`` checked as the file a command writes, before any work: not a folder, in a
    folder that exists and can be written, not an existing file unless ``overwrite`` (the
    command's ``--overwrite``: another run's best.stemgui was replaced without a word), not one
    of the command's ``inputs`` by any name (``_same_file``: replacing a model with its own
    quantized copy or a bag of it lost the original), and for a model (``model``) not named
    ``name-<8 hex digits>``: the engine reads that ending as the start of the file's sha256 and
    refuses the file as damaged.

    Raises:
        ValueError: naming the file and what to do.
    """
    from stemgui.separation.hashing import hash_prefix_from_name

    path = Path(path)
    short_names(path, str(path))  # first: is_dir raised "[Errno 36] File name too long"
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; name a file in it")
    folder = path.resolve().parent
    if not folder.is_dir():
        existing = folder
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not existing.is_dir():  # afile/x.json: a folder that cannot be created either
            raise ValueError(f"{path}: {existing} is a file, not a folder; name a file in a folder")
        raise ValueError(f"{path}: its folder does not exist; create it or name another")
    for given in inputs:
        if _same_file(path, Path(given)):
            named = "" if str(given) == str(path) else f" ({given})"
            raise ValueError(f"{path}: is also an input of this command{named}; name another file")
    if model and hash_prefix_from_name(path) is not None:
        raise ValueError(
            f"{path}: a model name ending in '-' and 8 hex digits is read as the start of its "
            f"sha256 and refused when loaded; name it otherwise (such as {path.stem}_1"
            f"{path.suffix})"
        )
    if path.exists() and not overwrite:
        raise ValueError(f"{path}: exists; name another file, or add --overwrite to replace it")
    writable_folder(path.resolve().parent, f"{path}: its folder")
    return path


def _same_file(path: Path, other: Path) -> bool:
    """Whether ``path`` and ``other`` name one file: by their resolved paths (``./m.stemgui``,
    a symbolic link), or once both exist by the file itself: a hard link, or ``M.stemgui`` on a
    disk that ignores case (macOS's, Windows'), which resolve() leaves apart."""
    if path.resolve() == other.resolve():
        return True
    try:
        return path.exists() and other.exists() and os.path.samefile(path, other)
    except OSError:  # gone meanwhile, or not to be read: not the same as far as is known
        return False


def writable_folder(folder: str | Path, what: str) -> Path:
    """``folder`` checked as one a command writes in, before any work: a folder, or one it can
    create (its nearest existing parent a folder), that accepts a new file; ``what`` names it in
    the error (``--models-dir x``). A file is tried there and removed (as root, or on a
    read-only file system, permissions do not tell).

    Raises:
        ValueError: ``what`` cannot be written, and why.
    """
    from stemgui.audio.atomic import part_path_for, remove_quietly

    folder = Path(folder)
    short_names(folder, f"{what} {folder}")  # first: exists raised "File name too long"
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        named = "is a file" if existing == folder else f"is under the file {existing}"
        raise ValueError(f"{what} {folder}: {named}, not a folder; name a folder")
    probe = part_path_for(existing / "write-test")
    try:
        with open(probe, "xb"):
            pass
    except OSError as error:
        where = "" if existing == folder else f" (nor its parent {existing}, to create it)"
        raise ValueError(
            f"{what} {folder}: cannot be written{where}: {error.strerror}; name another folder"
        ) from None
    remove_quietly(probe)
    return folder


def short_names(path: Path, what: str) -> None:
    """Refuse a file or folder name in ``path`` that is not there yet and longer than
    ``MAX_NAME_BYTES`` of UTF-8 (the longest name the app writes, which every disk takes), and
    a whole path longer than the system takes, before any work; ``what`` names ``path`` in the
    error.

    Raises:
        ValueError: naming the name or path, its length and the limit.
    """
    from stemgui.audio.atomic import file_system_limits
    from stemgui.export.naming import MAX_NAME_BYTES

    for part in (path, *path.parents):
        size = len(os.fsencode(part.name))
        if size > MAX_NAME_BYTES and not os.path.lexists(part):  # os.path's: never raises
            raise ValueError(
                f"{what}: the name {part.name!r} is {size} bytes long; a file or folder name "
                f"has at most {MAX_NAME_BYTES} (UTF-8), so that every disk takes it; name it "
                "shorter"
            )
    whole = os.path.abspath(path)  # as the commands open it, resolved
    _, path_max = file_system_limits(Path(Path(whole).anchor))  # the system's: its root's
    if path_max is not None and (size := len(os.fsencode(whole))) > path_max:
        raise ValueError(
            f"{what}: the path is {size} bytes long from the root; the system takes at most "
            f"{path_max}; name a shorter one"
        )
