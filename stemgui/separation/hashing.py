"""The sha256 of model files: computed, carried in a file's name, and checked.

A model file may carry the first 8 hex digits of its sha256 in its name
(``name-<prefix>.ext``, the convention of the Demucs model repository). ``verify_sha256``
checks a file against an expected value (argument or manifest) or, failing that, against the
prefix in its name; every failure is a ``ModelLoadError`` that names the file and says what to
do. Our checkpoints (``checkpoint``), official Demucs files (``official``) and downloads
(``download``) are all checked here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from stemgui.audio.files import NOT_REGULAR_FILE
from stemgui.errors import CancelToken, ModelLoadError, SeparationCancelled
from stemgui.separation.spec import HASHED_STEM

HASH_PREFIX_LENGTH = 8


def file_sha256(path: str | Path, cancel: CancelToken | None = None) -> str:
    """The sha256 of a file's bytes as 64 lower-case hex digits (read in 1 MiB blocks).

    Raises:
        OSError: the file cannot be read.
        SeparationCancelled: ``cancel`` (anything with ``is_set()``) was set, checked between
            blocks.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            if cancel is not None and cancel.is_set():
                raise SeparationCancelled(f"{Path(path).name}: cancelled")
            digest.update(block)
    return digest.hexdigest()


def hash_prefix_from_name(path: str | Path) -> str | None:
    """The 8 hex digits of ``name-<prefix>.ext``, or None when the name carries no hash."""
    match = HASHED_STEM.match(Path(path).stem)
    return match["prefix"] if match else None


def hashed_name(path: str | Path, sha256: str) -> Path:
    """``folder/name.ext`` -> ``folder/name-<first 8 hex of sha256>.ext``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{sha256[:HASH_PREFIX_LENGTH]}{path.suffix}")


def is_sha256_prefix(text: str) -> bool:
    """Whether ``text`` can be checked against a file: a sha256 or a prefix of it, at least 8 hex
    digits (either case, spaces around ignored)."""
    text = text.strip().lower()
    return len(text) >= HASH_PREFIX_LENGTH and re.fullmatch(r"[0-9a-f]+", text) is not None


def verify_sha256(path: str | Path, expected: str | None = None) -> str:
    """Check ``path`` against ``expected`` (full hex or a prefix of at least 8 digits), else
    against the prefix in its name; return the actual sha256.

    Raises:
        ModelLoadError: the file is missing, unreadable, or its hash does not match.
    """
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            what = "is a folder; name a model file in it"
        elif path.exists():  # a named pipe, a device: reading it may wait for ever
            what = f"is {NOT_REGULAR_FILE}; name a model file"
        else:
            what = "model file not found; download or export it again"
        raise ModelLoadError(path, what)
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ModelLoadError(
            path,
            f"model file could not be read ({exc.strerror or exc}); check that you may read it, "
            "or download it again",
        ) from exc
    source = "expected"
    if expected is None:
        expected = hash_prefix_from_name(path)
        source = "its name says"
    if expected is None:
        return actual
    if not is_sha256_prefix(expected):
        raise ValueError(f"expected sha256 must be at least 8 hex digits, got {expected!r}")
    expected = expected.strip().lower()
    if not actual.startswith(expected):
        renamed = (  # "mine-20241203.stemgui": a date read as a checksum
            f"; or, if you named it so, rename it without '-{expected}' (a name ending in '-' "
            "and 8 hex digits carries the file's sha256)"
            if source == "its name says"
            else ""
        )
        raise ModelLoadError(
            path,
            f"sha256 is {actual[: len(expected)]} but {source} {expected}: the file is damaged "
            f"or was changed; download it again (or export it again if you made it){renamed}",
        )
    return actual
