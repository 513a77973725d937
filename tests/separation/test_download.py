"""Model downloads against a local HTTP server (127.0.0.1 only): full, resumed, corrupt, failing."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import itertools
import socket
import ssl
import threading
import time
import urllib.request
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import pytest

from stemgui.errors import ModelLoadError
from stemgui.separation.checkpoint import load_model, save_model
from stemgui.separation.download import download_file, part_path
from stemgui.separation.download_errors import DownloadError
from stemgui.separation.download_hangup import Hangup, opener
from tests.loopback import serving
from tests.separation.model_files_helpers import TinyNet, make_tiny, tiny_registered


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

        class Handler(BaseHTTPRequestHandler):
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

            def log_message(self, *args) -> None:
                pass

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

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            do_get(self)

        def log_message(self, *args) -> None:
            pass

    with serving(Handler) as root:
        yield root + "model"


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    for variable in (
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with tiny_registered():
        yield


@pytest.fixture
def checkpoint_bytes(tmp_path_factory) -> tuple[bytes, str]:
    """A checkpoint made here (a TinyNet big enough for several 64 KiB blocks) and its sha256."""
    path = tmp_path_factory.mktemp("made") / "tiny.stemgui"
    many = [f"s{i}" for i in range(16384)]
    digest = save_model(make_tiny(seed=2, sources=many), path)  # 64 Ki weights
    data = path.read_bytes()
    assert len(data) > 3 * (1 << 16)
    return data, digest


@pytest.fixture
def server(checkpoint_bytes):
    served = FileServer(checkpoint_bytes[0])
    served.thread.start()
    yield served
    served.release.set()  # before the server stops: it waits for its handlers
    served.httpd.shutdown()
    served.httpd.server_close()
    served.thread.join(timeout=5)


def test_full_download_with_progress(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    dest = tmp_path / "models" / f"tiny-{digest[:8]}.stemgui"
    seen = []
    assert download_file(server.url, dest, on_progress=lambda d, t: seen.append((d, t))) == dest
    assert dest.read_bytes() == data
    assert not part_path(dest).exists()
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
    assert server.ranges == [None]
    assert isinstance(load_model(dest), TinyNet)


def test_resume_after_a_dropped_connection(tmp_path, server, checkpoint_bytes, caplog):
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    server.cut_first = 100_000
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="tiny")
    reason = info.value.reason
    assert reason.startswith("could not download model tiny: connection closed after 100000 of")
    assert reason.endswith("try again (the partial download resumes)")
    assert server.url in caplog.text  # where from: in the log
    assert not dest.exists()
    assert part_path(dest).read_bytes() == data[:100_000]

    seen = []
    download_file(server.url, dest, on_progress=lambda d, t: seen.append((d, t)))
    assert server.ranges == [None, "bytes=100000-"]
    assert seen[0] == (100_000, len(data))
    assert dest.read_bytes() == data
    assert not part_path(dest).exists()


def test_server_ignoring_range_starts_over(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(data[:5000])
    server.ignore_range = True
    download_file(server.url, dest, sha256=digest)
    assert server.ranges == ["bytes=5000-"]
    assert dest.read_bytes() == data


def test_stale_partial_file_longer_than_the_model(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(b"x" * (len(data) + 10))
    download_file(server.url, dest)
    assert server.ranges == [f"bytes={len(data) + 10}-", None]
    assert dest.read_bytes() == data


def test_a_partial_file_that_is_whole_already_is_not_downloaded_again(
    tmp_path, server, checkpoint_bytes
):
    """A download stopped after its last byte, before its check and move (a process killed
    then): the server answered the resume with 416, and the whole file was deleted and
    downloaded again. It is checked and moved into place; one of the same length that fails
    the check is downloaded again whole."""
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(data)
    seen = []
    assert download_file(server.url, dest, on_progress=lambda d, t: seen.append((d, t))) == dest
    assert server.ranges == [f"bytes={len(data)}-"]  # no second request
    assert dest.read_bytes() == data and not part_path(dest).exists()
    assert seen == [(len(data), len(data))]

    other = tmp_path / f"other-{digest[:8]}.stemgui"
    part_path(other).write_bytes(b"x" * len(data))
    assert download_file(server.url, other).read_bytes() == data
    assert server.ranges[1:] == [f"bytes={len(data)}-", None]
    assert not part_path(other).exists()


def test_a_whole_partial_file_is_checked_where_the_416_gives_no_size(tmp_path, checkpoint_bytes):
    data, digest = checkpoint_bytes
    asked = []

    def no_size(handler):
        asked.append(handler.headers.get("Range"))
        handler.send_response(416 if asked[-1] else 200)
        handler.send_header("Content-Length", "0" if asked[-1] else str(len(data)))
        handler.end_headers()
        if not asked[-1]:
            handler.wfile.write(data)

    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    with answering(no_size) as url:
        part_path(dest).write_bytes(data)
        assert download_file(url, dest).read_bytes() == data
        assert asked == [f"bytes={len(data)}-"]
        part_path(dest).write_bytes(b"x" * len(data))  # the same length, not the file
        dest.unlink()
        assert download_file(url, dest).read_bytes() == data
        assert asked[1:] == [f"bytes={len(data)}-", None]


def test_a_stale_partial_file_is_downloaded_again_whole(tmp_path, server, checkpoint_bytes):
    """The partial file was of another version of the file (changed on the server since), or
    damaged: the resumed download failed its check and was deleted, and the user had to start
    the whole download again by hand. It is started again once, by itself."""
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(b"an older version of the file" * 100)
    assert download_file(server.url, dest).read_bytes() == data
    assert server.ranges == ["bytes=2800-", None]
    assert not part_path(dest).exists()

    other = tmp_path / "tiny-0badc0de.stemgui"  # the server's file is not the one expected
    part_path(other).write_bytes(data[:5000])
    with pytest.raises(DownloadError, match="is damaged"):
        download_file(server.url, other, name="tiny")
    assert server.ranges[2:] == ["bytes=5000-", None]  # once again whole, not more
    assert not other.exists() and not part_path(other).exists()


def test_a_resume_answered_with_another_range_starts_over(tmp_path, server, checkpoint_bytes):
    """A 206 whose range did not start at the partial file's end failed, "check the
    connection", and the partial file was kept: every later try failed the same way."""
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(data[:5000])
    server.range_from_zero = True
    assert download_file(server.url, dest).read_bytes() == data
    assert server.ranges == ["bytes=5000-", None]


