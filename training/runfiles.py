"""The files of a run folder (``training.fit``): how they are read back, written and locked.

Reading a recipe, the provenance or the lock says in one line what is wrong, naming the file;
a write that fails is said in the system's words (``write_reason``); ``curves.png`` is drawn
without pyplot and written atomically. ``RunFolder`` is the trainer's side of them: it takes
and releases ``fit.lock`` and writes every file under a temporary name, renamed when complete.
"""

from __future__ import annotations

import csv
import errno
import json
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from stemgui.audio.atomic import atomic_path, clean_stale_parts, process_alive
from training import config as config_mod

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)


# errno of a write refused for want of room: a full disk, a quota, a file size limit
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def save_tensors(value: Any, path: Path) -> None:
    """``torch.save`` through a file object: a write that fails then says why (to a path,
    torch's own writer says only "unexpected pos 64 vs 0")."""
    with open(path, "wb") as stream:
        torch.save(value, stream)


def write_errno(error: BaseException) -> int | None:
    """The errno of a failed write, from the error or what it was raised from."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


def write_reason(error: BaseException) -> str:
    """Why a write failed, in a few words: the system's (No space left on device) where the
    error or what it was raised from has them, else the error's first line."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return error_line(error)


def error_line(error: BaseException) -> str:
    """An error's message in one line: the line that says what is wrong, not a heading
    ("Error(s) in loading state_dict for Demucs:" is followed by the mismatch)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def read_recipe(path: Path) -> dict[str, Any]:
    """A run folder's config.toml, as ``fit`` wrote it: whole, ending with ``[seed] value``.

    Raises:
        ValueError: it cannot be read, is not a recipe, or is cut short, naming it.
    """
    try:
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text)
        if not (text.endswith("\n") and "value" in values.get("seed", {})):
            raise ValueError("cut short: it ends before its last setting, [seed] value")
        return config_mod.load(path)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = error_line(error).removeprefix(f"{path}: ")
        raise ValueError(
            f"{path}: the recipe this run ran with cannot be read ({reason}); put it back as "
            "it was, or train into another --run folder"
        ) from None


def read_provenance(path: Path) -> dict[str, Any] | None:
    """A run folder's provenance.json (None when it has none).

    Raises:
        ValueError: it cannot be read or is not a JSON object, naming it.
    """
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(values, dict):
            raise ValueError(f"a JSON {type(values).__name__}, not an object")
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(
            f"{path}: this run's provenance cannot be read ({error_line(error)}); put it back as "
            "it was, or delete it to resume without the record of its earlier sessions"
        ) from None
    return values


_LOCK_SETTLE_SECONDS = 10.0  # a lock younger than this may be being written


def read_lock(path: Path) -> tuple[int, str] | None:
    """(process id, machine) of a ``fit.lock``; None when there is none or it does not say."""
    try:
        pid, host = path.read_text(encoding="utf-8").split()
        return int(pid), host
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def lock_holder(path: Path) -> str | None:
    """Who holds the lock ``path`` ("process 1234 on this machine"), or None when nobody
    does: no lock, or the lock of a process that is gone."""
    held = read_lock(path)
    if held is None:  # none, or one being written this moment (or left empty by a crash)
        try:
            young = time.time() - path.stat().st_mtime < _LOCK_SETTLE_SECONDS
        except OSError:
            return None
        return "a process starting now" if young else None
    pid, host = held
    if host != socket.gethostname():  # its process cannot be looked up from here
        return f"process {pid} on {host}; if that run has stopped, delete the lock"
    if pid == os.getpid() or process_alive(pid):
        return f"process {pid} on this machine"
    return None


def plot_history(history: list[dict[str, Any]], path: Path) -> None:
    """Loss and validation SDR against steps, as a PNG (skipped without matplotlib), written
    atomically: a write that fails leaves the one before."""
    try:
        figure = curves_figure(history)
    except ImportError:
        log.warning("matplotlib is not installed: no curves.png (pip install '.[train]')")
        return
    with atomic_path(path, overwrite=True) as part:
        figure.savefig(part, format="png", dpi=80)


def curves_figure(history: list[dict[str, Any]]) -> Any:
    """Loss on the left, validation SDR per source on the right (the global SDR, then MUSDB's
    when the history has it): a matplotlib ``Figure`` (drawn without pyplot, so no GUI backend
    and nothing to close)."""
    from matplotlib.figure import Figure

    losses = [(e["step"], e["loss"]) for e in history if "loss" in e]
    valid = [e for e in history if "valid_all" in e]
    panels = [("valid_", "validation SDR (dB), global")]
    if any("musdb_all" in e for e in valid):  # histories from before it have none
        panels.append(("musdb_", "validation SDR (dB), MUSDB"))
    figure = Figure(figsize=(5 * (1 + len(panels)), 4))
    left, *rights = figure.subplots(1, 1 + len(panels))
    if losses:  # points marked while they are few: a line through one point draws nothing
        left.plot(*zip(*losses), marker="o" if len(losses) < 50 else None)
    left.set(title="training loss (L1)", xlabel="step", yscale="log")
    for right, (prefix, title) in zip(rights, panels):
        for key in sorted({k for e in valid for k in e if k.startswith(prefix)}):
            points = [(e["step"], e[key]) for e in valid if key in e]  # a score added on resuming
            right.plot(*zip(*points), "o-", label=key[len(prefix) :])
        right.set(title=title, xlabel="step")
        if valid:
            right.legend()
        else:
            right.text(0.5, 0.5, "no validation tracks", ha="center", transform=right.transAxes)
    figure.tight_layout()
    return figure


class RunFolder:
    """The run folder of ``training.fit.Trainer``: its lock (one ``fit`` at a time), its files
    written atomically, and the history written out (json, csv, curves)."""

    run_dir: Path
    history: list[dict[str, Any]]
    saved_step: int | None  # the step of last.pt as on disk (None: none)

    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

    def _write_file(self, path: Path, write: Callable[[Path], Any]) -> None:
        """``write(part)`` to a temporary file beside ``path``, renamed onto it when complete
        (one per process: two runs never share it). A write that fails leaves ``path`` as it
        was, no temporary file, and raises OSError naming ``path`` and what to do."""
        try:
            with atomic_path(path, overwrite=True) as part:
                write(part)
        except (OSError, RuntimeError) as error:  # torch's RuntimeError: a write that failed
            raise self._unwritten(path, error) from error

    def _unwritten(self, path: Path, error: BaseException) -> OSError:
        """The one-line error of a run file that could not be written."""
        code = write_errno(error)
        remedy = "free space on its disk" if code in FULL or code is None else "make it writable"
        if self.saved_step is None:
            then = "the same command starts the run again"
        else:
            then = f"the same command resumes the run from step {self.saved_step} (its last.pt)"
        reason = write_reason(error)
        failure = OSError(f"{path}: could not be written ({reason}); {remedy}, {then}")
        failure.errno = code
        return failure

    @property
    def lock_path(self) -> Path:
        return self.run_dir / "fit.lock"

    def _refuse_if_locked(self) -> None:
        """Refuse a folder another live ``fit`` trains in (ValueError naming it)."""
        holder = lock_holder(self.lock_path)
        if holder is not None:
            raise ValueError(
                f"{self.run_dir}: another fit trains in this folder ({holder}, {self.lock_path}): "
                "let it finish or stop it, or train into another --run folder"
            )

    def _take_lock(self) -> None:
        """Create ``fit.lock`` (exclusively) with this process's id and machine; a lock left by
        a process that is gone is taken over."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        mine = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(2):  # the second after taking over a stale one
            try:
                descriptor = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._refuse_if_locked()
                stale = read_lock(self.lock_path)
                log.warning("%s: taking over the lock of a fit that is gone", self.run_dir)
                if read_lock(self.lock_path) == stale:  # not taken by another meanwhile
                    self.lock_path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(mine)
            # what a run that stopped mid-write left (a part file of a process that is gone)
            clean_stale_parts(self.run_dir)
            return
        self._refuse_if_locked()  # another took it first
        raise ValueError(f"{self.lock_path}: cannot be taken; train into another --run folder")

    def _release_lock(self) -> None:
        if read_lock(self.lock_path) == (os.getpid(), socket.gethostname()):
            self.lock_path.unlink(missing_ok=True)

    def write_history(self) -> None:
        entries = [  # NaN and infinity as null: bare NaN and Infinity are not JSON to others
            {
                k: None if isinstance(v, float) and not math.isfinite(v) else v
                for k, v in entry.items()
            }
            for entry in self.history
        ]
        text = json.dumps(entries, indent=1, allow_nan=False) + "\n"
        self._write_file(
            self.run_dir / "history.json", lambda part: part.write_text(text, encoding="utf-8")
        )
        keys = sorted({k for entry in self.history for k in entry}, key=lambda k: (k != "step", k))

        def write_csv(part: Path) -> None:
            with open(part, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=keys)
                writer.writeheader()
                writer.writerows(self.history)

        self._write_file(self.run_dir / "history.csv", write_csv)
        curves = self.run_dir / "curves.png"
        try:
            plot_history(self.history, curves)
        except OSError as error:
            raise self._unwritten(curves, error) from error
