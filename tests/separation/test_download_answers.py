"""A download the server refuses, redirects, cuts short or answers oddly says so in words."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

import pytest

from stemgui.separation.download import download_file, part_path
from stemgui.separation.download_errors import DownloadError
from tests.separation.download_rig import answering

pytestmark = pytest.mark.usefixtures("_local_only")


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
