"""Stems kept on disk between runs: the same song, model and settings are separated only once.

A cache entry is a folder ``<root>/<key>/`` (root: ``<user cache>/stemgui/stemcache``) holding

- ``stems.npy``: float32, shape (sources, channels, frames), one array so that a ``StemSet``
  can memory-map it whole (``np.load(mmap_mode="r")``): a long song is never read into RAM;
- ``mix.npy``: float32, shape (channels, frames), the decoded song at the model's rate;
- ``entry.json``: schema, key, names, samplerate, channels, frames, and for people reading the
  folder the source path, model and options it was made from and when.

The key (:meth:`StemCache.key`) is the sha256 of the song's bytes, the model's identity (its
name and the sha256 of its files, so that a retrained model does not reuse old stems; both
worked out by ``stemgui.separation.model_identity``: ``file_digest``, ``model_identity``), the
options that change the stems (segment, overlap, shifts; not the device), this module's schema
and the stemgui version (a new version may decode or separate differently: its stems are made
afresh, the old entries age out).

An entry is written into a hidden sibling folder (``.<key>.<pid>-<random>.stemgui-part``) and
renamed when complete, so a run killed mid-write leaves only a temporary folder, which the next
open removes. Reading checks the schema, names, shapes, dtypes and file sizes; an entry that
fails is logged as a warning, deleted, and reported as a miss. Past ``max_bytes`` the least
recently used entries go first (a hit counts as a use).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stemgui import __version__
from stemgui.audio.atomic import abandoned, fsync_folder, is_part, part_path_for
from stemgui.errors import SeparationCancelled
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

SCHEMA = 1
ENGINE_VERSION = __version__
DEFAULT_MAX_BYTES = 4 << 30
"""4 GiB: about ten 4-minute songs (4 stereo stems + mix at 44.1 kHz: 420 MB each)."""
ENTRY_FILE = "entry.json"
STEMS_FILE = "stems.npy"
MIX_FILE = "mix.npy"
_WRITE_BLOCK = 8 << 20  # bytes written per step of an entry
_DTYPE = np.dtype("<f4")

Cancel = Any
"""Anything with ``is_set()`` (a ``threading.Event``); checked between blocks."""


def default_cache_dir() -> Path:
    """``<user cache>/stemgui/stemcache``."""
    import platformdirs

    return platformdirs.user_cache_path("stemgui", appauthor=False) / "stemcache"


# ----------------------------------------------------------------------------- the cache


@dataclass(frozen=True)
class CachedStems:
    """A cache hit. ``stems``: (sources, channels, frames) and ``mix``: (channels, frames),
    read-only memory maps of the entry's files; ``info``: its ``entry.json``."""

    key: str
    names: tuple[str, ...]
    samplerate: int
    stems: np.ndarray
    mix: np.ndarray | None
    info: Mapping[str, Any]

    @property
    def model_name(self) -> str:
        return str(self.info.get("model", ""))

    def stemset(self) -> StemSet:
        """A complete ``StemSet`` over the memory-mapped arrays (nothing is copied)."""
        return StemSet(self.names, self.samplerate, self.stems, self.mix)