def test_corrupt_download_refused_and_not_moved_into_place(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x01
    server.data = bytes(tampered)
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    with pytest.raises(DownloadError, match="downloaded model tiny is damaged") as info:
        download_file(server.url, dest, name="tiny")
    assert isinstance(info.value, ModelLoadError)
    assert not dest.exists()
    assert not part_path(dest).exists()

    plain = tmp_path / "tiny.stemgui"  # no prefix in the name: the argument is checked
    with pytest.raises(DownloadError, match="is damaged"):
        download_file(server.url, plain, sha256=digest)
    assert not plain.exists()


def test_http_error_and_unreachable_server(tmp_path, server, checkpoint_bytes):
    _, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    server.status = 503
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="htdemucs")
    assert info.value.reason == (
        "could not download model htdemucs: 127.0.0.1 answered HTTP 503 Service Unavailable; "
        "try again later"
    )
    assert not dest.exists()

    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model"
    with pytest.raises(DownloadError) as info:
        download_file(url, dest, name="htdemucs", timeout=5)
    assert info.value.reason == (
        "could not download model htdemucs: 127.0.0.1 refused the connection; check the "
        "connection and try again"
    )


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (
            404,
            "HTTP 404 Not Found: the file is no longer at that address (the model may have "
            "been withdrawn); look for a newer stemgui, or get {name} by hand and put it in "
            "{folder}",
        ),
        (
            410,
            "HTTP 410 Gone: the file is no longer at that address (the model may have "
            "been withdrawn); look for a newer stemgui, or get {name} by hand and put it in "
            "{folder}",
        ),
        (
            403,
            "HTTP 403 Forbidden: access to the file was refused, by the server or by a filter "
            "on this network; try from another network, or get {url} there and put it in "
            "{folder}",
        ),
        (
            401,
            "HTTP 401 Unauthorized: the server asks for a login, which the official models do "
            "not need, so a sign-in page or a filter on this network is in the way; sign in to "
            "the network in a web browser, or try from another network",
        ),
        (429, "HTTP 429 Too Many Requests; try again later"),
    ],
)
def test_a_file_gone_or_blocked_is_not_said_to_come_back_later(
    tmp_path, server, checkpoint_bytes, status, answer
):
    """A file that has moved (404), is blocked (403) or behind a login (401, which the official
    models never need) was answered "try again later", where trying again meets the same answer:
    what fits each is said, and where a file got by hand goes (the store finds it there under
    its name)."""
    _, digest = checkpoint_bytes
    dest = tmp_path / "official" / f"tiny-{digest[:8]}.stemgui"
    server.status = status
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="htdemucs")
    expected = answer.format(name=dest.name, folder=dest.parent, url=server.url)
    assert info.value.reason == f"could not download model htdemucs: 127.0.0.1 answered {expected}"


