"""Which model made the stems: file hashes (remembered until the file changes, cancellable) and
model identities that follow the bytes of a model's files, a bag's members and the store's."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

from stemgui.errors import SeparationCancelled
from stemgui.separation.model_identity import (
    file_digest,
    forget_digests,
    model_files,
    model_identity,
)
from tests.fakes import CancelAfter
from tests.pipes import without_waiting

# ----------------------------------------------------------------------------- file hashes


def test_file_digest_is_the_sha256_of_the_bytes_and_is_remembered(tmp_path):
    forget_digests()
    path = tmp_path / "song.bin"
    content = np.random.default_rng(0).bytes(2_500_000)  # three 1 MiB blocks
    path.write_bytes(content)
    assert file_digest(path) == hashlib.sha256(content).hexdigest()
    stat = path.stat()
    path.write_bytes(bytes(len(content)))  # same size, same time: looks unchanged ...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_digest(path) == hashlib.sha256(content).hexdigest()  # ... so it is not re-read
    forget_digests()  # a new process reads it again
    assert file_digest(path) == hashlib.sha256(bytes(len(content))).hexdigest()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_file_digest_refuses_a_named_pipe_and_a_link_loop_without_waiting(tmp_path):
    """The app hashes every song first (stem cache on): opening a named pipe blocked the
    worker, and every song after it, for good; a link loop raised RuntimeError (< 3.13)."""
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    (tmp_path / "loop.wav").symlink_to(tmp_path / "loop.wav")
    for name in ("pipe.wav", "loop.wav"):
        with pytest.raises(OSError):
            without_waiting(lambda name=name: file_digest(tmp_path / name), pipe)


def test_file_digest_stops_when_cancelled_between_blocks(tmp_path):
    forget_digests()
    path = tmp_path / "song.bin"
    path.write_bytes(bytes(3 << 20))
    cancel = CancelAfter(2)
    with pytest.raises(SeparationCancelled):
        file_digest(path, cancel=cancel)
    assert cancel.checks == 2
    assert file_digest(path) == hashlib.sha256(bytes(3 << 20)).hexdigest()  # nothing remembered


# ----------------------------------------------------------------------------- model identity


def test_model_identity_of_a_file_follows_its_bytes(tmp_path):
    model = tmp_path / "tiny.stemgui"
    model.write_bytes(b"weights v1")
    first = model_identity(str(model))
    assert first == f"{model}|{hashlib.sha256(b'weights v1').hexdigest()}"
    model.write_bytes(b"weights v2")  # retrained: same name, other bytes
    os.utime(model, ns=(0, 10**18))
    assert model_identity(str(model)) == f"{model}|{hashlib.sha256(b'weights v2').hexdigest()}"
    assert model_identity(str(tmp_path / "missing.stemgui")) is None


def test_model_identity_of_a_bag_covers_its_members(tmp_path):
    (tmp_path / "bag.yaml").write_text("models: ['aaaa1111', 'bbbb2222']\n")
    (tmp_path / "aaaa1111.th").write_bytes(b"first")
    (tmp_path / "bbbb2222.th").write_bytes(b"second")
    identity = model_identity(str(tmp_path / "bag.yaml"))
    digests = identity.split("|", 1)[1].split(",")
    assert digests[1:] == [hashlib.sha256(b).hexdigest() for b in (b"first", b"second")]
    files = model_files(str(tmp_path / "bag.yaml"))  # what a restored song's model is checked by
    assert files.paths == tuple(tmp_path / n for n in ("bag.yaml", "aaaa1111.th", "bbbb2222.th"))
    (tmp_path / "bbbb2222.th").unlink()
    assert model_identity(str(tmp_path / "bag.yaml")) is None
    assert model_files(str(tmp_path / "bag.yaml")) is None


def test_model_identity_by_name_uses_the_manifest_sha_or_the_user_file(tmp_path):
    from stemgui.separation.store import ModelStore

    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "small.stemgui").write_bytes(b"x")
    manifest = {
        "schema": 1,
        "models": [{"name": "small", "file": "small.stemgui", "sha256": "F" * 64}],
    }
    (bundled / "manifest.json").write_text(json.dumps(manifest))
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine.stemgui").write_bytes(b"mine")
    store = ModelStore(bundled_dir=bundled, user_dir=user)
    assert model_identity("small", store=store) == "small|" + "f" * 64
    assert model_identity("", store=store) == "small|" + "f" * 64  # the default
    assert model_identity("mine", store=store) == "mine|" + hashlib.sha256(b"mine").hexdigest()
    assert model_identity("no-such-model", store=store) is None
    assert model_identity("htdemucs", store=store) is None  # official, not downloaded
