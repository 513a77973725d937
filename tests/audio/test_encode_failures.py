"""write_audio's refusals and failures: bad buffers, an existing file, a missing folder, mp3 limits,
a full disk, a folder gone or read-only, a failing encoder and a bug in a block reader; each an
EncodeError that says what to do (or the bug as it is), and nothing left behind."""

from __future__ import annotations

import errno
import os

import av
import numpy as np
import pytest
import soundfile as sf

from stemgui.audio import encode
from stemgui.audio.encode import AudioFormat, write_audio
from stemgui.errors import EncodeError
from tests.audio.encode_rig import no_leftovers, noise
from tests.audio.media import tone


def test_bad_buffers_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="channels, frames"):
        write_audio(tmp_path / "x.wav", np.zeros(10, np.float32), 44100, AudioFormat())
    with pytest.raises(ValueError, match="samplerate"):
        write_audio(tmp_path / "x.wav", np.zeros((2, 10), np.float32), 0, AudioFormat())


def test_existing_file_needs_overwrite(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"precious")
    with pytest.raises(EncodeError, match="already exists") as caught:
        write_audio(path, noise(), 44100, AudioFormat())
    assert caught.value.path == path
    assert path.read_bytes() == b"precious"
    write_audio(path, noise(), 44100, AudioFormat(), overwrite=True)
    assert sf.info(path).frames == 4000
    assert no_leftovers(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(EncodeError, match="does not exist; create it"):
        write_audio(tmp_path / "gone" / "x.wav", noise(), 44100, AudioFormat())


def test_mp3_limits_are_encode_errors(tmp_path):
    with pytest.raises(EncodeError, match="at most 2 channels"):
        write_audio(tmp_path / "x.mp3", np.zeros((6, 100), np.float32), 44100, AudioFormat("mp3"))
    with pytest.raises(EncodeError, match="96000 Hz"):
        write_audio(tmp_path / "x.mp3", np.zeros((2, 100), np.float32), 96000, AudioFormat("mp3"))
    assert list(tmp_path.iterdir()) == []


def test_disk_full_midway_leaves_nothing(tmp_path, monkeypatch):
    """The first block is written, the second hits ENOSPC: no file, no part, an EncodeError."""
    real_write = sf.SoundFile.write
    calls = []

    def write_then_fail(self, data):
        calls.append(len(data))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write_then_fail)
    target = tmp_path / "x.wav"
    with pytest.raises(EncodeError, match="disk is full") as caught:
        write_audio(target, noise(frames=encode._BLOCK_FRAMES + 10), 44100, AudioFormat())
    assert caught.value.path == target
    assert len(calls) == 2
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_libsndfile_reports_without_errno_is_said_to_be_full(tmp_path, monkeypatch):
    from stemgui.audio.atomic import is_part

    def system_error(part, *args, **kwargs):
        part.write_bytes(b"the first blocks")
        raise sf.LibsndfileError(2, "System error.")  # what a full tmpfs gave, no errno

    monkeypatch.setattr(encode, "write_encoded_blocks", system_error)
    # full while the partial file takes its room; its removal frees the space again
    monkeypatch.setattr(encode, "_disk_nearly_full", lambda f: any(map(is_part, f.iterdir())))
    with pytest.raises(EncodeError, match="the disk is full"):  # was "(System error.)"
        write_audio(tmp_path / "x.wav", noise(), 44100, AudioFormat())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("then", ["removed", "a file"])
def test_a_folder_gone_midway_is_said_to_have_disappeared(tmp_path, monkeypatch, then):
    """libsndfile says "System error." with no errno: that was the message, and what to do
    was "try another folder or format"."""
    import shutil

    folder = tmp_path / "stems"
    folder.mkdir()

    def gone(part, *args, **kwargs):
        shutil.rmtree(folder)
        if then == "a file":
            folder.write_text("notes")
        raise sf.LibsndfileError(2, "System error.")

    monkeypatch.setattr(encode, "write_encoded_blocks", gone)
    with pytest.raises(EncodeError) as caught:
        write_audio(folder / "x.wav", noise(), 44100, AudioFormat())
    assert caught.value.reason == (
        f"could not be written: the folder {folder} disappeared; create it again"
    )


def test_disk_full_keeps_the_old_file_on_overwrite(tmp_path, monkeypatch):
    target = tmp_path / "x.flac"
    target.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(encode, "write_encoded_blocks", fail)
    with pytest.raises(EncodeError, match="disk is full"):
        write_audio(target, noise(), 44100, AudioFormat("flac"), overwrite=True)
    assert target.read_bytes() == b"old"
    assert no_leftovers(tmp_path)


def test_mp3_failure_midway_leaves_nothing(tmp_path, monkeypatch):
    from stemgui.audio import _mp3

    def fail(part, *args):
        part.write_bytes(b"ID3 half an mp3")
        raise av.error.ExternalError(-1, "encoder failed")

    monkeypatch.setattr(_mp3, "write", fail)
    with pytest.raises(EncodeError, match="could not be written"):
        write_audio(tmp_path / "x.mp3", tone(44100, 0.1), 44100, AudioFormat("mp3"))
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(encode, "write_encoded_blocks", denied)
    with pytest.raises(EncodeError, match="is not writable; choose another folder"):
        write_audio(tmp_path / "x.wav", noise(), 44100, AudioFormat())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(getattr(os, "geteuid", lambda: 0)() == 0, reason="root writes anywhere")
def test_read_only_folder_for_real(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(EncodeError, match="not writable"):
            write_audio(folder / "x.wav", noise(), 44100, AudioFormat())
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_a_bug_in_a_block_reader_is_no_write_error(tmp_path, kind):
    """An IndexError from the reader went out as "could not be written (list index out of
    range); try another folder or format": a bug said as a disk problem, with advice that
    cannot help. It goes out as it is, for the app's unexpected-error path; nothing is left.
    (Clip "none": the reader is called once, while writing, not first for the peak.)"""
    from stemgui.audio.stream import write_blocks

    def read(start, stop):
        if start:
            raise IndexError("list index out of range")
        return noise(stop - start)

    fmt = AudioFormat(kind, clip="none")
    with pytest.raises(IndexError, match="list index out of range"):
        write_blocks(tmp_path / f"x.{kind}", read, 2, 3000, 44100, fmt, block_frames=1000)
    assert list(tmp_path.iterdir()) == []
