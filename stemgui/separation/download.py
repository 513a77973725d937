"""Download a model file: progress callback, resume of a partial download, sha256 check, atomic.

The bytes go to ``<dest>.part`` beside the destination. A later call resumes from the end of
that file with an HTTP ``Range`` request (a server that ignores it sends the whole file again,
and we start over). A partial file as long as the whole (the server's 416 says so, or gives no
size) is checked as if just downloaded. A partial file the server cannot go on from (416,
another range), or whose resumed whole fails the check (another version of the file, or
damaged), is dropped and the file downloaded once more from the start. When complete, the
sha256 is checked (against the expected value or the ``name-<first 8 hex>.ext`` prefix of the
destination name) and the ``.part`` file is renamed onto the destination, so a destination file
is always whole and verified.

Beside it: ``download_lock`` (one download of a file at a time), ``download_hangup`` (a cancel
that shuts the connection down at once) and ``download_errors`` (``DownloadError`` and its words).
Only ``urllib`` from the standard library; proxies from the environment are honoured.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stemgui.errors import CancelToken, ModelLoadError
from stemgui.separation.download_errors import (
    DownloadError,
    not_saved,
    refused,
    stop_if_cancelled,
    unreachable,
)
from stemgui.separation.download_hangup import Hangup, opener
from stemgui.separation.download_lock import only_download
from stemgui.separation.hashing import HASH_PREFIX_LENGTH, hash_prefix_from_name, verify_sha256

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
ProgressCallback = Callable[[int, "int | None"], None]
"""``on_progress(bytes_done, bytes_total)``; ``bytes_total`` is None when the server omits it."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes \*/(\d+)")  # a 416's: the file's whole size
_BLOCK = 1 << 14  # progress is said every 16 KiB


def part_path(dest: str | Path) -> Path:
    """Where the bytes of ``dest`` accumulate until it is complete."""
    dest = Path(dest)
    return dest.with_name(dest.name + PART_SUFFIX)


def drop_partials(folder: Path, stale: Callable[[str], bool], label: str) -> list[Path]:
    """Remove the partial downloads in ``folder`` of the files whose name ``stale`` accepts
    (a version of a model's file no longer published), except one another download is writing
    (it holds that file's ``download_lock``) or one that cannot be removed: said in the log.
    The lock file beside a partial removed goes too. ``label``: the model, for the log.
    Return the partial files removed."""
    removed = []
    for part in sorted(folder.glob(f"*{PART_SUFFIX}")):
        dest = part.with_name(part.name.removesuffix(PART_SUFFIX))
        if not stale(dest.name):
            continue
        try:
            with only_download(dest, label, drop=True):
                part.unlink(missing_ok=True)
        except (DownloadError, OSError) as error:  # being written; a folder not writable
            logger.info("the partial download %s stays: %s", part, error)
            continue
        logger.info("removed %s, the partial download of a version no longer published", part)
        removed.append(part)
    return removed


def _open(url: str, start: int, timeout: float, hangup: Hangup) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "stemgui"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return opener(hangup).open(request, timeout=timeout)


class _OtherRange(OSError):
    """A partial answer that does not go on from the partial file's end."""


def _may_be_whole(answer: urllib.error.HTTPError, start: int, expected: str | None) -> bool:
    """Whether the partial file a 416 answered may be the whole file: its ``Content-Range:
    bytes */<size>`` says the file is ``start`` bytes long or, where it gives no size, a hash
    can tell."""
    match = _UNSATISFIED_RANGE.fullmatch((answer.headers.get("Content-Range") or "").strip())
    return int(match[1]) == start if match else expected is not None


