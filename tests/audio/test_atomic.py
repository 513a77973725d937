"""atomic_path: complete file under the final name, or nothing; never an unasked overwrite."""

from __future__ import annotations

import errno
import os
import time

import pytest

from stemgui.audio import atomic
from stemgui.audio.atomic import atomic_path, clean_stale_parts, is_part


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if is_part(p))


def test_success_renames_the_part_onto_the_target(tmp_path):
    target = tmp_path / "vocals.wav"
    with atomic_path(target) as part:
        assert part.parent == tmp_path
        assert part.name.startswith(".") and ".stemgui-part" in part.name
        assert not target.exists()
        part.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    assert leftovers(tmp_path) == []


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "vocals.wav"
    with pytest.raises(OSError, match="No space"), atomic_path(target) as part:
        part.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_existing_target_is_kept_without_overwrite(tmp_path):
    target = tmp_path / "vocals.wav"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError), atomic_path(target):
        pytest.fail("the block must not run")
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_is_never_the_target(tmp_path, overwrite):
    with pytest.raises(IsADirectoryError, match="is a folder"), atomic_path(tmp_path, overwrite):
        pytest.fail("the block must not run")
    assert tmp_path.is_dir() and leftovers(tmp_path.parent) == []


def test_overwrite_replaces(tmp_path):
    target = tmp_path / "vocals.wav"
    target.write_bytes(b"old")
    with atomic_path(target, overwrite=True) as part:
        part.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_failed_overwrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "vocals.wav"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target, overwrite=True) as part:
        part.write_bytes(b"ne")
        raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_target_created_meanwhile_is_not_replaced(tmp_path):
    target = tmp_path / "vocals.wav"
    with pytest.raises(FileExistsError), atomic_path(target) as part:
        part.write_bytes(b"mine")
        target.write_bytes(b"theirs")  # another writer finished first
    assert target.read_bytes() == b"theirs"
    assert leftovers(tmp_path) == []


def test_without_hard_links_it_still_refuses_and_renames(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_links)
    target = tmp_path / "vocals.wav"
    with atomic_path(target) as part:
        part.write_bytes(b"one")
    assert target.read_bytes() == b"one"
    with pytest.raises(FileExistsError), atomic_path(tmp_path / "bass.wav") as part:
        part.write_bytes(b"two")
        (tmp_path / "bass.wav").write_bytes(b"theirs")
    assert (tmp_path / "bass.wav").read_bytes() == b"theirs"
    assert leftovers(tmp_path) == []


def test_block_that_writes_nothing_fails(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "x.wav"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_long_names_fit_the_file_system(tmp_path):
    target = tmp_path / ("é" * 120 + ".flac")  # 244 bytes in UTF-8
    with atomic_path(target) as part:
        assert len(part.name.encode()) <= 255
        part.write_bytes(b"x")
    assert target.read_bytes() == b"x"


def test_clean_stale_parts(tmp_path):
    keep = [tmp_path / "song.wav", tmp_path / ".hidden", tmp_path / "x.stemgui-part"]
    stale = [tmp_path / ".a.wav.0011.stemgui-part", tmp_path / ".b.mp3.ffee.stemgui-part"]
    for path in keep + stale:
        path.write_bytes(b"x")
    (tmp_path / ".dir.stemgui-part").mkdir()
    removed = clean_stale_parts(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert all(p.exists() for p in keep)
    assert not any(p.exists() for p in stale)
    assert (tmp_path / ".dir.stemgui-part").is_dir()


def test_clean_stale_parts_spares_recent_writes(tmp_path):
    old = tmp_path / ".old.wav.1234.stemgui-part"
    new = tmp_path / ".new.wav.5678.stemgui-part"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert clean_stale_parts(tmp_path, older_than=600) == [old]
    assert new.exists()


def test_clean_stale_parts_asks_whether_their_writer_still_runs(tmp_path):
    import subprocess
    import sys

    from stemgui.audio.atomic import part_path_for, part_pid

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ours = part_path_for(tmp_path / "song - drums.mp3")
    assert part_pid(ours) == os.getpid()
    killed = tmp_path / f".song - bass.mp3.{dead.pid}-0badf00d.stemgui-part"
    for path in (ours, killed):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(ours, (hour_ago, hour_ago))
    # A young file of an id not running here may be another machine's, on a shared folder.
    assert clean_stale_parts(tmp_path, older_than=60) == []
    os.utime(killed, (hour_ago, hour_ago))
    assert clean_stale_parts(tmp_path, older_than=60) == [killed]  # its run is gone
    assert ours.exists()  # an hour old, its run still writes the rest
    day_ago = time.time() - 25 * 3600  # no write takes a day: the id is another process's now
    os.utime(ours, (day_ago, day_ago))
    assert clean_stale_parts(tmp_path, older_than=60) == [ours]


def test_clean_stale_parts_of_a_missing_folder(tmp_path):
    assert clean_stale_parts(tmp_path / "missing") == []


def test_a_temporary_name_fits_in_bytes_whatever_the_target_s_name(tmp_path):
    """255 bytes per name (ext4): 80 Japanese characters fill 240 of them; a cap counted in
    characters let their temporary name reach 300 (File name too long)."""
    target = tmp_path / ("あ" * 80 + ".wav")
    part = atomic.part_path_for(target)
    assert len(os.fsencode(part.name)) <= 255
    assert part.name.startswith(".ああ") and is_part(part)
    assert atomic.part_pid(part) == os.getpid()
    with atomic_path(target) as part:
        part.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"


def test_an_error_about_the_temporary_file_names_the_target(tmp_path, monkeypatch):
    """A read-only folder said "[Errno 30] Read-only file system: '.s.json.9846-95a75d23
    .stemgui-part'": a name the user never chose, and a warning that it could not be removed."""
    target = tmp_path / "s.json"
    real_unlink = atomic.Path.unlink

    def read_only_unlink(self, missing_ok=False):
        if is_part(self):  # Linux refuses before looking: the file was never made
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(atomic.Path, "unlink", read_only_unlink)
    with pytest.raises(OSError) as caught, atomic_path(target) as part:
        raise OSError(errno.EROFS, "Read-only file system", str(part))
    assert (caught.value.errno, caught.value.filename) == (errno.EROFS, str(target))
    assert str(caught.value) == f"[Errno 30] Read-only file system: '{target}'"


def test_no_warning_about_a_temporary_file_never_made(tmp_path, monkeypatch, caplog):
    def refused(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(atomic.Path, "unlink", refused)
    with caplog.at_level("WARNING"):
        atomic.remove_quietly(tmp_path / ".never-made.stemgui-part")
    assert caplog.records == []
    made = tmp_path / ".made.stemgui-part"
    made.write_bytes(b"x")
    with caplog.at_level("WARNING"):
        atomic.remove_quietly(made)  # there, and left behind: said
    assert "could not remove temporary file" in caplog.text


def test_an_error_about_another_file_is_left_as_it_is(tmp_path):
    other = tmp_path / "elsewhere" / "x"
    with pytest.raises(FileNotFoundError) as caught, atomic_path(tmp_path / "t") as part:
        part.write_bytes(b"")
        other.read_bytes()
    assert caught.value.filename == str(other)
