"""Download a model file: progress callback, resume of a partial download, sha256 check, atomic.

The bytes go to ``<dest>.part`` beside the destination. A later call resumes from the end of
that file with an HTTP ``Range`` request (a server that ignores it sends the whole file again,
and we start over). A partial file the server cannot go on from (416, another range), or whose
resumed whole fails the check (another version of the file, or damaged), is dropped and the
file downloaded once more from the start. When complete, the sha256 is checked (against the
expected value or the ``name-<first 8 hex>.ext`` prefix of the destination name) and the
``.part`` file is renamed onto the destination, so a destination file is always whole and
verified.

Only ``urllib`` from the standard library; proxies from the environment are honoured.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stemgui.errors import ModelLoadError
from stemgui.separation.hashing import hash_prefix_from_name, verify_sha256

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"
ProgressCallback = Callable[[int, "int | None"], None]
"""``on_progress(bytes_done, bytes_total)``; ``bytes_total`` is None when the server omits it."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_BLOCK = 1 << 14  # progress is said every 16 KiB
_CANCEL_POLL = 0.05  # seconds between looks at the cancel token while a download runs


class DownloadError(ModelLoadError):
    """A model could not be downloaded; ``path`` is the destination and the message names the
    model and the URL. A partial download is kept (and resumed next time) unless it was bad."""


def part_path(dest: str | Path) -> Path:
    """Where the bytes of ``dest`` accumulate until it is complete."""
    dest = Path(dest)
    return dest.with_name(dest.name + PART_SUFFIX)


def _open(url: str, start: int, timeout: float, hangup: _Hangup) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "stemgui"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return _opener(hangup).open(request, timeout=timeout)


def _opener(hangup: _Hangup) -> urllib.request.OpenerDirector:
    """urllib's usual opener (proxies from the environment, redirects), whose connections are
    made by ``hangup.connect`` and handed to ``hangup.watch``: the plain socket once connected,
    a TLS one before its handshake (through a redirect too)."""

    class Watched:
        def do_open(self, http_class: Any, request: Any, **kwargs: Any) -> Any:
            class Connection(http_class):
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    super().__init__(*args, **kwargs)
                    self._create_connection = hangup.connect

            return super().do_open(Connection, request, **kwargs)  # type: ignore[misc]

    class HTTPHandler(Watched, urllib.request.HTTPHandler):
        pass

    class HTTPSHandler(Watched, urllib.request.HTTPSHandler):
        pass

    return urllib.request.build_opener(HTTPHandler(), HTTPSHandler(context=_WatchedTLS(hangup)))


class _WatchedTLS(ssl.SSLContext):
    """The default client context (the system's certificates, host names checked), whose
    sockets ``hangup`` watches before their handshake: a server that accepted the connection
    and then said nothing held the Cancel until the timeout."""

    def __new__(cls, hangup: _Hangup) -> _WatchedTLS:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, hangup: _Hangup) -> None:  # SSLContext is made whole by __new__
        self.hangup = hangup
        self.load_default_certs()
        self.set_alpn_protocols(["http/1.1"])

    def wrap_socket(  # type: ignore[override]
        self, sock: socket.socket, *args: Any, do_handshake_on_connect: bool = True, **kwargs: Any
    ) -> ssl.SSLSocket:
        tls = super().wrap_socket(sock, *args, do_handshake_on_connect=False, **kwargs)
        self.hangup.watch(tls)
        if do_handshake_on_connect:
            tls.do_handshake()
        return tls