def _total_size(response: Any, start: int) -> tuple[int, int | None]:
    """(offset the body starts at, full size or None) from a 200 or 206 response."""
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if not match or int(match[1]) != start:
            raise _OtherRange(
                f"server sent an unexpected range {response.headers.get('Content-Range')}"
            )
        return start, None if match[3] == "*" else int(match[3])
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def download_file(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` if present; return ``dest``.

    Args:
        url: an ``http`` or ``https`` address.
        dest: final path; its name may carry the hash prefix (``955717e8-8726e21a.th``).
        sha256: expected hash (full or prefix of 8+ hex digits); default: the name's prefix.
        name: model name for messages (default: the file name).
        on_progress: called with (bytes done, total bytes or None) after each block.
        cancel: anything with ``is_set()``; looked at every 50 ms, and a set one shuts the
            connection down, so that a stalled server does not hold the cancel (see
            ``download_hangup.Hangup``). Cancelling keeps the partial file for a later resume
            and raises ``DownloadError``.
        timeout: seconds without data before giving up.

    Raises:
        DownloadError: network failure, HTTP error, cancelled, or a complete file whose sha256
            does not match (that file is deleted and nothing is moved into place).
    """
    dest = Path(dest)
    label = name or dest.name
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"only http(s) downloads are supported, not {url!r}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_saved(dest, label, exc) from exc
    with only_download(dest, label):
        if dest.exists():  # here already (another process may just have finished it)
            try:
                verify_sha256(dest, sha256)
                return dest
            except ModelLoadError as exc:
                logger.warning("%s; downloading it again", exc)
                try:
                    dest.unlink()
                except OSError as error:  # a folder in its place, a folder not writable
                    raise not_saved(dest, label, error) from error
        return _fetch(url, dest, label, sha256, on_progress, cancel, timeout)


def _fetch(
    url: str,
    dest: Path,
    label: str,
    sha256: str | None,
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
    timeout: float,
) -> Path:
    """The download itself (``download_file``'s arguments), under the lock."""
    part = part_path(dest)
    expected = sha256 or hash_prefix_from_name(dest)
    for attempt in range(2):  # a second attempt, whole, only when the partial file was stale
        start = part.stat().st_size if part.exists() else 0
        again = start > 0 and attempt == 0
        try:
            with Hangup(cancel) as hangup:
                resumed = _receive(url, dest, label, start, on_progress, cancel, timeout, hangup)
        except urllib.error.HTTPError as exc:
            exc.close()  # its connection: the answer's body is not read
            stop_if_cancelled(dest, label, cancel)
            if exc.code == 416 and again and _may_be_whole(exc, start, expected):
                # all there? The download stopped before its check (a process killed then):
                # checked below as any, and downloaded whole again if it fails
                logger.info("%s: the partial download of %d bytes may be whole", url, start)
                resumed = True
                if on_progress:
                    on_progress(start, start)
            elif exc.code == 416 and again:
                logger.info("%s: stale partial download of %d bytes, starting over", url, start)
                part.unlink()
                continue
            else:
                logger.warning("download of %s from %s failed: HTTP %s", label, url, exc)
                raise DownloadError(
                    dest, f"could not download model {label}: {refused(exc, url, dest)}"
                ) from exc
        except _OtherRange as exc:
            if not again:
                raise _lost(dest, label, url, exc) from exc
            # kept, the partial file would meet the same answer at every later try
            logger.info("%s: %s, starting over", url, exc)
            part.unlink()
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            stop_if_cancelled(dest, label, cancel)  # the cancel shut the connection down
            raise _lost(dest, label, url, exc) from exc

        try:
            digest = verify_sha256(part, expected)
        except ModelLoadError as exc:
            part.unlink(missing_ok=True)
            logger.warning("model %s from %s failed its check: %s", label, url, exc.reason)
            if resumed and again:  # the part was of another version of the file, or damaged
                logger.info("%s: downloading it whole again", url)
                continue
            raise DownloadError(
                dest,
                f"downloaded model {label} is damaged (its checksum does not match: a broken "
                "connection, or a page of the network's instead of the file); it was deleted: "
                "try again",
            ) from exc
        try:
            os.replace(part, dest)
        except OSError as exc:  # a folder in its place; on Windows, a file held open
            raise not_saved(dest, label, exc) from exc
        logger.info("downloaded %s (%s, sha256 %s)", dest, label, digest[:HASH_PREFIX_LENGTH])
        return dest
    raise AssertionError("unreachable: the second attempt returns or raises")


def _lost(dest: Path, label: str, url: str, error: BaseException) -> DownloadError:
    """A download that stopped on the network's side; the partial file is kept."""
    logger.warning("download of %s from %s failed: %r", label, url, error)  # the details
    part = part_path(dest)
    kept = part.exists() and part.stat().st_size > 0  # else there is nothing to resume
    return DownloadError(
        dest,
        f"could not download model {label}: {unreachable(error, url)}; check the "
        "connection and try again" + (" (the partial download resumes)" if kept else ""),
    )


def _receive(
    url: str,
    dest: Path,
    label: str,
    start: int,
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
    timeout: float,
    hangup: Hangup,
) -> bool:
    """Append the body of one request to ``dest``'s partial file (from ``start``); return
    whether the server resumed there (else it sent the whole file, written over it)."""
    part = part_path(dest)
    stop_if_cancelled(dest, label, cancel)
    with _open(url, start, timeout, hangup) as response:
        offset, total = _total_size(response, start)
        mode = "ab" if offset else "wb"
        done = offset
        if start and not offset:
            logger.info("%s: server ignored the resume request, starting over", url)
        try:
            handle = open(part, mode)  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise not_saved(dest, label, exc) from exc
        try:
            if on_progress:
                on_progress(done, total)
            while block := response.read(_BLOCK):
                try:
                    handle.write(block)
                    handle.flush()  # a full disk says so here, not as a network error
                except OSError as exc:
                    raise not_saved(dest, label, exc) from exc
                done += len(block)
                if on_progress:
                    on_progress(done, total)
                stop_if_cancelled(dest, label, cancel)
        finally:
            try:
                handle.close()
            except OSError as exc:  # the bytes a full disk left in its buffer, written again
                raise not_saved(dest, label, exc) from exc
        stop_if_cancelled(dest, label, cancel)  # the cancel ended the body early
        if total is not None and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")
    return offset > 0
