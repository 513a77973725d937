"""A download that cannot be saved blames the disk or the folder, not the network."""

from __future__ import annotations

import errno
import io
from functools import partial

import pytest

from stemgui.separation.download import download_file, part_path
from stemgui.separation.download_errors import DownloadError

pytestmark = pytest.mark.usefixtures("_local_only")


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