class _Hangup:
    """Shuts a download's connection down as soon as its cancel token is set.

    The cancel used to be seen only between blocks: a server that stopped sending held the
    download (and the Cancel the user clicked) until the connection's timeout, half a minute.
    A socket shut down from this watcher thread ends the read blocked on it at once (it returns
    what came so far, then nothing, or raises); every byte written before is one the server
    sent, so the partial file stays a true prefix of the model and resumes. A connection being
    made (the name looked up, the host not answering) is given up at once (``connect``); a
    TLS handshake is watched like a read (``_WatchedTLS``).
    """

    def __init__(self, cancel: Any) -> None:
        self.cancel = cancel
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._hung_up = False
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._wait, name="stemgui-download-cancel", daemon=True
        )

    def __enter__(self) -> _Hangup:
        if self.cancel is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def connect(
        self,
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: Any = None,
    ) -> socket.socket:
        """``socket.create_connection`` on a thread of its own, given up when the cancel comes
        (a host that does not answer held the Cancel until the timeout); the socket watched."""
        if self.cancel is None:
            return socket.create_connection(address, timeout, source_address)
        outcome: list[Any] = []  # the socket, or what was raised
        given_up = threading.Event()

        def run() -> None:
            try:
                result: Any = socket.create_connection(address, timeout, source_address)
            except Exception as exc:
                result = exc
            with self._lock:
                outcome.append(result)
                if given_up.is_set() and isinstance(result, socket.socket):
                    result.close()  # nobody waits for it any more

        thread = threading.Thread(target=run, name="stemgui-download-connect", daemon=True)
        thread.start()
        while True:
            thread.join(_CANCEL_POLL)
            with self._lock:
                if outcome:
                    break
                if self.cancel.is_set():
                    given_up.set()
                    raise ConnectionAbortedError("cancelled while connecting")
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        self.watch(outcome[0])
        return outcome[0]

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the cancel comes (at once if it came already)."""
        with self._lock:
            self._sockets.append(sock)
            if self._hung_up:
                _shut_down(sock)

    def _wait(self) -> None:
        while not self._done.wait(_CANCEL_POLL):
            if self.cancel.is_set():
                with self._lock:
                    self._hung_up = True
                    for sock in self._sockets:
                        _shut_down(sock)
                return


def _shut_down(sock: socket.socket) -> None:
    # socket.socket's own method: an SSLSocket's would also drop its TLS state, which the
    # reading thread is using; the shut-down file descriptor ends that read all the same.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError as exc:  # closed already (the download ended meanwhile): nothing to stop
        logger.debug("no connection to shut down: %r", exc)


class _OtherRange(OSError):
    """A partial answer that does not go on from the partial file's end."""


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
        cancel: anything with ``is_set()``; looked at every 50 ms, and a set one shuts the
            connection down, so that a stalled server does not hold the cancel (see
            ``_Hangup``). Cancelling keeps the partial file for a later resume and raises
            ``DownloadError``.
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
        raise _not_saved(dest, label, exc) from exc
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
    """Hold an operating-system lock on ``<dest>.lock`` while ``dest`` downloads.

    Two stemgui windows fetching one model appended to the same ``.part`` file: the second
    wrote on after the first had renamed it into place, leaving a damaged file counted as
    downloaded. The system drops the lock when its holder ends, killed or not, so a lock is
    never stale; another thread of this process is refused too. The lock file stays (empty).

    Raises:
        DownloadError: another download of ``dest`` holds it, or the lock cannot be written.
    """
    try:
        handle = open(dest.with_name(dest.name + LOCK_SUFFIX), "a+b")  # noqa: SIM115
    except OSError as exc:  # a read-only folder
        raise _not_saved(dest, label, exc) from exc
    with handle:
        try:
            _lock(handle)
        except OSError:
            raise DownloadError(
                dest,
                f"{dest.name}, a file of model {label}, is being downloaded already (for "
                "another model that shares it, or by another stemgui window or command); wait "
                "for it to finish, then try again",
            ) from None
        try:
            yield
        finally:
            _unlock(handle)


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # OSError when held

    def _unlock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError when held

    def _unlock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
    expected = sha256 or hash_prefix_from_name(dest)
    for attempt in range(2):  # a second attempt, whole, only when the partial file was stale
        start = part.stat().st_size if part.exists() else 0
        again = start > 0 and attempt == 0
        try:
            with _Hangup(cancel) as hangup:
                resumed = _receive(url, dest, label, start, on_progress, cancel, timeout, hangup)
        except urllib.error.HTTPError as exc:
            exc.close()  # its connection: the answer's body is not read
            _stop_if_cancelled(dest, label, cancel)
            if exc.code == 416 and again:
                logger.info("%s: stale partial download of %d bytes, starting over", url, start)
                part.unlink()
                continue
            logger.warning("download of %s from %s failed: HTTP %s", label, url, exc)
            host = urllib.parse.urlsplit(url).hostname or url
            answer = (  # a redirect loop's reason is three lines of urllib's
                f"sent the download round in circles (HTTP {exc.code} redirects)"
                if 300 <= exc.code < 400 and "infinite loop" in str(exc.reason)
                else f"answered HTTP {exc.code} {exc.reason}"
            )
            raise DownloadError(
                dest, f"could not download model {label}: {host} {answer}; try again later"
            ) from exc
        except _OtherRange as exc:
            if not again:
                raise _lost(dest, label, url, exc) from exc
            # kept, the partial file would meet the same answer at every later try
            logger.info("%s: %s, starting over", url, exc)
            part.unlink()
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            _stop_if_cancelled(dest, label, cancel)  # the cancel shut the connection down
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
        os.replace(part, dest)
        logger.info("downloaded %s (%s, sha256 %s)", dest, label, digest[:8])
        return dest
    raise AssertionError("unreachable: the second attempt returns or raises")