class DamagedEntry(Exception):
    """A cache entry fails its checks (the message says which)."""


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
        self._lock = threading.RLock()
        self._opened = False

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
        """The entry ``key``, memory-mapped, or None. A damaged entry is deleted (warning)."""
        with self._lock:
            try:
                self._open()
            except OSError as error:
                logger.warning("the stem cache %s cannot be used: %s", self.root, error)
                return None
            folder = self.root / key
            if not folder.is_dir():
                return None
            try:
                hit = _read_entry(folder, key)
            except DamagedEntry as damage:
                logger.warning(
                    "the cached stems in %s are damaged (%s); they are deleted and the song "
                    "is separated again",
                    folder,
                    damage,
                )
                self.remove(key)
                return None
            self._touch(folder)
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
            return sum(_folder_bytes(folder) for folder in self._entry_folders())

    # --------------------------------------------------------------- writing

    def put(
        self,
        key: str,
        stemset: StemSet,
        info: Mapping[str, Any] | None = None,
        cancel: Cancel = None,
    ) -> bool:
        """Store the complete ``stemset`` (and its mix) as entry ``key``; True when stored.

        ``info`` (JSON-able: source, model, options...) is kept in ``entry.json``; its
        ``model`` is the display name a hit reports. Never raises for the disk: a failure
        (full, read-only) is a warning and False; ``cancel`` stops it (False), leaving nothing.
        """
        if not stemset.complete or stemset.frames == 0:
            raise ValueError(f"only complete, non-empty stems are cached, got {stemset!r}")
        needed = stemset.data.nbytes + (0 if stemset.mix is None else stemset.mix.nbytes)
        if needed > self.max_bytes:
            logger.info(
                "stems of %d MB are not cached: the cache holds %d MB at most",
                needed >> 20,
                self.max_bytes >> 20,
            )
            return False
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
            return False
        self.evict(keep=key)
        return True

    def _write(self, key: str, stemset: StemSet, info: dict[str, Any], cancel: Cancel) -> None:
        part = part_path_for(self.root / key)
        part.mkdir()
        try:
            _write_npy(part / STEMS_FILE, stemset.data, cancel)
            if stemset.mix is not None:
                _write_npy(part / MIX_FILE, stemset.mix, cancel)
            info.update(
                schema=SCHEMA,
                key=key,
                names=list(stemset.names),
                samplerate=stemset.samplerate,
                channels=stemset.channels,
                frames=stemset.frames,
                mix=stemset.mix is not None,
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            )
            with open(part / ENTRY_FILE, "w", encoding="utf-8") as handle:
                json.dump(info, handle, indent=1, default=str)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.rename(part, self.root / key)
            except OSError:
                if not (self.root / key).is_dir():
                    raise
                logger.debug("entry %s was stored meanwhile by another run", key)
                _remove_tree(part)
                return
            fsync_folder(self.root)
            self._touch(self.root / key)
        except BaseException:
            _remove_tree(part)
            raise

    # --------------------------------------------------------------- housekeeping

    def remove(self, key: str) -> None:
        """Delete entry ``key`` (what cannot be deleted is logged)."""
        with self._lock:
            _remove_tree(self.root / key)

    def clear(self) -> tuple[int, int]:
        """Delete every complete entry; returns (entries, bytes) deleted.

        Does not wait for an entry being written (it is not an entry until complete), so the
        window can call it while the worker stores stems.
        """
        folders = self._entry_folders()
        freed = sum(_folder_bytes(folder) for folder in folders)
        for folder in folders:
            _remove_tree(folder)
        return len(folders), freed

    def evict(self, keep: str | None = None) -> list[str]:
        """Delete least recently used entries until the total fits ``max_bytes``; never
        ``keep``. Returns the keys deleted, oldest first."""
        with self._lock:
            self._open()
            entries = [
                (_last_used(folder), folder.name, _folder_bytes(folder))
                for folder in self._entry_folders()
            ]
            total = sum(size for _, _, size in entries)
            removed = []
            for _, key, size in sorted(entries):
                if total <= self.max_bytes:
                    break
                if key == keep:
                    continue
                self.remove(key)
                logger.info(
                    "evicted cached stems %s (%d MB) to stay under the limit", key, size >> 20
                )
                total -= size
                removed.append(key)
            return removed

    def _open(self) -> None:
        """Create the folder and remove temporary entries of runs that died (first use)."""
        if self._opened:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._opened = True
        for folder in self.root.iterdir():
            if not is_part(folder) or not folder.is_dir():
                continue
            try:
                if not abandoned(folder):
                    continue  # another cache object, or another stemgui, is writing it
            except OSError:
                continue
            logger.info("removing an unfinished stem cache entry: %s", folder)
            _remove_tree(folder)

    def _entry_folders(self) -> list[Path]:
        try:
            return [f for f in self.root.iterdir() if f.is_dir() and not is_part(f)]
        except FileNotFoundError:
            return []

    def _touch(self, folder: Path) -> None:
        """Mark ``folder`` as used now (the eviction order)."""
        now = time.time_ns()
        try:
            os.utime(folder / ENTRY_FILE, ns=(now, now))
        except OSError as error:
            logger.debug("could not mark %s as used: %s", folder, error)


