"""``export``: names the disk can hold, and folders it cannot make, enter or write."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from stemgui.errors import ExportError
from stemgui.export.exporter import ExportRequest, export
from stemgui.export.planning import plan
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import FLOAT32, NAMES, RATE, files_under, on_disk, read


def test_a_name_cut_with_its_stem_says_so(tmp_path):
    """A template whose text before {stem} is longer than a name holds: the name was cut, the
    stem with it, and the clash was said as "put {stem} in it", which it was."""
    template = "{track}/" + "a" * 300 + "{stem}.{ext}"
    with pytest.raises(ExportError, match="gives stems 'drums' and 'bass' the same file") as caught:
        plan(ExportRequest(folder=tmp_path, template=template), NAMES, "t", "m")
    said = str(caught.value)
    assert "cut to 240 bytes, and the stem was cut off" in said and "put {stem}" not in said


def test_a_file_where_the_template_needs_a_folder_is_named_before_any_work(tmp_path, stems):
    (tmp_path / "m").write_text("notes")  # where {model}/{track}/... needs a folder
    with pytest.raises(ExportError, match="is a file where the export needs a folder") as caught:
        plan(ExportRequest(folder=tmp_path), stems.names, "t", "m")
    assert caught.value.path == tmp_path / "m"
    with pytest.raises(ExportError, match="needs a folder"):  # was NotADirectoryError
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert (tmp_path / "m").read_text() == "notes"


def test_a_folder_that_cannot_be_made_says_what_to_do(tmp_path, stems, monkeypatch):
    import errno
    from pathlib import Path

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)  # a song on a read-only disk
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    # was "could not be written: Read-only file system", and nothing about what to do; then
    # it named the folder it could not make (m/t), whose permissions cannot be changed
    assert caught.value.reason == (
        f"could not be written: the folder {tmp_path} is not writable; "
        "choose another folder or change its permissions"
    )


def test_a_song_s_name_too_long_for_a_file_is_cut_in_the_file_names(tmp_path, stems):
    """A name (not a path) over 255 bytes was looked up as a file: OSError, "File name too
    long", instead of the names cut to fit as ``render`` does."""
    (bass,) = export(stems, ExportRequest(folder=tmp_path, stems=["bass"]), "日" * 120, "m")
    assert bass.parent.name == "日" * 80  # 240 bytes
    assert sf.info(bass).frames == stems.frames


@pytest.mark.parametrize("spooled", [False, True])
def test_names_as_long_as_safe_name_allows_are_written(tmp_path, stems, spooled):
    """75 Japanese characters and the stem: 236 bytes, within the 240 of ``safe_name``. Each
    file took a temporary name and a second one built on it, which went past 255 bytes."""
    data = on_disk(tmp_path, stems.data) if spooled else stems.data  # written block by block
    stemset = StemSet(NAMES, RATE, data)
    track = "あ" * 75
    request = ExportRequest(folder=tmp_path / "out", template="{track}-{stem}.{ext}", fmt=FLOAT32)
    written = export(stemset, request, track, "m")
    assert [p.name for p in written] == [f"{track}-{n}.wav" for n in NAMES]
    assert files_under(tmp_path / "out") == sorted(f"{track}-{n}.wav" for n in NAMES)
    np.testing.assert_array_equal(read(written[3]), stems.stem("vocals"))


