"""Loopback HTTP servers that the model-download tests download from (127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.loopback import serving


class QuietHandler(BaseHTTPRequestHandler):
    """Logs no request, and takes a client that hangs up mid-answer (a download cancelled, or
    refused mid-way) quietly: socketserver printed its BrokenPipeError traceback into the run."""

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # BrokenPipeError, ConnectionResetError
            super().handle()

    def log_message(self, *args) -> None:
        pass


class FileServer:
    """Serves ``data`` at ``/model``; honours ``Range: bytes=N-`` unless told otherwise.

    ``cut_first``: the first response announces the full length but sends only this many bytes.
    ``stall_after``: each response sends this many bytes of its body (None: all of them; -1:
    not even the headers), then nothing until ``release`` is set.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.cut_first: int | None = None
        self.ignore_range = False
        self.status: int | None = None
        self.ranges: list[str | None] = []
        self.paths: list[str] = []
        self.stall_after: int | None = None
        self.range_from_zero = False
        self.release = threading.Event()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                requested = self.headers.get("Range")
                server.ranges.append(requested)
                server.paths.append(self.path)
                if server.stall_after == -1:
                    server.release.wait(10)
                    return
                if server.status:
                    self.send_error(server.status)
                    return
                body, start = server.data, 0
                if requested and not server.ignore_range:
                    start = int(requested.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                    if server.range_from_zero:  # a 206 of the whole file, whatever was asked
                        start = 0
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                payload = body[start:]
                if server.cut_first is not None:
                    payload, server.cut_first = payload[: server.cut_first], None
                if server.stall_after is not None:
                    self.wfile.write(payload[: server.stall_after])
                    self.wfile.flush()
                    server.release.wait(10)
                    return
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/model"


@contextlib.contextmanager
def answering(do_get):
    """A loopback server whose GET handler is ``do_get(handler)``: its URL."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            do_get(self)

    with serving(Handler) as root:
        yield root + "model"
