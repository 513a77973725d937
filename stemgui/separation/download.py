"""Download a model file: progress callback, resume of a partial download, sha256 check, atomic.

The bytes go to ``<dest>.part`` beside the destination. A later call resumes from the end of
that file with an HTTP ``Range`` request (a server that ignores it sends the whole file again,
and we start over). When complete, the sha256 is checked (against the expected value or the
``name-<first 8 hex>.ext`` prefix of the destination name) and the ``.part`` file is renamed
onto the destination, so a destination file is always whole and verified.

Only ``urllib`` from the standard library; proxies from the environment are honoured.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stemgui.errors import ModelLoadError
from stemgui.separation.checkpoint import hash_prefix_from_name, verify_sha256

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"
ProgressCallback = Callable[[int, "int | None"], None]
"""``on_progress(bytes_done, bytes_total)``; ``bytes_total`` is None when the server omits it."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_BLOCK = 1 << 16


class DownloadError(ModelLoadError):
    """A model could not be downloaded; ``path`` is the destination and the message names the
    model and the URL. A partial download is kept (and resumed next time) unless it was bad."""


def part_path(dest: str | Path) -> Path:
    """Where the bytes of ``dest`` accumulate until it is complete."""
    dest = Path(dest)
    return dest.with_name(dest.name + PART_SUFFIX)


def _open(url: str, start: int, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "stemgui"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(request, timeout=timeout)


def _total_size(response: Any, start: int) -> tuple[int, int | None]:
    """(offset the body starts at, full size or None) from a 200 or 206 response."""
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if not match or int(match[1]) != start:
            raise OSError(
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
    cancel: Any = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` if present; return ``dest``.

    Args:
        url: an ``http`` or ``https`` address.
        dest: final path; its name may carry the hash prefix (``955717e8-8726e21a.th``).
        sha256: expected hash (full or prefix of 8+ hex digits); default: the name's prefix.
        name: model name for messages (default: the file name).
        on_progress: called with (bytes done, total bytes or None) after each block.
        cancel: anything with ``is_set()``; checked between blocks. Cancelling keeps the partial
            file for a later resume and raises ``DownloadError``.
        timeout: seconds without data before giving up.

    Raises:
        DownloadError: network failure, HTTP error, cancelled, or a complete file whose sha256
            does not match (that file is deleted and nothing is moved into place).
    """
    dest = Path(dest)
    label = name or dest.name
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"only http(s) downloads are supported, not {url!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _only_download(dest, label):
        if dest.exists():  # here already (another process may just have finished it)
            try:
                verify_sha256(dest, sha256)
                return dest
            except ModelLoadError as exc:
                logger.warning("%s; downloading it again", exc)
                dest.unlink()
        return _fetch(url, dest, label, sha256, on_progress, cancel, timeout)


@contextmanager
def _only_download(dest: Path, label: str) -> Iterator[None]:
    """Hold ``<dest>.lock`` (naming this process) while ``dest`` downloads.

    Two stemgui windows fetching one model appended to the same ``.part`` file: the second
    wrote on after the first had renamed it into place, leaving a damaged file counted as
    downloaded. A lock whose process is gone (killed) is taken over.

    Raises:
        DownloadError: another running process holds it.
    """
    from stemgui.audio.atomic import process_alive

    lock = dest.with_name(dest.name + LOCK_SUFFIX)
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                holder = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                holder = 0
            if holder and holder != os.getpid() and process_alive(holder):
                raise DownloadError(
                    dest,
                    f"model {label} is being downloaded by another stemgui (process {holder}); "
                    "wait for it to finish, then try again",
                ) from None
            logger.info("%s: taking over the lock of a download that stopped", lock)
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(handle, "w") as written:
            written.write(str(os.getpid()))
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
        return
    raise DownloadError(dest, f"model {label}: {lock} cannot be taken; delete it and try again")


def _fetch(
    url: str,
    dest: Path,
    label: str,
    sha256: str | None,
    on_progress: ProgressCallback | None,
    cancel: Any,
    timeout: float,
) -> Path:
    """The download itself (``download_file``'s arguments), under the lock."""
    part = part_path(dest)
    for attempt in range(2):  # a second attempt only after a 416 on a stale partial file
        start = part.stat().st_size if part.exists() else 0
        try:
            with _open(url, start, timeout) as response:
                offset, total = _total_size(response, start)
                mode = "ab" if offset else "wb"
                done = offset
                if start and not offset:
                    logger.info("%s: server ignored the resume request, starting over", url)
                with open(part, mode) as handle:
                    if on_progress:
                        on_progress(done, total)
                    while block := response.read(_BLOCK):
                        handle.write(block)
                        done += len(block)
                        if on_progress:
                            on_progress(done, total)
                        if cancel is not None and cancel.is_set():
                            raise DownloadError(
                                dest,
                                f"download of model {label} from {url} "
                                "was cancelled; it resumes next time",
                            )
                if total is not None and done != total:
                    raise OSError(f"connection closed after {done} of {total} bytes")
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and start and attempt == 0:
                logger.info("%s: stale partial download of %d bytes, starting over", url, start)
                part.unlink()
                continue
            raise DownloadError(
                dest, f"could not download model {label} from {url}: HTTP {exc.code} {exc.reason}"
            ) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            kept = part.exists() and part.stat().st_size > 0  # else there is nothing to resume
            raise DownloadError(
                dest,
                f"could not download model {label} from {url}: {reason}; check the "
                "connection and try again" + (" (the partial download resumes)" if kept else ""),
            ) from exc

    try:
        digest = verify_sha256(part, sha256 or hash_prefix_from_name(dest))
    except ModelLoadError as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(
            dest,
            f"downloaded model {label} from {url} is corrupt ({exc.reason}); it was "
            "deleted: try again",
        ) from exc
    os.replace(part, dest)
    logger.info("downloaded %s (%s, sha256 %s)", dest, label, digest[:8])
    return dest


@contextmanager
def tqdm_progress(description: str) -> Iterator[ProgressCallback]:
    """A progress callback drawing a tqdm bar (for the command line), closed on exit."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit="B", unit_scale=True, unit_divisor=1024)
    try:

        def update(done: int, total: int | None) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        yield update
    finally:
        bar.close()