def test_a_name_the_disk_cannot_hold_is_refused_before_separating(tmp_path, monkeypatch):
    """Said by ``plan`` (before the separation), naming the file, not after every stem."""
    import os

    folder = tmp_path
    while len(os.fsencode(folder)) < 3800:  # a deep folder: the whole path past 4095 bytes
        folder = folder / ("p" * 200)
    folder.mkdir(parents=True)
    with pytest.raises(ExportError, match="the path is too long") as caught:
        plan(ExportRequest(folder=folder), NAMES, "t" * 200, "m")
    assert caught.value.path == folder / "m" / ("t" * 200) / "drums.wav"
    assert "choose a folder nearer the top" in str(caught.value)
    assert plan(ExportRequest(folder=folder), NAMES, "t" * 20, "m")  # one that fits
    # eCryptfs takes names of 143 bytes: 60 Japanese characters are 180
    real = os.pathconf
    monkeypatch.setattr(
        os, "pathconf", lambda p, key: 143 if key == "PC_NAME_MAX" else real(p, key)
    )
    with pytest.raises(ExportError, match=r"too long for the disk it goes on \(180 bytes"):
        plan(ExportRequest(folder=tmp_path), NAMES, "あ" * 60, "m")
    stems = StemSet(NAMES, RATE, np.zeros((4, 2, 100), np.float32))
    track = "あ" * 45  # 135 bytes: its temporary names are cut to fit too
    written = export(stems, ExportRequest(folder=tmp_path, stems=["bass"]), track, "m")
    assert written == [tmp_path / "m" / track / "bass.wav"]


def test_a_folder_whose_name_the_disk_cannot_hold_is_refused_with_its_name(tmp_path):
    """A folder of 300 letters typed in the export dialog raised OSError (File name too long)
    from ``plan``, on every key typed after it, instead of saying what to do."""
    folder = tmp_path / ("x" * 300)
    with pytest.raises(ExportError, match=r"the name 'x+' is too long .* \(300 bytes; it takes"):
        plan(ExportRequest(folder=folder), NAMES, "t", "m")


def test_a_folder_that_cannot_be_entered_is_said_not_writable(tmp_path, stems, monkeypatch):
    """One in another user's folder raised PermissionError from ``plan`` (Path.is_dir), in
    the export dialog at every key typed and out of its Export button."""
    import errno
    import os

    locked = tmp_path / "theirs"
    locked.mkdir()
    real = os.stat

    def stat(path, *args, **kwargs):  # as for a user without the folder's x permission
        if str(path).startswith(f"{locked}{os.sep}"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", stat)
    request = ExportRequest(folder=locked / "stems")
    assert plan(request, NAMES, "t", "m")[0] == ("drums", locked / "stems/m/t/drums.wav")
    with pytest.raises(ExportError) as caught:
        export(stems, request, "t", "m")
    assert caught.value.reason == (  # the one that refused, not those to be made in it
        f"could not be written: the folder {locked} is not writable; "
        "choose another folder or change its permissions"
    )


def test_a_folder_through_a_link_to_nothing_says_the_link_leads_nowhere(tmp_path):
    """~/Music/USB linked to a drive not mounted was said to be "a file where the export
    needs a folder"."""
    (tmp_path / "USB").symlink_to(tmp_path / "media" / "usb")
    for folder in (tmp_path / "USB", tmp_path / "USB" / "stems"):
        with pytest.raises(ExportError) as caught:
            plan(ExportRequest(folder=folder), NAMES, "t", "m")
        assert str(caught.value) == (
            f"{tmp_path / 'USB'}: is a link to {tmp_path / 'media' / 'usb'}, which is not there "
            "(a drive not connected?); connect it or choose another folder"
        )


def test_two_parts_of_a_long_named_song_get_folders_of_their_own(tmp_path, stems):
    """Each folder ends with the whole part, the song's name shortened: its ".03s" taken for an
    extension, two loops ending together shared a folder (the second found "files exist")."""
    track = ("Night Drive - Extended Club Mix " * 8)[:236]
    first = export(stems, ExportRequest(folder=tmp_path, span=(0.01, 0.03)), track, "m")
    second = export(stems, ExportRequest(folder=tmp_path, span=(0.02, 0.03)), track, "m")
    assert first[0].parent.name.endswith(" 0m00.01s-0m00.03s")
    assert second[0].parent.name.endswith(" 0m00.02s-0m00.03s")
    assert [sf.info(p).frames for p in (first[0], second[0])] == [882, 441]


def test_a_long_track_name_leaves_room_for_the_stem(tmp_path, stems):
    """ "{track}_{stem}.{ext}" with an 80-character Japanese name: refused before as giving
    two stems one file, though {stem} is in it."""
    track = "あ" * 80
    request = ExportRequest(folder=tmp_path, template="{track}_{stem}.{ext}")
    written = export(stems, request, track, "m")
    assert [p.name.rpartition("_")[2] for p in written] == [f"{n}.wav" for n in NAMES]
    assert all(p.name.startswith("あ" * 70) for p in written)


def test_a_link_to_nothing_at_a_target_is_found_before_writing(tmp_path, stems, monkeypatch):
    """A dangling symbolic link: refused before any file is written (exists() follows it and
    said no: the rename found it after every stem); replaced with overwriting, and put back
    if that export fails."""
    import stemgui.audio.atomic as atomic
    import stemgui.audio.stream as stream

    link = tmp_path / "m" / "t" / "vocals.wav"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "nowhere.wav")
    real_write = stream.write_blocks
    monkeypatch.setattr(stream, "write_blocks", lambda *a, **k: pytest.fail("a file was written"))
    with pytest.raises(ExportError, match="exists already") as caught:
        export(stems, ExportRequest(folder=tmp_path), "t", "m")
    assert caught.value.path == link
    monkeypatch.setattr(stream, "write_blocks", real_write)
    real_put = atomic.put_in_place

    def refused(part, path, overwrite):
        if path == link:
            raise PermissionError(13, "Permission denied", str(path))
        return real_put(part, path, overwrite)

    monkeypatch.setattr(atomic, "put_in_place", refused)
    with pytest.raises(ExportError, match="not writable"):
        export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert link.is_symlink() and sorted(p.name for p in link.parent.iterdir()) == ["vocals.wav"]
    monkeypatch.setattr(atomic, "put_in_place", real_put)
    export(stems, ExportRequest(folder=tmp_path, overwrite=True), "t", "m")
    assert not link.is_symlink() and sf.info(link).frames == stems.frames
    assert not (tmp_path / "nowhere.wav").exists()


