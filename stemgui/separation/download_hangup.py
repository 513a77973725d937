"""A download's connection, shut down at once by its cancel token, even when the server is silent.

``Hangup`` watches the cancel token on a thread of its own while a download runs; ``opener``
is urllib's usual opener (proxies from the environment, redirects) whose connections are made
and watched by a ``Hangup``: the connect itself, the TLS handshake and every read end as soon
as the cancel is set, rather than at the connection's timeout.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import urllib.request
from typing import Any

import certifi

from stemgui.errors import CancelToken

logger = logging.getLogger(__name__)

_CANCEL_POLL = 0.05  # seconds between looks at the cancel token while a download runs


def opener(hangup: Hangup) -> urllib.request.OpenerDirector:
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
    """The default client context (the system's certificates and certifi's, host names
    checked), whose sockets ``hangup`` watches before their handshake: a server that accepted
    the connection and then said nothing held the Cancel until the timeout. certifi's roots are
    added because a frozen app's OpenSSL looks for the system's where its build machine kept
    them: on macOS, or another Linux, it found none and no download could start."""

    def __new__(cls, hangup: Hangup) -> _WatchedTLS:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, hangup: Hangup) -> None:  # SSLContext is made whole by __new__
        self.hangup = hangup
        self.load_default_certs()
        self.load_verify_locations(cafile=certifi.where())
        self.set_alpn_protocols(["http/1.1"])

    def wrap_socket(  # type: ignore[override]
        self, sock: socket.socket, *args: Any, do_handshake_on_connect: bool = True, **kwargs: Any
    ) -> ssl.SSLSocket:
        tls = super().wrap_socket(sock, *args, do_handshake_on_connect=False, **kwargs)
        self.hangup.watch(tls)
        if do_handshake_on_connect:
            tls.do_handshake()
        return tls


class Hangup:
    """Shuts a download's connection down as soon as its cancel token is set.

    The cancel used to be seen only between blocks: a server that stopped sending held the
    download (and the Cancel the user clicked) until the connection's timeout, half a minute.
    A socket shut down from this watcher thread ends the read blocked on it at once (it returns
    what came so far, then nothing, or raises); every byte written before is one the server
    sent, so the partial file stays a true prefix of the model and resumes. A connection being
    made (the name looked up, the host not answering) is given up at once (``connect``); a
    TLS handshake is watched like a read (``_WatchedTLS``).
    """

    def __init__(self, cancel: CancelToken | None) -> None:
        self.cancel = cancel
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._hung_up = False
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._wait, name="stemgui-download-cancel", daemon=True
        )

    def __enter__(self) -> Hangup:
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