def test_a_file_gone_after_a_redirect_names_the_host_that_answered(tmp_path):
    """A 404 from the host a redirect led to named the host first asked, which had answered
    only with the redirect."""

    def moved(handler):
        if handler.path == "/model":
            port = handler.server.server_address[1]
            handler.send_response(302)
            handler.send_header("Location", f"http://localhost:{port}/elsewhere")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            handler.send_error(404)

    dest = tmp_path / "x.th"
    with answering(moved) as url, pytest.raises(DownloadError) as info:
        download_file(url, dest, name="htdemucs")
    assert info.value.reason.startswith(
        "could not download model htdemucs: localhost answered HTTP 404 Not Found: the file is "
        "no longer at that address"
    )


def test_a_redirect_to_an_address_not_of_the_web_is_said_so(tmp_path):
    """A redirect to file:// (or another scheme urllib does not follow) was said as
    "file:///etc/passwd answered HTTP 302 Found - Redirection to url ... is not allowed; try
    again later": no such host answered, and trying again meets the same redirect."""

    def elsewhere(handler):
        handler.send_response(302)
        handler.send_header("Location", "file:///etc/passwd")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    dest = tmp_path / "official" / "x.th"
    with answering(elsewhere) as url, pytest.raises(DownloadError) as info:
        download_file(url, dest, name="htdemucs")
    assert info.value.reason == (
        f"could not download model htdemucs: the download of {url} was sent on (HTTP 302) to "
        "file:///etc/passwd, which is not a web address; look for a newer stemgui, or get x.th "
        f"by hand and put it in {dest.parent}"
    )


def test_a_redirect_loop_is_said_in_one_line(tmp_path):
    """urllib's "redirect error that would lead to an infinite loop.\nThe last 30x error
    message was:\nFound" went into the message as is, three lines in the dialog."""

    def loop(handler):
        handler.send_response(302)
        handler.send_header("Location", handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with answering(loop) as url, pytest.raises(DownloadError) as info:
        download_file(url, tmp_path / "x.th", name="htdemucs")
    assert info.value.reason == (
        "could not download model htdemucs: 127.0.0.1 sent the download round in circles "
        "(HTTP 302 redirects); try again later"
    )


def test_a_chunked_body_cut_short_is_a_lost_connection(tmp_path, checkpoint_bytes):
    """A body sent in chunks (no length) cut mid-chunk said "IncompleteRead(848 bytes read)"."""
    data, digest = checkpoint_bytes

    def cut(handler):
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"%x\r\n%s\r\n" % (50_000, data[:50_000]))
        handler.wfile.write(b"%x\r\n%s" % (50_000, data[50_000:60_000]))  # and no more
        handler.close_connection = True

    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    with answering(cut) as url, pytest.raises(DownloadError) as info:
        download_file(url, dest, name="tiny")
    assert info.value.reason == (
        "could not download model tiny: the connection to 127.0.0.1 was lost; check the "
        "connection and try again (the partial download resumes)"
    )
    assert data.startswith(part_path(dest).read_bytes())  # a true prefix, resumed next time