def test_a_song_whose_name_starts_with_a_dot_is_exported_in_sight(tmp_path, stems):
    """ " .hidden.wav": its leading space removed, its stems went to a hidden folder ".hidden"."""
    song = tmp_path / " .hidden.wav"
    request = ExportRequest(folder=tmp_path / "out", stems=["bass"])
    assert export(stems, request, song, "m") == [tmp_path / "out/m/_hidden/bass.wav"]


def test_a_folder_through_one_not_made_yet_makes_only_the_one_written_to(tmp_path, stems):
    """A folder typed as ``a/../b`` left an empty folder ``a`` beside ``b``."""
    request = ExportRequest(folder=tmp_path / "a" / ".." / "b", template="{stem}.{ext}")
    written = export(stems, request, "t", "m")
    assert written == [tmp_path / f"b/{n}.wav" for n in NAMES]  # named as they are reached
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    (tmp_path / "b" / "c").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "b" / "c")  # a link that exists goes where it leads
    written = export(stems, replace(request, folder=tmp_path / "link" / ".." / "d"), "t", "m")
    assert written[0].resolve() == tmp_path / "b" / "d" / "drums.wav"


def test_a_folder_that_cannot_be_read_is_said_not_writable(tmp_path, stems, monkeypatch):
    """Looking in it for what a killed export left raised PermissionError out of ``export``:
    the app said "unexpected error", the command line printed a traceback."""
    import errno
    from pathlib import Path

    locked = tmp_path / "theirs"
    locked.mkdir()
    real_iterdir, real_mkdir = Path.iterdir, Path.mkdir

    def refused(path):  # as for a user without the folder's read, write and x permissions
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    def iterdir(self):
        return refused(self) if locked in (self, *self.parents) else real_iterdir(self)

    def mkdir(self, *args, **kwargs):
        return refused(self) if locked in self.parents else real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(ExportError) as caught:
        export(stems, ExportRequest(folder=locked), "t", "m")
    assert caught.value.reason == (
        f"could not be written: the folder {locked} is not writable; "
        "choose another folder or change its permissions"
    )
