"""Disks that refuse: a full disk, for the files whose name holds a given string (writes to them
stop half-way), and a folder a new file cannot be made in."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest


class _Full:
    """A file opened for writing on a disk that fills up: the first write puts half of its
    data, then fails as the system does (ENOSPC)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, data: Any) -> int:
        self._handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """From now on (until ``monkeypatch.undo()``), a file opened for writing whose name holds
    ``name`` (the file, or its temporary ``.name.<pid>-<random>.stemgui-part``) fills the disk:
    through ``open``, ``io.open`` and so ``Path.write_text``, as torch, csv and PIL write."""
    real_open = io.open

    def open_on_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        named = isinstance(file, (str, os.PathLike)) and name in Path(file).name
        return _Full(handle) if named and ("w" in mode or "a" in mode) else handle

    monkeypatch.setattr(io, "open", open_on_full_disk)
    monkeypatch.setattr(builtins, "open", open_on_full_disk)


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder a new file cannot be made in: made read-only, or for root (who writes there
    anyway) /sys, where the kernel refuses new files; the test is skipped where neither holds."""
    if getattr(os, "geteuid", lambda: 0)() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    try:
        (Path("/sys") / ".stemgui-probe").open("xb").close()
    except OSError:
        return Path("/sys")
    Path("/sys/.stemgui-probe").unlink()
    pytest.skip("no folder here refuses a new file")
