"""``export`` never writes over existing files unless told; a failed export leaves the last one."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.errors import EncodeError, ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, files_under, read


def test_existing_targets_refuse_everything_and_are_listed(tmp_path, stems):
    folder = tmp_path / "m" / "t"
    folder.mkdir(parents=True)
    (folder / "bass.wav").write_bytes(b"keep me")
    (folder / "vocals.wav").write_bytes(b"and me")
    request = ExportRequest(folder=tmp_path)
    with pytest.raises(ExportError) as caught:
        export(stems, request, "t", "m")
    message = str(caught.value)
    assert caught.value.path == tmp_path
    assert "2 files exist already" in message
    assert str(folder / "bass.wav") in message and str(folder / "vocals.wav") in message
    assert files_under(tmp_path) == ["m/t/bass.wav", "m/t/vocals.wav"]  # nothing written
    assert (folder / "bass.wav").read_bytes() == b"keep me"


def test_overwrite_replaces_existing_targets(tmp_path, stems):
    target = tmp_path / "m/t/bass.wav"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    refused = ExportRequest(folder=tmp_path, stems=["bass"], fmt=FLOAT32)
    with pytest.raises(ExportError, match="exists already; choose another folder") as caught:
        export(stems, refused, "t", "m")
    assert caught.value.path == target
    request = ExportRequest(folder=tmp_path, stems=["bass"], fmt=FLOAT32, overwrite=True)
    assert export(stems, request, "t", "m") == [target]
    np.testing.assert_array_equal(read(target), stems.stem("bass"))


def test_failed_write_removes_the_files_of_this_export(tmp_path, stems, monkeypatch):
    import stemgui.audio.stream as stream

    real = stream.write_blocks
    calls = []

    def flaky(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise EncodeError(path, "disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", flaky)
    with pytest.raises(ExportError, match="could not be written: disk full") as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert caught.value.path == tmp_path / "m/t/other.wav"
    assert len(calls) == 3
    assert files_under(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # nor the folders it made for them (m/t stayed)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mine.txt").write_text("kept")  # a folder that was there stays
    calls.clear()
    with pytest.raises(ExportError):
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert files_under(tmp_path) == ["m/mine.txt"]


def test_a_folder_removed_while_exporting_is_said_once(tmp_path, stems, monkeypatch):
    """It was said twice over: "could not be written: cannot be written: the folder ..."."""
    import shutil

    import stemgui.audio.stream as stream

    real = stream.write_blocks
    calls = []

    def removing(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:  # a drive unplugged, a folder deleted in a file manager
            shutil.rmtree(tmp_path / "out")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", removing)
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=tmp_path / "out"), "t", "m")
    assert str(caught.value) == (
        f"{tmp_path / 'out/m/t/bass.wav'}: cannot be written: the folder "
        f"{tmp_path / 'out/m/t'} does not exist; create it"
    )


def test_a_failed_overwrite_leaves_the_earlier_export_whole(tmp_path, stems, monkeypatch):
    """Disk full on the third stem of an export over an earlier one: all the earlier files stay
    as they were, not two new stems beside two old ones."""
    import stemgui.audio.stream as stream

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    real, calls = stream.write_blocks, []

    def full(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise EncodeError(path, "disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", full)
    with pytest.raises(ExportError, match="disk full"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == before
    assert not [p for p in (tmp_path / "m" / "t").iterdir() if p.name.startswith(".")]
    monkeypatch.setattr(stream, "write_blocks", real)
    written = export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert all((tmp_path / p).read_bytes() != before[p] for p in files_under(tmp_path))
    assert [p.name for p in written] == [f"{n}.wav" for n in stems.names]


def test_a_rename_refused_at_the_end_puts_the_earlier_export_back(tmp_path, stems, monkeypatch):
    """The last step fails (Windows refuses to replace a file a DAW holds open): the files
    already renamed are taken back out and the earlier export's files return."""
    import os

    import stemgui.audio.atomic as atomic

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    for p in files_under(tmp_path):  # last week's export
        os.utime(tmp_path / p, ns=(10**18, 10**18))
    real, calls = atomic.put_in_place, []

    def refused(part, path, overwrite):
        calls.append(path)
        if len(calls) == 3:
            # another export's cleanup meanwhile: the earlier files moved aside were taken
            # for a killed run's (a rename keeps a file's age)
            assert atomic.clean_stale_parts(path.parent, older_than=60) == []
            raise PermissionError(13, "Permission denied", str(path))
        return real(part, path, overwrite)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    with pytest.raises(ExportError, match="could not be written"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert len(calls) == 3
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == before
    assert all((tmp_path / p).stat().st_mtime_ns == 10**18 for p in files_under(tmp_path))


def test_a_target_that_is_a_folder_is_refused_before_any_file(tmp_path, stems):
    (tmp_path / "m" / "t" / "other.wav").mkdir(parents=True)
    with pytest.raises(ExportError, match="is a folder") as caught:
        export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert caught.value.path == tmp_path / "m" / "t" / "other.wav"
    assert files_under(tmp_path) == []


def test_what_a_killed_export_left_in_its_folder_goes_with_the_next(tmp_path, stems):
    import os
    import subprocess
    import sys
    import time

    from stemgui.audio.atomic import part_path_for

    folder = tmp_path / "m" / "t"
    folder.mkdir(parents=True)
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    stale = folder / f".drums.wav.{killed.pid}-0badf00d.stemgui-part"
    stale.write_bytes(b"half a stem")
    two_minutes_ago = time.time() - 120
    os.utime(stale, (two_minutes_ago, two_minutes_ago))
    # Another export of this process, into the same folder: its finished files wait for its
    # last one (a long song's mp3s, minutes), so age is no sign that it was abandoned.
    running = part_path_for(folder / "bass.wav")
    running.write_bytes(b"another export, done with this stem")
    hour_ago = time.time() - 3600
    os.utime(running, (hour_ago, hour_ago))
    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert not stale.exists() and running.exists()


def test_a_failed_clean_up_still_puts_the_earlier_files_back(tmp_path, stems, monkeypatch):
    """The rename of the third file is refused and a temporary file cannot be removed: the
    error is the export's, not the removal's, and the earlier files all come back."""
    import errno
    from pathlib import Path

    import stemgui.audio.atomic as atomic

    export(stems, ExportRequest(folder=tmp_path), "t", "m")
    before = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    real_put, calls = atomic.put_in_place, []

    def refused(part, path, overwrite):
        calls.append(path)
        if len(calls) == 3:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_put(part, path, overwrite)

    real_unlink = Path.unlink

    def stuck(self, missing_ok=False):
        if atomic.is_part(self) and self.exists():
            raise OSError(errno.EBUSY, "Device or resource busy", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    monkeypatch.setattr(Path, "unlink", stuck)
    louder = StemSet(stems.names, stems.samplerate, stems.data * 0.5)
    with pytest.raises(ExportError, match="not writable"):
        export(louder, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    kept = [p for p in files_under(tmp_path) if not atomic.is_part(tmp_path / p)]
    assert {p: (tmp_path / p).read_bytes() for p in kept} == before  # the stuck ones logged
