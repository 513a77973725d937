"""Stems kept on disk between runs: the same song, model and settings are separated only once.

A cache entry is a folder ``<root>/<key>/`` (root: ``<user cache>/stemgui/stemcache``) holding
the stems, the mix and an ``entry.json`` (its files, how they are written, checked and
memory-mapped: ``stemgui.stemcache_entry``).

The key (:meth:`StemCache.key`) is the sha256 of the song's bytes, the model's identity (its
name and the sha256 of its files, so that a retrained model does not reuse old stems; both
worked out by ``stemgui.separation.model_identity``: ``file_digest``, ``model_identity``), the
options that change the stems (segment, overlap, shifts; not the device), the entries' schema
and the stemgui version (a new version may decode or separate differently: its stems are made
afresh, the old entries age out).

An entry is written into a hidden sibling folder (``.<key>.<pid>-<random>.stemgui-part``) and
renamed when complete, so a run killed mid-write leaves only a temporary folder, which the next
open removes (its writer holds a lock file in it: ``stemgui.run_folders``). Reading checks the
schema, names, shapes, dtypes and file sizes; an entry that fails is logged as a warning,
deleted, and reported as a miss. Past ``max_bytes`` the least recently used entries go first (a
hit counts as a use). An entry evicted or cleared goes whole or stays whole (on Windows, stems
open: memory-mapped by a song of the queue; ``stemgui.stemcache_delete``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stemgui import __version__
from stemgui.audio.atomic import abandoned, fsync_folder, is_part, part_path_for
from stemgui.errors import CancelToken, SeparationCancelled
from stemgui.folders import remove_tree
from stemgui.run_folders import LOCK_NAME, lock_held, owner_lock
from stemgui.sizes import GB, in_words
from stemgui.stemcache_delete import delete_all, delete_set_aside, set_aside_oldest
from stemgui.stemcache_entry import (
    SCHEMA,
    CachedStems,
    DamagedEntry,
    folder_bytes,
    last_used,
    mark_used,
    read_entry,
    rewrite_info,
    write_entry,
)
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

ENGINE_VERSION = __version__
DEFAULT_MAX_BYTES = 4 * GB
"""4 GB: about ten 4-minute songs (4 stereo stems + mix at 44.1 kHz: 420 MB each)."""


def is_key(name: object) -> bool:
    """Whether ``name`` is an entry's name as ``StemCache.key`` makes it: 64 hex digits. One
    from elsewhere (a session's, read back from the settings file) that is not must never reach
    the disk: "..", "" or a folder's path would be that folder, deleted as a damaged entry."""
    return isinstance(name, str) and re.fullmatch("[0-9a-f]{64}", name) is not None


def default_cache_dir() -> Path:
    """``<user cache>/stemgui/stemcache``."""
    import platformdirs

    return platformdirs.user_cache_path("stemgui", appauthor=False) / "stemcache"


_FOLDER_LOCKS: dict[str, threading.RLock] = {}
_FOLDER_LOCKS_GUARD = threading.Lock()


def _folder_lock(root: Path) -> threading.RLock:
    """The lock of the cache folder ``root``, one per folder in this process: every
    ``StemCache`` of it takes turns through it (the window makes its own while keeping stems is
    off, and a store on the worker's went on in the middle of a clear on the window's). Known
    by its absolute path: asking the disk for the folder it leads to is not free."""
    name = os.path.normcase(os.path.abspath(root))
    with _FOLDER_LOCKS_GUARD:
        return _FOLDER_LOCKS.setdefault(name, threading.RLock())


class StemCache:
    """Separated stems on disk, by key, with a size limit.

    Args:
        root: the cache folder (created on first use); default ``default_cache_dir()``.
        max_bytes: the total size kept; least recently used entries are evicted past it, and
            an entry larger than this is not stored.

    Nothing touches the disk before the first call (so constructing it on the GUI thread is
    free); the first call creates the folder and removes temporary entries of dead runs.
    """

    def __init__(
        self, root: str | os.PathLike[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)
        self._lock = _folder_lock(self.root)
        self._opened = False
        self.problem: str | None = None  # see ``put``
        self.evicted: list[str] = []  # see ``put``

    @staticmethod
    def key(song_sha256: str, model_id: str, options: Mapping[str, Any]) -> str:
        """The entry name for a song (its sha256), a model identity and the stem options
        (JSON-able values: segment, overlap, shifts...). 64 hex digits."""
        document = {
            "schema": SCHEMA,
            "stemgui": ENGINE_VERSION,
            "song": song_sha256,
            "model": model_id,
            "options": dict(sorted(options.items())),
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # --------------------------------------------------------------- reading

    def get(self, key: str) -> CachedStems | None:
        """The entry ``key``, memory-mapped, or None. A damaged entry is deleted (warning);
        a ``key`` that is no entry's name (``is_key``) is a miss."""
        if not is_key(key):
            logger.warning("%r is not a stem cache entry's name: not looked for", key)
            return None
        with self._lock:
            try:
                self._open()
            except OSError as error:
                logger.warning("the stem cache %s cannot be used: %s", self.root, error)
                return None
            folder = self.root / key
            if not os.path.lexists(folder):  # a file or a link there is a damaged entry
                return None
            try:
                hit = read_entry(folder, key)
            except DamagedEntry as damage:
                logger.warning(
                    "the cached stems in %s are damaged (%s); they are deleted and the song "
                    "is separated again",
                    folder,
                    damage,
                )
                self.remove(key)
                return None
            mark_used(folder)
            return hit

    def keys(self) -> list[str]:
        """The entries stored (complete ones; damaged ones are found by ``get``)."""
        with self._lock:
            self._open()
            return [folder.name for folder in self._entry_folders()]

    def size(self) -> int:
        """Bytes used by the entries."""
        with self._lock:
            self._open()
            return self.usage()[1]

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) stored now; creates nothing (none yet: (0, 0)). OSError when the
        folder cannot be read."""
        sizes = self.sizes()
        return len(sizes), sum(sizes.values())

    def sizes(self) -> dict[str, int]:
        """The bytes of each entry stored now, by key; creates nothing (none yet: {}). OSError
        when the folder cannot be read."""
        with self._lock:
            return {folder.name: folder_bytes(folder) for folder in self._entry_folders()}

    # --------------------------------------------------------------- writing

    def put(
        self,
        key: str,
        stemset: StemSet,
        info: Mapping[str, Any] | None = None,
        cancel: CancelToken | None = None,
        keep: Callable[[], str | None] | None = None,
    ) -> bool:
        """Store the complete ``stemset`` (and its mix) as entry ``key``; True when stored.
        Making room for it (``evict``) never deletes the entry ``keep()`` gives (the song on
        screen), asked then, once the stems are written (seconds for a long song, while
        another song may be shown); ``evicted`` then holds the keys it deleted, oldest first
        ([] after any other put).

        ``info`` (JSON-able: source, model, options...) is kept in ``entry.json``; its
        ``model`` is the display name a hit reports. Never raises for the disk: a failure
        (full, read-only) is a warning and False, and so are stems larger than ``max_bytes``;
        either way ``problem`` then says why in words, with what to do (None after a put that
        stored). ``cancel`` stops it (False), leaving nothing.
        """
        if not stemset.complete or stemset.frames == 0:
            raise ValueError(f"only complete, non-empty stems are cached, got {stemset!r}")
        self.evicted = []
        needed = stemset.data.nbytes + (0 if stemset.mix is None else stemset.mix.nbytes)
        if needed > self.max_bytes:
            logger.info(
                "stems of %s are not cached: the cache holds %s at most",
                in_words(needed),
                in_words(self.max_bytes),
            )
            self.problem = (
                f"Stems larger than the stem cache's size limit ({in_words(self.max_bytes)}) "
                "cannot be kept, so such songs are separated again at every start; raise the "
                "limit (File ▸ Stem cache size…)."
            )
            return False
        self.problem = None
        try:
            with self._lock:
                self._open()
                if self.get(key) is not None:
                    return True  # stored before (get marked it as used)
            # Written without the lock, into a folder of its own renamed into place whole: a
            # `get` on the GUI thread (a song parked) waited for the whole write, seconds for
            # a long song's gigabytes.
            self._write(key, stemset, dict(info or {}), cancel)
        except SeparationCancelled:
            logger.info("storing the stems in the cache was cancelled")
            return False
        except OSError as error:
            logger.warning("the stems could not be cached in %s: %s", self.root, error)
            self.problem = self._said(error)
            return False
        self.evicted = self.evict(key, None if keep is None else keep())
        return True

    def _said(self, error: OSError) -> str:
        """Why stems could not be kept (``error``), in words, with what to do."""
        lost = "separated songs are not kept, and are separated again at every start"
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return (
                f"The disk of the stem cache ({self.root}) is full: {lost}; free space on it, "
                "or lower the stem cache's size limit (File ▸ Stem cache size…)."
            )
        off = "or turn off File ▸ Keep separated stems between sessions"
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return (
                f"The stem cache folder {self.root} cannot be written: {lost}; make it "
                f"writable, {off}."
            )
        return (
            f"The stem cache folder {self.root} cannot be used ({error.strerror or error}): "
            f"{lost}; make it a folder you can write to, {off}."
        )

    def _write(
        self, key: str, stemset: StemSet, info: dict[str, Any], cancel: CancelToken | None
    ) -> None:
        part = part_path_for(self.root / key)
        part.mkdir(parents=True)  # the cache folder too, deleted since it was opened (a cleaner)
        owner = owner_lock(part)  # tells it from a dead run's whose process id is taken since
        try:
            write_entry(part, key, stemset, info, cancel)
            if owner is not None:  # no lock file in an entry; meanwhile told by process id
                owner.release()
                (part / LOCK_NAME).unlink()
            with self._lock:  # not in the middle of a clear or an eviction
                try:
                    os.rename(part, self.root / key)
                except OSError:
                    if not (self.root / key).is_dir():
                        raise
                    logger.debug("entry %s was stored meanwhile by another run", key)
                    remove_tree(part)
                    return
                fsync_folder(self.root)
                mark_used(self.root / key)
        except BaseException:
            if owner is not None:
                owner.release()  # else on Windows its lock file could not be deleted
            remove_tree(part)
            raise

    def update_info(self, key: str, fields: Mapping[str, Any]) -> bool:
        """Put ``fields`` (JSON-able) into entry ``key``'s ``entry.json``, which keeps them
        with its stems from now on (the user's correction of its song's tempo) and counts as
        a use; True when the entry holds them now. False when there is no such entry (evicted,
        cleared; a ``key`` that is no entry's name) or its ``entry.json`` is damaged (``get``
        finds that). Raises OSError when it cannot be written; the entry is then as it was."""
        if not is_key(key):
            return False
        with self._lock:
            self._open()
            folder = self.root / key
            if not folder.is_dir():
                return False
            try:
                rewrite_info(folder, key, fields)
            except DamagedEntry as damage:
                logger.warning("the cached stems in %s are damaged (%s)", folder, damage)
                return False
            mark_used(folder)
            return True

    # --------------------------------------------------------------- housekeeping

    def remove(self, key: str) -> None:
        """Delete entry ``key`` (what cannot be deleted is logged); nothing for a ``key`` that
        is no entry's name (``is_key``)."""
        if not is_key(key):
            return
        with self._lock:
            remove_tree(self.root / key)

    def clear(self) -> tuple[int, int, int]:
        """Delete every complete entry; returns the entries deleted, the bytes freed and the
        entries that could not be deleted (a read-only folder: logged). OSError when the folder
        cannot be listed.

        Does not wait for an entry being written (it is not an entry until complete), so the
        window can call it while the worker stores stems. The lock is held to set the entries
        aside (``stemcache_delete.delete_all``), not while they are deleted: a store meanwhile
        finds none of them (never a hit that the clear then deletes) and its entry is kept.
        """
        return delete_all(self._entry_folders, self._lock)

    def evict(self, *keep: str | None) -> list[str]:
        """Delete least recently used entries until the total fits ``max_bytes``; never those
        in ``keep`` (the entry just stored, the song on screen; a None is no entry). An entry
        that cannot be deleted (a read-only folder; on Windows, a file open) stays, counted as
        what is left of it, and the next one goes. Returns the keys deleted, oldest first.

        The lock is held to pick entries and set them aside (renamed: no entries any more),
        not while they are deleted (seconds for a long song's stems): a correction of a song's
        tempo written on the GUI thread meanwhile (``update_info``) does not wait for that."""
        removed: list[str] = []
        stays = set(keep)
        left = 0  # bytes of entries partly deleted: no entries, still on the disk
        while True:
            with self._lock:
                self._open()
                folders = self._entry_folders()
                entries = [(last_used(f), f.name, folder_bytes(f)) for f in folders]
                aside = set_aside_oldest(self.root, entries, self.max_bytes - left, stays, removed)
            if not aside:
                return removed
            for key, folder, size in aside:
                rest = delete_set_aside(folder, self.root / key, size, self._lock)
                if rest is None:  # nothing went: whole again, and the next one goes
                    stays.add(key)
                    continue
                went = in_words(size - rest)
                logger.info("evicted cached stems %s (%s) to stay under the limit", key, went)
                removed.append(key)
                left += rest

    def _open(self) -> None:
        """Create the folder and remove temporary entries of runs that died (first use), being
        written or set aside to be deleted (``stemcache_delete``): their process runs no more,
        or does not hold their lock file (``run_folders``: its id is another process's now);
        one without a lock file (an older version's, or a file system that takes no locks) is
        told by its process id alone."""
        if self._opened:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._opened = True
        for folder in self.root.iterdir():
            if not is_part(folder) or not folder.is_dir():
                continue
            try:
                if not abandoned(folder) and lock_held(folder):
                    continue  # another cache object, or another stemgui, writes or deletes it
            except OSError:
                continue
            logger.info("removing an unfinished stem cache entry: %s", folder)
            remove_tree(folder)

    def _entry_folders(self) -> list[Path]:
        try:
            return [f for f in self.root.iterdir() if f.is_dir() and not is_part(f)]
        except (FileNotFoundError, NotADirectoryError):  # none yet; a file in its place
            return []