def test_a_download_without_internet_says_so_in_words(tmp_path, monkeypatch):
    """The name lookup fails (no network): not "[Errno -2] Name or service not known"."""

    def offline(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(DownloadError) as info:
        download_file("https://models.example/x.th", tmp_path / "x.th", name="htdemucs")
    assert info.value.reason == (
        "could not download model htdemucs: models.example cannot be found (no internet "
        "connection?); check the connection and try again"
    )


@pytest.mark.parametrize(
    ("code", "strerror"),
    [(errno.ENETUNREACH, "Network is unreachable"), (errno.EHOSTUNREACH, "No route to host")],
)
def test_a_host_out_of_reach_is_said_in_words(tmp_path, monkeypatch, code, strerror):
    """No route to the host (the name known, from a cache or the hosts file, but the Wi-Fi off):
    "[Errno 101] Network is unreachable (models.example)"."""

    def no_route(*args, **kwargs):
        raise OSError(code, strerror)

    monkeypatch.setattr(socket, "create_connection", no_route)
    with pytest.raises(DownloadError) as info:
        download_file("https://models.example/x.th", tmp_path / "x.th", name="htdemucs")
    assert info.value.reason == (
        "could not download model htdemucs: models.example cannot be reached (no internet "
        "connection?); check the connection and try again"
    )


def test_a_proxy_that_refuses_is_named(tmp_path, monkeypatch):
    """A proxy set and not running (a VPN's, left in https_proxy): "models.example refused the
    connection" sent the user to the model's server, which was never reached."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("https_proxy", f"http://user:secret@127.0.0.1:{port}")
    with pytest.raises(DownloadError) as info:
        download_file("https://models.example/x.th", tmp_path / "x.th", name="tiny")
    assert info.value.reason == (
        f"could not download model tiny: the proxy 127.0.0.1:{port} refused the connection; "
        "check the connection and try again"
    )


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (
            407,
            "the proxy {proxy} asks for a user name and password (HTTP 407): set https_proxy "
            "to http://USER:PASSWORD@{proxy}",
        ),
        (
            403,
            "the proxy {proxy} did not let the download through to models.example (HTTP 403 "
            "Forbidden)",
        ),
    ],
)
def test_a_proxy_that_will_not_open_the_way_says_why(tmp_path, monkeypatch, status, said):
    """A proxy that wants a password (an office's) said http.client's 'Tunnel connection
    failed: 407 Proxy Authentication Required (the proxy …)'."""

    class Proxy(BaseHTTPRequestHandler):
        def do_CONNECT(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with serving(Proxy) as root:
        proxy = root.removeprefix("http://").rstrip("/")
        monkeypatch.setenv("https_proxy", root)
        with pytest.raises(DownloadError) as info:
            download_file("https://models.example/x.th", tmp_path / "x.th", name="tiny")
    assert info.value.reason == (
        f"could not download model tiny: {said.format(proxy=proxy)}; check the connection and "
        "try again"
    )


def test_a_plain_http_proxy_that_wants_a_password_says_so(tmp_path, monkeypatch):
    """A proxy asked for an http:// address answers 407 itself (no tunnel to open): it said
    "models.example answered HTTP 407 Proxy Authentication Required; try again later", naming
    the model's host and a wait that changes nothing."""

    def proxy(handler):
        handler.send_error(407)

    with answering(proxy) as url:
        root = url.removesuffix("model")
        address = root.removeprefix("http://").rstrip("/")
        monkeypatch.setenv("http_proxy", root)
        monkeypatch.setenv("no_proxy", "")
        monkeypatch.setenv("NO_PROXY", "")
        with pytest.raises(DownloadError) as info:
            download_file("http://models.example/x.th", tmp_path / "x.th", name="tiny")
    assert info.value.reason == (
        f"could not download model tiny: the proxy {address} asks for a user name and password "
        f"(HTTP 407): set http_proxy to http://USER:PASSWORD@{address}"
    )


def test_a_certificate_that_cannot_be_verified_is_said_in_words(tmp_path):
    """A network that inspects secure connections (its own certificate in place of the
    server's): "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed
    certificate (_ssl.c:1006) (host)"."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(Path(__file__).with_name("self_signed.pem"))  # for 127.0.0.1
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def handshake() -> None:
            connection, _ = listener.accept()
            with contextlib.suppress(ssl.SSLError), context.wrap_socket(connection, True):
                pass  # the client refuses the certificate

        server = threading.Thread(target=handshake)
        server.start()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/tiny.th"
        with pytest.raises(DownloadError) as info:
            download_file(url, tmp_path / "tiny-aaaabbbb.th", name="tiny", timeout=5)
        server.join(timeout=5)
    assert info.value.reason == (
        "could not download model tiny: the certificate of 127.0.0.1 could not be verified "
        "(self-signed certificate: a network that inspects secure connections, or this "
        "computer's date wrong?); check the connection and try again"
    )


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_answer_that_is_not_http_is_said_in_words(tmp_path, scheme):
    """Something else than a web server on the other end (a proxy's port, a plain server
    asked for https): the message held its first line ("could not download model tiny:
    SSH-2.0-OpenSSH_9.6\\n (127.0.0.1)") or OpenSSL's "[SSL: WRONG_VERSION_NUMBER]"."""

    def not_http(handler):
        handler.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        handler.close_connection = True

    with answering(not_http) as url, pytest.raises(DownloadError) as info:
        url = url.replace("http:", f"{scheme}:")
        download_file(url, tmp_path / "tiny-aaaabbbb.th", name="tiny", timeout=5)
    assert info.value.reason == (
        "could not download model tiny: 127.0.0.1 did not answer as a web server does (a "
        "proxy or firewall in the way?); check the connection and try again"
    )


def test_a_model_that_cannot_be_saved_is_not_blamed_on_the_network(
    tmp_path, server, checkpoint_bytes
):
    """A full disk (or a folder not writable) said "check the connection"."""
    _, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).mkdir()  # the partial file cannot be written
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="tiny")
    assert info.value.reason.startswith(
        f"could not save model tiny in {tmp_path}: Is a directory; free"
    )
    assert "connection" not in info.value.reason


class _NearlyFullDisk(io.RawIOBase):
    """A file on a disk with ``room`` bytes left: a write takes what fits, then raises ENOSPC."""

    def __init__(self, room: int) -> None:
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, block) -> int:
        if not self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = min(len(block), self.room)
        self.room -= taken
        return taken


@pytest.mark.parametrize("room", [0, 12_288, 1 << 16])
def test_a_full_disk_is_not_blamed_on_the_network(
    tmp_path, server, checkpoint_bytes, monkeypatch, room
):
    """The disk filling 12 KiB into a 16 KiB block: the file's buffer kept the other 4 KiB,
    which its close wrote again, and that error took the place of the full disk's, said as
    "[Errno 28] No space left on device (127.0.0.1); check the connection"."""
    _, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    monkeypatch.setattr(
        "stemgui.separation.download.open",
        lambda path, mode: io.BufferedWriter(_NearlyFullDisk(room)),
        raising=False,
    )
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="tiny")
    assert info.value.reason == (
        f"could not save model tiny in {tmp_path}: No space left on device; free some space on "
        "that disk, or make the folder writable, and try again"
    )


