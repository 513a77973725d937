"""Long songs: stems spooled to a temporary np.memmap, written block by block, spool removed.

The default suite lowers the spool threshold to run the long-song path on seconds of audio;
``bench/long_song_memory.py`` measures the peak memory for 10 and 60 minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemgui import cli, spool
from stemgui.audio.encode import AudioFormat, write_audio
from stemgui.audio.stream import stem_reader, write_blocks
from stemgui.separation import separator as separator_module
from tests.fakes import resident
from tests.reliability.helpers import (
    NAMES,
    RATE,
    expected_stems,
    read,
    stem_folder,
    write_song,
)


@pytest.fixture
def spool_everything(isolated, monkeypatch):
    """Spool songs over 0.1 s into ``tmp/spool-root``; returns that folder."""
    root = isolated / "spool-root"
    root.mkdir()
    monkeypatch.setattr(spool, "SPOOL_THRESHOLD_SECONDS", 0.1)
    monkeypatch.setattr(spool.tempfile, "tempdir", str(root))
    return root


def _record_outputs(monkeypatch) -> list:
    """The ``out`` buffer of every ``Separator.separate`` call, then its input's file name (None
    for an array in RAM) and a copy of it, in a list filled as they come (a spool's memmaps
    are unmapped once the song is written: read then, they crash the process)."""
    outs = []
    real = separator_module.Separator.separate

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        outs.append(out)
        name = getattr(buffer, "filename", None)
        outs.append((name and Path(name).name, np.array(buffer)))
        return real(self, buffer, on_progress, cancel, out)

    monkeypatch.setattr(separator_module.Separator, "separate", separate)
    return outs


@pytest.mark.parametrize("flags", [["--float32"], ["--float32", "--two-stems", "vocals"]])
def test_long_song_goes_through_a_spool_that_is_removed(spool_everything, model_file,
                                                        monkeypatch, flags):  # fmt: skip
    mix = write_song(spool_everything.parent / "a.wav", seconds=4.0)
    outs = _record_outputs(monkeypatch)
    monkeypatch.setattr(spool, "_RELEASE_BYTES", 1 << 16)  # release pages often
    assert cli.main(["a.wav", "-n", str(model_file), *flags]) == 0
    assert isinstance(outs[0], np.memmap)
    # the mix too, read back from the disk as it is separated (1.3 GB of RAM for 60 minutes)
    assert outs[1][0] == "mix.f32"
    np.testing.assert_array_equal(outs[1][1], mix)
    assert list(spool_everything.iterdir()) == []
    expected = dict(zip(NAMES, expected_stems(mix)))
    if "--two-stems" in flags:
        expected = {"vocals": expected["vocals"],
                    "no_vocals": sum(expected[n] for n in NAMES if n != "vocals")}  # fmt: skip
    folder = stem_folder(spool_everything.parent, "a")
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.wav" for n in expected)
    for name, stem in expected.items():
        np.testing.assert_allclose(read(folder / f"{name}.wav"), stem, atol=1e-6)


def test_spool_is_removed_when_the_export_fails(spool_everything, model_file, monkeypatch):
    write_song(spool_everything.parent / "a.wav", seconds=1.0)
    import errno

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", full)
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    assert list(spool_everything.iterdir()) == []
    assert list((spool_everything.parent / "separated").rglob("*.wav")) == []


def test_a_spool_without_room_is_one_error_line_and_the_next_song_runs(
    spool_everything, model_file, monkeypatch, capsys
):
    import errno

    write_song(spool_everything.parent / "long.wav", seconds=1.0)
    write_song(spool_everything.parent / "next.wav", seconds=1.0)
    real = spool.os.posix_fallocate
    calls = []

    def full_once(fd, offset, length):  # the first spool finds the disk full
        calls.append(length)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, offset, length)

    monkeypatch.setattr(spool.os, "posix_fallocate", full_once)
    assert cli.main(["long.wav", "next.wav", "-n", str(model_file)]) == 1  # was SIGBUS, no line
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert lines[0].startswith(f"error: long.wav: {spool_everything}")
    assert "not enough free space for this song's stems" in lines[0] and "TMPDIR" in lines[0]
    assert calls[0] == len(NAMES) * 2 * RATE * 4  # the whole spool, reserved up front
    assert list(spool_everything.iterdir()) == []
    assert (stem_folder(spool_everything.parent, "next") / "vocals.wav").exists()


def test_the_app_s_stems_without_room_name_no_tmpdir(tmp_path, monkeypatch):
    """The app keeps a long song's stems in the user cache folder: TMPDIR does not move them."""
    import errno

    from stemgui.errors import FileError

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool.os, "posix_fallocate", full)
    cache = tmp_path / "cache" / "stemgui" / "stems"
    cache.mkdir(parents=True)
    monkeypatch.setattr(spool.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    with pytest.raises(FileError, match=r"free some space on that disk$") as caught:
        spool.reserved_memmap(cache / "stems-1.f32", (4, 2, 1000))
    assert caught.value.path == cache  # was "... or set TMPDIR to a folder on a bigger disk"
    monkeypatch.setattr(spool.tempfile, "gettempdir", lambda: str(tmp_path))
    with pytest.raises(FileError, match=r"or set TMPDIR to a folder on a bigger disk$"):
        spool.reserved_memmap(cache / "stems-1.f32", (4, 2, 1000))


def test_the_free_space_said_is_the_disk_s_without_the_space_a_failed_reservation_took(
    tmp_path, monkeypatch
):
    """ext4's fallocate that runs out of room keeps what it took: a FLAC whose header claimed
    hours was refused with "274.9 GB needed, 0.0 MB free" on a disk with 78 GB free."""
    import errno
    from types import SimpleNamespace

    from stemgui.errors import FileError

    path = tmp_path / "stems.f32"

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    def usage(folder):  # the partly reserved file holds all the room there was
        return SimpleNamespace(free=0 if path.exists() else 78 * 10**9)

    monkeypatch.setattr(spool.os, "posix_fallocate", full)
    monkeypatch.setattr(spool.shutil, "disk_usage", usage)
    with pytest.raises(FileError, match=r"\(275.0 GB needed, 78.0 GB free\)"):
        spool.reserved_memmap(path, (4, 2, 8_593_750_000))
    assert not path.exists()


def test_short_song_is_not_spooled(isolated, model_file, monkeypatch):
    outs = _record_outputs(monkeypatch)
    write_song(isolated / "a.wav")
    assert cli.main(["a.wav", "-n", str(model_file)]) == 0
    assert outs[0] is None and outs[1][0] is None  # the mix in RAM too


def test_released_pages_keep_their_data(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "_RELEASE_BYTES", 1)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 2, 50_000)).astype(np.float32)
    with spool.StemSpool(data.shape, folder=tmp_path) as stems:
        for stop in range(0, 50_001, 5000):
            stems.array[..., stop - 5000 if stop else 0 : stop] = data[
                ..., max(stop - 5000, 0) : stop
            ]
            stems.release(stop)
        np.testing.assert_array_equal(np.asarray(stems.array), data)
        folder = stems.folder
        assert folder.parent == tmp_path and folder.is_dir()
    assert not folder.exists()


