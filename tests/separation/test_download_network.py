"""A download without internet, or through a proxy, says what stands in the way."""

from __future__ import annotations

import errno
import socket
from http.server import BaseHTTPRequestHandler

import pytest

from stemgui.separation.download import download_file, part_path
from stemgui.separation.download_errors import DownloadError
from tests.loopback import serving
from tests.separation.download_rig import answering

pytestmark = pytest.mark.usefixtures("_local_only")


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