def _lost(dest: Path, label: str, url: str, error: BaseException) -> DownloadError:
    """A download that stopped on the network's side; the partial file is kept."""
    logger.warning("download of %s from %s failed: %r", label, url, error)  # the details
    part = part_path(dest)
    kept = part.exists() and part.stat().st_size > 0  # else there is nothing to resume
    return DownloadError(
        dest,
        f"could not download model {label}: {_unreachable(error, url)}; check the "
        "connection and try again" + (" (the partial download resumes)" if kept else ""),
    )


def _receive(
    url: str,
    dest: Path,
    label: str,
    start: int,
    on_progress: ProgressCallback | None,
    cancel: Any,
    timeout: float,
    hangup: _Hangup,
) -> bool:
    """Append the body of one request to ``dest``'s partial file (from ``start``); return
    whether the server resumed there (else it sent the whole file, written over it)."""
    part = part_path(dest)
    _stop_if_cancelled(dest, label, cancel)
    with _open(url, start, timeout, hangup) as response:
        offset, total = _total_size(response, start)
        mode = "ab" if offset else "wb"
        done = offset
        if start and not offset:
            logger.info("%s: server ignored the resume request, starting over", url)
        try:
            handle = open(part, mode)  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise _not_saved(dest, label, exc) from exc
        with handle:
            if on_progress:
                on_progress(done, total)
            while block := response.read(_BLOCK):
                try:
                    handle.write(block)
                    handle.flush()  # a full disk says so here, not as a network error
                except OSError as exc:
                    raise _not_saved(dest, label, exc) from exc
                done += len(block)
                if on_progress:
                    on_progress(done, total)
                _stop_if_cancelled(dest, label, cancel)
        _stop_if_cancelled(dest, label, cancel)  # the cancel ended the body early
        if total is not None and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")
    return offset > 0


def _stop_if_cancelled(dest: Path, label: str, cancel: Any) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadError(dest, f"download of model {label} was cancelled; it resumes next time")


def _not_saved(dest: Path, label: str, error: OSError) -> DownloadError:
    """A model that could not be written to the disk, said as such (it was the network's
    fault in the message before: "check the connection")."""
    return DownloadError(
        dest,
        f"could not save model {label} there: {error.strerror or error}; free some space on "
        "that disk, or make the folder writable, and try again",
    )


def _unreachable(error: BaseException, url: str) -> str:
    """Why a download did not get through, in words ("[Errno -2] Name or service not known"
    meant nothing to a musician)."""
    host = urllib.parse.urlsplit(url).hostname or url
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, socket.gaierror):
        return f"{host} cannot be found (no internet connection?)"
    if isinstance(reason, TimeoutError):  # socket.timeout too
        return f"{host} did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, ConnectionError | http.client.IncompleteRead):  # chunks cut short
        return f"the connection to {host} was lost"
    return f"{reason} ({host})"


@contextmanager
def tqdm_progress(description: str) -> Iterator[ProgressCallback]:
    """A progress callback drawing a tqdm bar (for the command line), closed on exit."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit="B", unit_scale=True, unit_divisor=1024, disable=None)
    try:

        def update(done: int, total: int | None) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        yield update
    finally:
        bar.close()
