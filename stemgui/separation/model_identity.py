"""Which model made these stems: the files a model spec resolves to and their sha256.

``model_files`` finds the files a model spec (a store name, a model file path, or "" for the
store's default) is read from now: a file; a bag ``.yaml`` and its members; a store model's
file or the official files. ``model_identity`` turns them into a string (the model's name and
the sha256 of its files, or a bundled model's manifest sha256) that changes when the model is
retrained or replaced under its name: the stem cache keys on it (``stemgui.stemcache``), and a
restored song's model is checked against its files. ``file_digest`` hashes a file (a song or a
model file), remembered for this process until the file changes.

No torch at import; ``model_files`` and ``model_identity`` import the model store, and torch
with it.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stemgui.errors import CancelToken
from stemgui.separation.hashing import file_sha256

logger = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- file hashes

_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


def file_digest(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> str:
    """sha256 of the file's bytes (64 hex digits), read in 1 MiB blocks.

    Remembered for this process by (path, size, modification time), so that hashing a song
    again costs nothing until the file changes.

    Raises:
        OSError: the file cannot be read.
        SeparationCancelled: ``cancel`` was set (checked between blocks).
    """
    path = Path(os.path.realpath(path))  # not resolve(): RuntimeError on a link loop (< 3.13)
    before = path.stat()
    if not stat.S_ISREG(before.st_mode):  # a named pipe would block here for good
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    memo = (str(path), before.st_size, before.st_mtime_ns, before.st_ino)
    with _digests_lock:
        known = _digests.get(memo)
    if known is not None:
        return known
    result = file_sha256(path, cancel)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
        with _digests_lock:
            _digests[memo] = result
    return result


def forget_digests() -> None:
    """Forget the remembered file hashes (as a new process would)."""
    with _digests_lock:
        _digests.clear()


# ----------------------------------------------------------------------------- model files


@dataclass(frozen=True)
class ModelFiles:
    """The files a model spec resolves to now: ``name`` (a model file's real path, whichever
    link or relative path named it; else the spec, or the store's default name), ``paths`` (a
    file; a bag ``.yaml`` and its members; a store model's file or official files) and, for a
    bundled model, its manifest ``sha256`` (checked on every load: not hashed)."""

    name: str
    paths: tuple[Path, ...]
    sha256: str | None = None


def model_files(spec: str, store: Any = None) -> ModelFiles | None:
    """The files of the model ``spec`` names (what ``stemgui.cli.models.load_model`` takes: a
    store name, a model file path, or "" for the store's default); None when it cannot be resolved
    now (unknown, not downloaded, a bag member missing): loading it will say why. Imports the
    model store, and with it torch. ``store``: a ``ModelStore`` (default: the user's)."""
    from stemgui.errors import ModelLoadError
    from stemgui.separation.official_models import OFFICIAL_MODELS
    from stemgui.separation.spec import names_a_file
    from stemgui.separation.store import ModelStore

    try:
        store = store if store is not None else ModelStore()
        name = spec or store.default_name()
        if name is None:
            return None
        path = Path(name)
        if path.is_file() or names_a_file(path):
            paths = _file_and_members(path) if path.is_file() else None
            # the file, not the path to it: a link to it, or a relative path, is the same model
            # (not resolve(): RuntimeError on a link loop before 3.13)
            return None if paths is None else ModelFiles(os.path.realpath(path), paths)
        return _named_model_files(store, name, OFFICIAL_MODELS)
    except (ModelLoadError, OSError) as error:
        logger.debug("model %r has no files now: %s", spec, error)
        return None


def model_identity(spec: str, cancel: CancelToken | None = None, store: Any = None) -> str | None:
    """What identifies the model ``spec`` names (:func:`model_files`): its name (a model file's
    real path) and the sha256 of its files. A bundled model is identified by its manifest
    sha256; other files are hashed (remembered, see :func:`file_digest`). None when the model
    cannot be resolved now. Imports torch: call it off the GUI thread.

    Raises:
        SeparationCancelled: ``cancel`` was set while hashing.
    """
    files = model_files(spec, store)
    if files is None:
        return None
    try:
        digests = (
            [files.sha256.lower()]
            if files.sha256
            else [file_digest(path, cancel) for path in files.paths]
        )
    except OSError as error:
        logger.debug("model %r has no identity for the stem cache: %s", spec, error)
        return None
    return f"{files.name}|{','.join(digests)}"


def _named_model_files(store: Any, name: str, official: Mapping) -> ModelFiles | None:
    for entry in store.list_models():
        if entry.name != name or entry.origin == "official":
            continue
        if not entry.available or entry.path is None:
            return None
        if entry.sha256:
            return ModelFiles(name, (entry.path,), entry.sha256)
        paths = _file_and_members(entry.path)
        return None if paths is None else ModelFiles(name, paths)
    if name not in official:
        return None
    from stemgui.separation.official import find_signature

    files = [find_signature(store.official_dir, s) for s in official[name].signatures]
    if any(file is None for file in files):
        return None
    return ModelFiles(name, tuple(files))


def _file_and_members(path: Path) -> tuple[Path, ...] | None:
    """The file; for a bag ``.yaml``, also its members found beside it (None: one is missing)."""
    paths = [path]
    if path.suffix.lower() in (".yaml", ".yml"):
        from stemgui.separation.official import find_signature, read_bag_file

        for signature in read_bag_file(path)["models"]:
            member = find_signature(path.parent, signature)
            if member is None:
                return None
            paths.append(member)
    return tuple(paths)
