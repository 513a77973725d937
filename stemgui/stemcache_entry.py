"""One stem cache entry on disk: its files, written, checked and memory-mapped, its size and age.

An entry is a folder (``stemgui.stemcache`` names it after its key and renames it into place
when complete) holding

- ``stems.npy``: float32, shape (sources, channels, frames), one array so that a ``StemSet``
  can memory-map it whole (``np.load(mmap_mode="r")``): a long song is never read into RAM;
- ``mix.npy``: float32, shape (channels, frames), the decoded song at the model's rate;
- ``entry.json``: schema, key, names, samplerate, channels, frames, the song's own rate and
  frames (``song``, absent in an entry from before it was kept), and for people reading the
  folder the source path, model and options it was made from and when. Its modification time
  says when the entry was last used (the cache evicts the least recently used first). Fields
  added once the entry is complete (the user's correction of the song's tempo) replace it whole
  (``rewrite_info``): a reader finds the old one or the new one.

The arrays are written a block at a time with plain file writes, so that a full disk raises
OSError. Reading checks the schema, names, shapes, dtypes and file sizes, and raises
``DamagedEntry`` saying which check fails.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stemgui.errors import CancelToken, SeparationCancelled
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

SCHEMA = 1
ENTRY_FILE = "entry.json"
STEMS_FILE = "stems.npy"
MIX_FILE = "mix.npy"
_WRITE_BLOCK = 8 << 20  # bytes written per step of an entry
_DTYPE = np.dtype("<f4")


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
    song: tuple[int, int] | None = None

    @property
    def model_name(self) -> str:
        return str(self.info.get("model", ""))

    def stemset(self) -> StemSet:
        """A complete ``StemSet`` over the memory-mapped arrays (nothing is copied)."""
        return StemSet(self.names, self.samplerate, self.stems, self.mix, song=self.song)


class DamagedEntry(Exception):
    """A cache entry fails its checks (the message says which)."""


# ----------------------------------------------------------------------------- writing


def write_entry(
    folder: Path, key: str, stemset: StemSet, info: dict[str, Any], cancel: CancelToken | None
) -> None:
    """Write the complete ``stemset`` (and its mix) as entry ``key`` into the existing, empty
    ``folder``, each file synced to disk; ``info`` (updated here) becomes its ``entry.json``.

    Raises:
        OSError: a file cannot be written (a full disk, a read-only folder).
        SeparationCancelled: ``cancel`` was set, checked between blocks.
    """
    _write_npy(folder / STEMS_FILE, stemset.data, cancel)
    if stemset.mix is not None:
        _write_npy(folder / MIX_FILE, stemset.mix, cancel)
    info.update(
        schema=SCHEMA,
        key=key,
        names=list(stemset.names),
        samplerate=stemset.samplerate,
        channels=stemset.channels,
        frames=stemset.frames,
        mix=stemset.mix is not None,
        song=None if stemset.song is None else list(stemset.song),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    with open(folder / ENTRY_FILE, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=1, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _write_npy(path: Path, array: np.ndarray, cancel: CancelToken | None) -> None:
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


# ----------------------------------------------------------------------------- reading


def read_entry(folder: Path, key: str) -> CachedStems:
    """Check and memory-map the entry in ``folder``; raises DamagedEntry."""
    info = _read_info(folder, key)
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
    song = info.get("song")
    if song is not None and not (
        isinstance(song, list)
        and len(song) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in song)
    ):
        raise DamagedEntry(f"bad song {song!r}")
    stems = _map_npy(folder / STEMS_FILE, (len(names), channels, frames))
    mix = _map_npy(folder / MIX_FILE, (channels, frames)) if info.get("mix") else None
    return CachedStems(
        key, tuple(names), samplerate, stems, mix, info, None if song is None else tuple(song)
    )


def _read_info(folder: Path, key: str) -> dict[str, Any]:
    """The ``entry.json`` of entry ``key`` in ``folder``, of this schema; raises DamagedEntry.
    A new one a run killed while writing it left beside it (``rewrite_info``) is removed first:
    the entry's size counted it, and nothing else would ever delete it."""
    from stemgui.audio.atomic import clean_stale_parts

    clean_stale_parts(folder)
    try:
        info = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DamagedEntry(f"{ENTRY_FILE} is not readable: {error}") from error
    if not isinstance(info, dict) or info.get("schema") != SCHEMA:
        raise DamagedEntry(f"{ENTRY_FILE} is not of schema {SCHEMA}")
    if info.get("key") != key:
        raise DamagedEntry(f"{ENTRY_FILE} names the entry {info.get('key')!r}")
    return info


def rewrite_info(folder: Path, key: str, fields: Mapping[str, Any]) -> bool:
    """Put ``fields`` into the ``entry.json`` of entry ``key`` in ``folder``, written beside
    it, synced and renamed onto it; True when it changed (False: it held them already).

    Raises:
        DamagedEntry: the ``entry.json`` there cannot be read, or is another entry's.
        OSError: it cannot be written (a read-only folder, a full disk); it is as it was.
    """
    from stemgui.audio.atomic import atomic_path

    info = _read_info(folder, key)
    if all(info.get(name) == value for name, value in fields.items()):
        return False
    info.update(fields)
    with atomic_path(folder / ENTRY_FILE, overwrite=True) as part:
        part.write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
    return True


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


# ----------------------------------------------------------------------------- size and age


def folder_bytes(folder: Path) -> int:
    """Bytes of the files in ``folder`` (one that cannot be read counts nothing, and so does
    a folder gone: another run sharing the cache evicted it)."""
    try:
        files = list(folder.iterdir())
    except OSError:
        return 0
    total = 0
    for file in files:
        try:
            total += file.stat().st_size
        except OSError:
            continue
    return total


def mark_used(folder: Path) -> None:
    """Mark the entry in ``folder`` as used now (the eviction order)."""
    now = time.time_ns()
    try:
        os.utime(folder / ENTRY_FILE, ns=(now, now))
    except OSError as error:
        logger.debug("could not mark %s as used: %s", folder, error)


def last_used(folder: Path) -> int:
    """When the entry in ``folder`` was last used, in ns since the epoch (0: no entry.json)."""
    try:
        return (folder / ENTRY_FILE).stat().st_mtime_ns
    except OSError:
        return 0  # no entry.json: damaged, evicted first