@pytest.mark.parametrize("blocked", ["folder", "lock"])
def test_a_models_folder_that_cannot_be_written_is_said_so(
    tmp_path, server, checkpoint_bytes, blocked
):
    """The models folder could not be made, or the lock file beside the model written (a
    read-only folder): a bare FileExistsError or PermissionError escaped, which the app showed
    as an "unexpected error" and the command line as a traceback."""
    _, digest = checkpoint_bytes
    folder = tmp_path / "models"
    dest = folder / f"tiny-{digest[:8]}.stemgui"
    if blocked == "folder":
        folder.write_text("a file where the folder goes")
    else:
        dest.with_name(dest.name + ".lock").mkdir(parents=True)  # as root, chmod would not do
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="tiny")
    assert info.value.reason.startswith(f"could not save model tiny in {folder}: ")
    assert info.value.reason.endswith("or make the folder writable, and try again")
    assert server.ranges == []


def test_existing_file_is_verified_not_fetched(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    dest.write_bytes(data)
    download_file(server.url, dest)
    assert server.ranges == []

    dest.write_bytes(data[:-1])  # damaged copy on disk: fetched again
    download_file(server.url, dest)
    assert server.ranges == [None]
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("blocked", ["folder", "held"])
def test_a_model_that_cannot_take_its_place_is_said_so(
    tmp_path, server, checkpoint_bytes, monkeypatch, blocked
):
    """A folder where the model goes, or a model file that cannot be replaced (held open on
    Windows): a bare IsADirectoryError or PermissionError escaped, a traceback on the command
    line and an "unexpected error" in the app, once the whole file was downloaded."""
    _, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    if blocked == "folder":
        dest.mkdir()
        strerror = "Is a directory"
    else:
        strerror = "Permission denied"
        monkeypatch.setattr("stemgui.separation.download.os.replace", partial(_refused, strerror))
    with pytest.raises(DownloadError) as info:
        download_file(server.url, dest, name="tiny")
    assert info.value.reason.startswith(f"could not save model tiny in {tmp_path}: {strerror};")


def _refused(strerror, *args):
    raise PermissionError(errno.EACCES, strerror)


def test_cancel_keeps_the_partial_file(tmp_path, server, checkpoint_bytes):
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    cancel = threading.Event()

    def progress(done, total):
        if done >= 1 << 16:
            cancel.set()

    with pytest.raises(DownloadError, match="cancelled"):
        download_file(server.url, dest, on_progress=progress, cancel=cancel)
    kept = part_path(dest).stat().st_size
    assert 0 < kept < len(data)
    assert not dest.exists()
    download_file(server.url, dest)
    assert server.ranges[-1] == f"bytes={kept}-"
    assert dest.read_bytes() == data


@pytest.mark.parametrize("stall_after", [1000, -1], ids=["in the body", "before the headers"])
def test_cancel_stops_a_stalled_download_at_once(tmp_path, server, checkpoint_bytes, stall_after):
    """The server stops sending: the cancel was only seen with the next block, so the user's
    Cancel waited for the connection's timeout (half a minute by default)."""
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    server.stall_after = stall_after
    cancel = threading.Event()
    clicked = threading.Timer(0.3, cancel.set)
    clicked.start()
    started = time.monotonic()
    with pytest.raises(DownloadError, match="download of model tiny was cancelled"):
        download_file(server.url, dest, name="tiny", cancel=cancel, timeout=4)
    assert time.monotonic() - started < 2
    clicked.join()
    if stall_after > 0:  # what came is kept, and the download resumes after it
        assert part_path(dest).read_bytes() == data[:stall_after]
    server.stall_after = None
    assert download_file(server.url, dest).read_bytes() == data
    assert server.ranges[-1] == (f"bytes={stall_after}-" if stall_after > 0 else None)


@contextlib.contextmanager
def _silent_host(kind: str):
    """A loopback address that never answers: ``connect``, a host whose connection is never
    made (its one-place backlog held by a connection not accepted); ``tls``, one that accepts
    and then says nothing (the client waits in its TLS handshake)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        with contextlib.ExitStack() as held:
            if kind == "connect":
                filler = held.enter_context(socket.socket())
                filler.connect(("127.0.0.1", port))  # in the backlog; the next one waits
            yield f"https://127.0.0.1:{port}/tiny.th"


@pytest.mark.parametrize("kind", ["connect", "tls"])
def test_cancel_stops_a_connection_being_made_at_once(tmp_path, kind):
    """A host that does not answer: the connect, or the TLS handshake, held the user's Cancel
    until the timeout (half a minute by default)."""
    cancel = threading.Event()
    clicked = threading.Timer(0.3, cancel.set)
    clicked.start()
    started = time.monotonic()
    with _silent_host(kind) as url, pytest.raises(DownloadError, match="was cancelled"):
        download_file(url, tmp_path / "tiny-aaaabbbb.th", name="tiny", cancel=cancel, timeout=4)
    assert time.monotonic() - started < 2
    clicked.join()


def test_a_proxy_from_the_environment_is_used(tmp_path, server, checkpoint_bytes, monkeypatch):
    """Behind a proxy (http_proxy), the model comes through it, resumed there too."""
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    part_path(dest).write_bytes(data[:5000])
    proxy = server.url.removesuffix("/model")
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setenv("NO_PROXY", "")
    assert download_file("http://models.invalid/tiny.th", dest).read_bytes() == data
    assert server.paths == ["http://models.invalid/tiny.th"]  # asked of the proxy
    assert server.ranges == ["bytes=5000-"]


def test_only_http_urls(tmp_path):
    with pytest.raises(ValueError, match="http"):
        download_file("file:///etc/passwd", tmp_path / "x.th")


def test_a_download_held_by_another_process_is_refused_until_that_one_ends(
    tmp_path, server, checkpoint_bytes
):
    import subprocess
    import sys

    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    holder = (  # another stemgui window downloading the same model, then killed
        "import sys, time; from pathlib import Path; "
        "from stemgui.separation.download_lock import only_download; "
        "cm = only_download(Path(sys.argv[1]), 'tiny'); cm.__enter__(); "
        "print('held', flush=True); time.sleep(60)"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder, str(dest)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(DownloadError, match="is being downloaded already"):
            download_file(server.url, dest)
        assert not dest.exists() and not part_path(dest).exists() and server.ranges == []
    finally:
        other.kill()
        other.wait()
    assert download_file(server.url, dest).read_bytes() == data  # its lock went with it


def test_a_second_download_in_this_process_is_refused_too(tmp_path, server, checkpoint_bytes):
    from stemgui.separation.download_lock import only_download

    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    # the Get models dialog, say, while a song loads the same model
    with only_download(dest, "tiny"), pytest.raises(DownloadError, match="being downloaded"):
        download_file(server.url, dest)
    assert download_file(server.url, dest).read_bytes() == data


def test_a_folder_without_locks_downloads_all_the_same(
    tmp_path, server, checkpoint_bytes, monkeypatch
):
    """A file system without locks (a network share's: ENOLCK) was said as "is being
    downloaded already … wait for it to finish", for ever."""
    from stemgui.separation import download_lock

    def no_locks(handle):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(download_lock, "_lock", no_locks)
    data, digest = checkpoint_bytes
    dest = tmp_path / f"tiny-{digest[:8]}.stemgui"
    assert download_file(server.url, dest).read_bytes() == data


def test_the_roots_are_there_where_the_system_keeps_none(tmp_path, monkeypatch):
    """A frozen app's OpenSSL looks for the system's certificates where its build machine kept
    them (macOS, another Linux): it found none there and every download failed verification.
    certifi's roots are loaded beside whatever the system has."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    roots = Path(certifi.where()).read_text().count("-----BEGIN CERTIFICATE-----")
    with Hangup(None) as hangup:
        handlers = opener(hangup).handlers
        (tls,) = [h._context for h in handlers if isinstance(h, urllib.request.HTTPSHandler)]
    assert roots > 100
    assert tls.cert_store_stats()["x509_ca"] == roots
