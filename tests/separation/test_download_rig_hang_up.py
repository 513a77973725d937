"""The download tests' loopback servers (``tests.separation.download_rig``) take a client that
hangs up mid-answer (a download cancelled, or refused mid-way) quietly: they printed a
BrokenPipeError traceback into the test run, noise that looked like a failure."""

from __future__ import annotations

import http.server
import socket
import threading

from tests.separation.download_rig import FileServer, answering

_BIG = 64 << 20  # more than the sockets' buffers hold: the server is still writing


def _ends(monkeypatch) -> threading.Event:
    """Set as a loopback server has ended a request (handled, or its error printed)."""
    ended = threading.Event()
    real = http.server.ThreadingHTTPServer.shutdown_request

    def shutdown_request(httpd, request) -> None:
        real(httpd, request)
        ended.set()

    monkeypatch.setattr(http.server.ThreadingHTTPServer, "shutdown_request", shutdown_request)
    return ended


def _hang_up_mid_answer(url: str, ended: threading.Event) -> None:
    """GET ``url``, read the first bytes of the answer and hang up; wait until the server
    has ended that request (``ended``)."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(b"GET /model HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(100).startswith(b"HTTP/1.")
    assert ended.wait(timeout=10)


def test_a_client_that_hangs_up_on_the_file_server_prints_no_traceback(capfd, monkeypatch):
    ended = _ends(monkeypatch)
    served = FileServer(bytes(_BIG))
    served.thread.start()
    try:
        _hang_up_mid_answer(served.url, ended)
    finally:
        served.httpd.shutdown()
        served.httpd.server_close()
        served.thread.join(timeout=5)
    assert capfd.readouterr().err == ""


def test_a_client_that_hangs_up_on_an_answering_server_prints_no_traceback(capfd, monkeypatch):
    ended = _ends(monkeypatch)

    def do_get(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(_BIG))
        handler.end_headers()
        handler.wfile.write(bytes(_BIG))

    with answering(do_get) as url:
        _hang_up_mid_answer(url, ended)
    assert capfd.readouterr().err == ""