# ----------------------------------------------------------------------------- entry files


def _write_npy(path: Path, array: np.ndarray, cancel: Cancel) -> None:
    """Write ``array`` as a little-endian float32 ``.npy``, in blocks, with plain file writes
    (not a memory map: a full disk must raise OSError, not kill the process). The pages of a
    memory-mapped ``array`` (a long song's) are let go of as they are written."""
    from stemgui.spool import release_pages

    rows = array.reshape(-1, array.shape[-1])  # a view for C-contiguous data and memmaps
    frames = array.shape[-1]
    step = max(1, _WRITE_BLOCK // _DTYPE.itemsize)
    with open(path, "wb") as handle:
        header = {"descr": _DTYPE.str, "fortran_order": False, "shape": tuple(array.shape)}
        np.lib.format.write_array_header_1_0(handle, header)
        for row in rows:
            for start in range(0, frames, step):
                if cancel is not None and cancel.is_set():
                    raise SeparationCancelled("storing the stems was cancelled")
                handle.write(np.ascontiguousarray(row[start : start + step], dtype=_DTYPE))
                release_pages(array, start, start + step, flush=False)
        handle.flush()
        os.fsync(handle.fileno())


def _read_entry(folder: Path, key: str) -> CachedStems:
    """Check and memory-map the entry in ``folder``; raises DamagedEntry."""
    try:
        info = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedEntry(f"{ENTRY_FILE} is not readable: {error}") from error
    if not isinstance(info, dict) or info.get("schema") != SCHEMA:
        raise DamagedEntry(f"{ENTRY_FILE} is not of schema {SCHEMA}")
    if info.get("key") != key:
        raise DamagedEntry(f"{ENTRY_FILE} names the entry {info.get('key')!r}")
    names, samplerate = info.get("names"), info.get("samplerate")
    channels, frames = info.get("channels"), info.get("frames")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) for n in names)
        or len(set(names)) != len(names)
    ):
        raise DamagedEntry(f"bad stem names {names!r}")
    for label, value in (("samplerate", samplerate), ("channels", channels), ("frames", frames)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise DamagedEntry(f"bad {label} {value!r}")
    stems = _map_npy(folder / STEMS_FILE, (len(names), channels, frames))
    mix = _map_npy(folder / MIX_FILE, (channels, frames)) if info.get("mix") else None
    return CachedStems(key, tuple(names), samplerate, stems, mix, info)


def _map_npy(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """``path`` memory-mapped read-only, checked to be float32 of ``shape`` and of exact size."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        size = path.stat().st_size
    except (OSError, ValueError, EOFError) as error:
        raise DamagedEntry(f"{path.name} is not readable: {error}") from error
    if not isinstance(array, np.memmap) or array.dtype != _DTYPE or array.shape != shape:
        raise DamagedEntry(
            f"{path.name} holds {getattr(array, 'dtype', '?')} {getattr(array, 'shape', '?')}, "
            f"expected float32 {shape}"
        )
    if size != array.offset + array.nbytes:
        raise DamagedEntry(f"{path.name} has {size} bytes, expected {array.offset + array.nbytes}")
    return array


def _folder_bytes(folder: Path) -> int:
    total = 0
    for file in folder.iterdir():
        try:
            total += file.stat().st_size
        except OSError:
            continue
    return total


def _last_used(folder: Path) -> int:
    try:
        return (folder / ENTRY_FILE).stat().st_mtime_ns
    except OSError:
        return 0  # no entry.json: damaged, evicted first


def _remove_tree(folder: Path) -> None:
    def report(function: Any, path: str, error: BaseException) -> None:
        logger.warning("could not delete %s: %s", path, error)

    if not folder.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=report)
    else:
        shutil.rmtree(folder, onerror=lambda function, path, info: report(function, path, info[1]))
