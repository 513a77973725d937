"""Domain exceptions raised at the engine boundary.

Every message says what happened, to which file, and what the user can do about it. The UI and
the CLI show ``str(error)`` on one line (``one_line``); details (tracebacks) go to the log.
Both word an error nothing foresaw (``unexpected``) and memory running out (``out_of_memory``)
alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class StemguiError(Exception):
    """Base class of every error the engine reports to a user."""


class FileError(StemguiError):
    """An error about one file: ``path`` names it and the message starts with it."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DecodeError(FileError):
    """A song could not be read: missing, empty, truncated, no audio stream, unsupported codec."""


class NotAudioError(DecodeError):
    """The file is not audio at all (text, an image, a folder): reading it again cannot help;
    only another file can."""


class EncodeError(FileError):
    """A stem could not be written: bad format options, disk full, folder not writable."""


class ExportError(FileError):
    """An export request could not be carried out (existing file, bad template, write failure)."""


class ModelLoadError(FileError):
    """A model file is missing, tampered with (sha256), malformed, or of an unknown architecture."""


class ModelRunError(StemguiError):
    """A model loaded, but its network fails inside its forward (arguments whose layers do not
    line up): every song would fail the same, so another model is needed, not another song."""


class Cancelled(StemguiError):
    """The user stopped the work; raised from where it checks its cancel token. Not a failure:
    writers let it through as it is rather than reporting it as a write error."""


class SeparationCancelled(Cancelled):
    """Raised by ``Separator.separate`` when its cancel token is set; nothing is half-written."""


class ExportCancelled(Cancelled):
    """Raised by ``stemgui.export.export`` when its cancel token is set, between two blocks:
    none of that export's files is left (nor a temporary one), and the files it was to replace
    stay as they were."""


class CancelToken(Protocol):
    """What stops long work between two steps (blocks, chunks, layers): anything with
    ``is_set()``, such as ``threading.Event``; once set, the work raises its ``Cancelled``."""

    def is_set(self) -> bool: ...


def capitalised(text: str) -> str:
    """``text`` starting with a capital, as a sentence shown alone does: a reason (``FileError``)
    goes on from a path and a colon, in small letters."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """``text`` ending as a sentence does: a full stop added unless it has one (or ! or ?)."""
    return text if text.endswith((".", "!", "?")) else f"{text}."


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (engine, torch and YAML messages may span several)."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or type(error).__name__


def unexpected(what: object, error: BaseException, details: str) -> str:
    """What the app and the command line say of an ``error`` nothing foresaw (a bug, not the
    song nor the disk) about ``what`` (a song, a file; None: about nothing in particular): that
    the fault is stemgui's, then ``details``, where its traceback is (a sentence: "Details are
    in the log file …"); the caller logs that traceback. The error's type is named before its
    message where the message does not start with it ("KeyError: 'x'", not "'x'")."""
    said = f"{what}: unexpected error" if what is not None else "Unexpected error"
    text, name = one_line(error), type(error).__name__
    if text != name and not text.startswith(f"{name}:"):
        text = f"{name}: {text}"
    return f"{said} ({text}), a fault in stemgui. {details}"


def out_of_memory(what: object, doing: str, ways: str = "Close other programs") -> str:
    """What the app and the command line say when the memory ran out (``MemoryError``, numpy's
    among them) while ``doing`` ("separate this song") for ``what`` (a song): not a fault of
    stemgui's, and the ``ways`` to make room before trying again."""
    return f"{what}: not enough memory to {doing}. {ways}, then retry."