@pytest.mark.parametrize("kind", ["spool", "npy"])
def test_pages_let_go_leave_memory_and_keep_their_data(tmp_path, kind):
    """The spool's stems (the map starts at the file's start) and the stem cache's .npy files
    (the array starts 128 bytes in): the pages outside what is kept leave the process's
    memory, and read again they hold the same data."""
    data = np.random.default_rng(1).standard_normal((2, 2, 40_000)).astype(np.float32)
    if kind == "spool":
        array = spool.reserved_memmap(tmp_path / "stems.f32", data.shape)
        array[:] = data
    else:
        np.save(tmp_path / "stems.npy", data)
        array = np.load(tmp_path / "stems.npy", mmap_mode="r")
    assert np.asarray(array).sum() == data.sum() and resident(array, 0, 40_000) == 1.0
    spool.release_outside(array, [(25_000, 27_000), (10_000, 20_000)], 30_000)
    assert resident(array, 0, 10_000) == 0.0 and resident(array, 21_000, 24_000) == 0.0
    assert resident(array, 10_000, 20_000) == 1.0 and resident(array, 25_000, 27_000) == 1.0
    assert resident(array, 28_000, 30_000) == 0.0 and resident(array, 30_000, 40_000) == 1.0
    spool.release_pages(array[1], 0, 40_000)  # a view: where it lies in the map is unknown
    assert resident(array, 30_000, 40_000) == 1.0
    np.testing.assert_array_equal(np.asarray(array), data)


def test_a_mix_exported_from_a_long_song_leaves_no_pages_behind(tmp_path):
    """The heard mix of a memory-mapped song is rendered through the mapping: each block's
    pages go once it is written (60 minutes read through would all count in the app's
    memory)."""
    from stemgui.export.exporter import ExportRequest, export
    from stemgui.stems.stemset import StemSet

    data = np.random.default_rng(2).standard_normal((4, 2, 100_000)).astype(np.float32) / 8
    array = spool.reserved_memmap(tmp_path / "stems.f32", data.shape)
    array[:] = data
    stemset = StemSet(NAMES, RATE, array)
    request = ExportRequest(
        folder=tmp_path / "out",
        stems=[],
        mix_gains=(1.0, 0.5, 0.0, 1.0),
        fmt=AudioFormat("wav", 32, float=True, clip="none"),
    )
    (path,) = export(stemset, request, "song", "tiny")
    assert resident(array, 0, 100_000) < 0.05
    written, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_allclose(written.T, data[0] + 0.5 * data[1] + data[3], atol=1e-6)


