"""Model downloads from a local HTTP server (127.0.0.1 only): full, resumed, corrupt, cancelled."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import socket
import threading
import time
import urllib.request
from pathlib import Path

import certifi
import pytest

from stemgui.errors import ModelLoadError
from stemgui.separation.checkpoint import load_model
from stemgui.separation.download import download_file, part_path
from stemgui.separation.download_errors import DownloadError
from stemgui.separation.download_hangup import Hangup, opener
from tests.separation.download_rig import answering
from tests.separation.model_files_helpers import TinyNet

pytestmark = pytest.mark.usefixtures("_local_only")


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
