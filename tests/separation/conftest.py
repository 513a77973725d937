"""Fixtures the separation tests share, none autouse (a file that needs one for every test asks
for it with ``pytestmark``): a network of 127.0.0.1 only, TinyNet registered, a fake Demucs
class, a checkpoint to serve and its server, one torch thread."""

from __future__ import annotations

import pytest

from stemgui.separation.checkpoint import save_model
from tests.separation.download_rig import FileServer
from tests.separation.model_files_helpers import fake_demucs_class, make_tiny, tiny_registered
from tests.torch_threads import torch_threads


@pytest.fixture
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


@pytest.fixture
def _tiny():
    with tiny_registered():
        yield


@pytest.fixture
def demucs_class(monkeypatch) -> type:
    return fake_demucs_class(monkeypatch)


@pytest.fixture(scope="module")
def _one_torch_thread():
    """One torch thread: on the shared 2-core machine, two threads spend most of their time
    waiting for each other in the LSTM steps (4x slower measured under load)."""
    with torch_threads(1):
        yield