@pytest.mark.parametrize("kind", ["spool", "npy"])
def test_stems_export_from_a_file_deleted_meanwhile_and_leave_no_pages_behind(tmp_path, kind):
    """The app deletes a song's stems file once no row shows it (another song selected, the
    row removed, a cache entry evicted or cleared) while an export may still be reading it: the
    export reads through the mapping, which outlives the file (it opened the file by its name
    and failed with "the folder disappeared"), and lets go of the pages it read."""
    from stemgui.export.exporter import ExportRequest, export
    from stemgui.stems.stemset import StemSet

    data = np.random.default_rng(3).standard_normal((4, 2, 100_000)).astype(np.float32) / 8
    if kind == "spool":
        array = spool.reserved_memmap(tmp_path / "stems.f32", data.shape)
        array[:] = data
        (tmp_path / "stems.f32").unlink()
    else:
        np.save(tmp_path / "stems.npy", data)
        array = np.load(tmp_path / "stems.npy", mmap_mode="r")
        (tmp_path / "stems.npy").unlink()
    request = ExportRequest(
        folder=tmp_path / "out",
        stems=["bass", "vocals"],
        fmt=AudioFormat("wav", 32, float=True, clip="none"),
    )
    paths = export(StemSet(NAMES, RATE, array), request, "song", "tiny")
    assert resident(array, 0, 100_000) < 0.05
    for path, index in zip(paths, (1, 3), strict=True):
        written, _rate = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(written.T, data[index])


@pytest.mark.parametrize(
    "fmt",
    [
        AudioFormat("wav", 16),
        AudioFormat("wav", 24, clip="clamp"),
        AudioFormat("wav", 32, float=True, clip="none"),
        AudioFormat("flac", 16),
    ],
)
def test_block_writer_writes_what_write_audio_writes(tmp_path, fmt):
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((2, 2, 30_001)) * 0.7).astype(np.float32)
    data[1, 0, 17] = np.nan
    data[1, 1, 29_000] = np.inf
    memmap = np.memmap(tmp_path / "stems.f32", dtype=np.float32, mode="w+", shape=data.shape)
    memmap[...] = data
    memmap.flush()
    whole = write_audio(tmp_path / f"whole.{fmt.extension}", data[1], 44100, fmt)
    blocks = write_blocks(tmp_path / f"blocks.{fmt.extension}", stem_reader(memmap, 1), 2,
                          30_001, 44100, fmt, block_frames=4096)  # fmt: skip
    a, _ = sf.read(whole, dtype="float32")
    b, _ = sf.read(blocks, dtype="float32")
    np.testing.assert_array_equal(a, b)


def test_block_writer_mp3_and_existing_file(tmp_path):
    from stemgui.errors import EncodeError

    tone = np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100).astype(np.float32)
    data = np.stack([tone, tone])
    reader = lambda a, b: data[:, a:b]  # noqa: E731
    path = write_blocks(tmp_path / "x.mp3", reader, 2, 44100, 44100, AudioFormat("mp3"))
    info = sf.info(path)
    assert info.format == "MP3" and abs(info.frames - 44100) < 3000
    with pytest.raises(EncodeError, match="already exists"):
        write_blocks(path, reader, 2, 44100, 44100, AudioFormat("mp3"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp3"]


_HOUR_RUN = """
import sys
from stemgui import cli
from stemgui.separation import registry
from tests.reliability.helpers import TinyNet

registry.register("TinyNet", TinyNet)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_an_hour_separates_in_bounded_memory(tmp_path):
    """60 minutes through the command line (tiny model) in a child process: peak RSS under 3 GB
    (the mix alone is 1.3 GB of float32, the stems 5.1 GB), stems of the right length."""
    import os
    import subprocess
    import sys

    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model
    from tests.paths import ROOT
    from tests.reliability.corpus import write_long_flac
    from tests.reliability.helpers import TinyNet

    song = tmp_path / "hour.flac"
    write_long_flac(song, 3600.0)
    model = tmp_path / "tiny.stemgui"
    registry.register("TinyNet", TinyNet)
    try:
        save_model(TinyNet().eval(), model)
    finally:
        registry.unregister("TinyNet")
    env = dict(os.environ, STEMGUI_LOG_DIR=str(tmp_path / "logs"), OMP_NUM_THREADS="2")
    command = [sys.executable, "-c", _HOUR_RUN, str(song), "-n", str(model),
               "-o", str(tmp_path / "out"), "--two-stems", "vocals"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_maxrss < 3 * 1024 * 1024  # KiB
    for name in ("vocals", "no_vocals"):
        assert sf.info(tmp_path / "out" / "tiny" / "hour" / f"{name}.wav").frames == 3600 * 44100
    assert not list(tmp_path.glob("**/*.stemgui-part"))
