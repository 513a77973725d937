"""Faults around a command-line run: full disk, read-only or vanishing output folder, SIGKILL,
Ctrl-C and cancel, a damaged model, a GPU out of memory. Always a clear error and never a
partial file under a final name.

Covered elsewhere and not repeated here: existing outputs kept without ``--overwrite``
(tests/cli/test_output_folder.py::test_existing_stems_are_kept_unless_overwrite,
tests/export/test_exporter_overwrite.py::test_existing_targets_refuse_everything_and_are_listed),
ENOSPC and read-only folders in ``write_audio`` (tests/audio/test_encode_failures.py), tampered,
truncated and pickled checkpoints (tests/separation/test_checkpoint_files.py,
tests/separation/test_official_refused.py),
cancel between chunks (tests/separation/test_separator.py::test_cancel_after_k_chunks).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from stemgui import cli
from stemgui.audio.atomic import PART_MARKER
from stemgui.errors import SeparationCancelled
from stemgui.separation import memory_fallback
from stemgui.separation import separator as separator_module
from tests.export.export_rig import files_under
from tests.paths import ROOT
from tests.reliability.helpers import (
    NAMES,
    error_lines,
    expected_stems,
    read,
    stem_folder,
    write_song,
)


def parts_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if PART_MARKER in p.name]


def failing_write(monkeypatch, fail_on: int, error: BaseException, before=None):
    """Make soundfile's block write raise ``error`` on its ``fail_on``-th call (1-based)."""
    real = sf.SoundFile.write
    calls = []

    def write(self, data):
        calls.append(self.name)
        if len(calls) == fail_on:
            if before is not None:
                before()
            raise error
        return real(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write)
    return calls


def test_disk_full_during_export_fails_that_track_only(isolated, model_file, monkeypatch, capsys):
    first = write_song(isolated / "a.wav", seed=1)
    write_song(isolated / "b.wav", seed=2)
    calls = failing_write(monkeypatch, 6, OSError(errno.ENOSPC, "No space left on device"))
    assert cli.main(["a.wav", "b.wav", "-n", str(model_file), "--float32"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(calls) == 6  # a: 4 stems, b: the second stem fails
    assert lines[0] == (
        f"error: b.wav: {Path('separated/tiny/b/bass.wav')}: could not be written: the disk is "
        "full; free some space or choose another folder"
    )
    assert len(lines) == 2 and lines[1].startswith("error: 1 of 2 track(s) failed")
    assert files_under(isolated / "separated") == [f"tiny/a/{n}.wav" for n in sorted(NAMES)]
    for name, stem in zip(NAMES, expected_stems(first)):
        np.testing.assert_allclose(
            read(stem_folder(isolated, "a") / f"{name}.wav"), stem, atol=1e-6
        )


def test_read_only_output_folder(isolated, model_file, capsys):
    """A real read-only place even for root: sysfs refuses to create folders."""
    write_song(isolated / "a.wav")
    target = Path("/sys/stemgui-test-output")
    if not Path("/sys").is_dir() or not _sysfs_refuses(target):
        pytest.skip("no read-only file system here")
    with pytest.raises(SystemExit) as caught:  # root passes os.access there: tried for real
        cli.main(["a.wav", "-n", str(model_file), "-o", str(target)])
    assert caught.value.code == 2  # before the model loads, not after the separation
    assert "/sys cannot be written; name a folder you can write to" in capsys.readouterr().err
    assert not target.exists()


def _sysfs_refuses(target: Path) -> bool:
    try:
        target.mkdir()
    except OSError:
        return True
    target.rmdir()
    return False


def test_read_only_output_folder_simulated(isolated, model_file, monkeypatch, capsys):
    write_song(isolated / "a.wav")
    failing_write(monkeypatch, 1, PermissionError(errno.EROFS, "Read-only file system"))
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert "is not writable; choose another folder or change its permissions" in lines[0]
    assert files_under(isolated / "separated") == []


def test_output_folder_deleted_mid_export(isolated, model_file, monkeypatch, capsys):
    write_song(isolated / "a.wav")
    out = isolated / "separated"

    def delete_folder():
        shutil.rmtree(out)

    real = sf.SoundFile.write
    calls = []

    def write(self, data):  # the third stem's writer finds its folder gone
        calls.append(1)
        if len(calls) == 3:
            delete_folder()
        return real(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write)
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 2 and lines[0].startswith("error: a.wav: ")
    assert "could not be written" in lines[0]
    assert not out.exists() or files_under(out) == []


def test_interrupt_during_export_leaves_no_partial_set(isolated, model_file, monkeypatch, capsys):
    """Ctrl-C while the third stem is written: the two finished stems are removed too."""
    write_song(isolated / "a.wav")
    failing_write(monkeypatch, 3, KeyboardInterrupt())
    assert cli.main(["a.wav", "-n", str(model_file)]) == 130
    assert "interrupted; files being written were discarded" in capsys.readouterr().err
    assert files_under(isolated / "separated") == []


@pytest.mark.parametrize("name, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_kill_or_a_closed_terminal_during_export_leaves_no_stems(
    isolated, model_file, monkeypatch, capsys, name, status
):
    """SIGTERM or SIGHUP while the third stem is written: handled as Ctrl-C, so the next run
    does not find two stems "existing already" and refuse."""
    number = getattr(signal, name)
    write_song(isolated / "a.wav")
    before = signal.signal(number, signal.SIG_DFL)  # as in a terminal, whatever runs the tests
    try:
        failing_write(
            monkeypatch, 3, RuntimeError("not reached"), lambda: os.kill(os.getpid(), number)
        )
        assert cli.main(["a.wav", "-n", str(model_file)]) == status
        assert "interrupted; files being written were discarded" in capsys.readouterr().err
        assert files_under(isolated / "separated") == []
        assert signal.getsignal(number) is signal.SIG_DFL  # given back
    finally:
        signal.signal(number, before)


def test_a_hangup_ignored_on_purpose_stays_ignored(isolated, model_file, monkeypatch):
    """`nohup stemgui-separate ...`: the terminal closing does not stop the run."""
    write_song(isolated / "a.wav")
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        real, writes = sf.SoundFile.write, []

        def write(self, data):  # the terminal closes while the third stem is written
            writes.append(self.name)
            if len(writes) == 3:
                os.kill(os.getpid(), signal.SIGHUP)
            return real(self, data)

        monkeypatch.setattr(sf.SoundFile, "write", write)
        assert cli.main(["a.wav", "-n", str(model_file)]) == 0
        assert len(files_under(isolated / "separated")) == 4
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_cancel_during_export_leaves_nothing(isolated, model_file, monkeypatch):
    """A cancel between two files (the app's worker) removes the files this export wrote."""
    import stemgui.audio.stream as stream
    from stemgui.export.exporter import ExportRequest, export
    from stemgui.stems.stemset import StemSet

    real = stream.write_blocks
    calls = []

    def cancel_third(path, *args, **kwargs):  # the worker's cancel, seen between two files
        calls.append(path)
        if len(calls) == 3:
            raise SeparationCancelled("export cancelled")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", cancel_third)
    stems = StemSet(NAMES, 44100, np.zeros((4, 2, 100), np.float32))
    with pytest.raises(SeparationCancelled):
        export(stems, ExportRequest(folder=isolated / "out"), "song", "tiny")
    assert len(calls) == 3
    assert files_under(isolated / "out") == []


def test_cancel_during_separation_removes_the_spool(isolated, model_file, monkeypatch):
    """The spool of a long song is removed when the separation is cancelled."""
    from stemgui import spool

    monkeypatch.setattr(spool, "SPOOL_THRESHOLD_SECONDS", 0.1)
    monkeypatch.setattr(spool.tempfile, "tempdir", str(isolated / "tmp"))
    (isolated / "tmp").mkdir()
    write_song(isolated / "a.wav", seconds=3.0)
    real = separator_module.Separator._separate_chunk
    seen = []

    def cancel_on_third(self, *args):
        seen.append(sorted(p.name for p in (isolated / "tmp").iterdir()))
        if len(seen) == 3:
            raise SeparationCancelled("cancelled")
        return real(self, *args)

    monkeypatch.setattr(separator_module.Separator, "_separate_chunk", cancel_on_third)
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    assert len(seen[0]) == 1 and seen[0][0].startswith(f"stemgui-spool-{os.getpid()}-")
    assert list((isolated / "tmp").iterdir()) == []
    assert not (isolated / "separated").exists()


# -- SIGKILL ---------------------------------------------------------------------------------

_SLOW_WRITER = """
import sys, time
import numpy as np
import soundfile as sf
from stemgui.audio.encode import AudioFormat, write_audio

real = sf.SoundFile.write
def slow(self, data):
    real(self, data)
    time.sleep(0.05)
sf.SoundFile.write = slow
samples = np.zeros((2, 44100 * 600), np.float32)  # ten minutes: hundreds of blocks
write_audio(sys.argv[1], samples, 44100, AudioFormat())
"""


def test_sigkill_mid_export_leaves_only_parts_cleaned_next_start(isolated, model_file, capsys):
    out = isolated / "separated" / "tiny" / "a"
    out.mkdir(parents=True)
    target = out / "vocals.wav"
    process = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)],
                               cwd=ROOT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not parts_under(out) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)  # a few blocks in
        assert process.poll() is None, "the writer ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    [part] = parts_under(out)
    assert part.stat().st_size > 0 and not target.exists()

    old = time.time() - 3600
    os.utime(part, (old, old))  # untouched for an hour: no writer owns it any more
    write_song(isolated / "b.wav")
    assert cli.main(["b.wav", "-n", str(model_file)]) == 0
    assert parts_under(isolated / "separated") == []
    assert files_under(out) == []


def test_recent_parts_of_a_running_write_are_spared(isolated, model_file):
    out = isolated / "separated" / "tiny" / "x"
    out.mkdir(parents=True)
    fresh = out / f".vocals.wav.0123abcd{PART_MARKER}"
    fresh.write_bytes(b"being written")
    write_song(isolated / "b.wav")
    assert cli.main(["b.wav", "-n", str(model_file)]) == 0
    assert fresh.exists()


def test_stale_spool_of_a_dead_process_is_removed(tmp_path):
    from stemgui.spool import SPOOL_PREFIX, clean_stale_spools

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f"{SPOOL_PREFIX}{dead.stdout.strip()}-abc"
    alive = tmp_path / f"{SPOOL_PREFIX}{os.getpid()}-def"
    for folder in (stale, alive):
        folder.mkdir()
        (folder / "stems.f32").write_bytes(b"\0" * 16)
    assert clean_stale_spools(tmp_path) == [stale]
    assert not stale.exists() and alive.exists()


# -- model and device ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_model_file_is_refused_in_one_line(isolated, model_file, damage, capsys):
    data = bytearray(model_file.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    from stemgui.separation.hashing import file_sha256

    model_file.write_bytes(bytes(data))
    # with its sha256 in the name (as the store names files), a flipped byte is caught too
    named = model_file.with_name(f"tiny-{file_sha256(model_file)[:8]}.stemgui")
    if damage == "flip":
        named = model_file.with_name("tiny-0badc0de.stemgui")
    model_file.rename(named)
    write_song(isolated / "a.wav")
    assert cli.main(["a.wav", "-n", str(named)]) == 1
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1 and named.name in lines[0] and "Traceback" not in err
    assert not (isolated / "separated").exists()


@pytest.fixture
def gpu_that_runs_out(monkeypatch):
    """The separator believes it runs on CUDA; the first two chunks run out of memory."""
    monkeypatch.setattr(separator_module, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(memory_fallback, "to_device", lambda obj, device: obj)
    real = separator_module.Separator._separate_chunk
    failures = []

    def chunk(self, net, buffer, start, stop, *args):
        if len(failures) < 2:
            failures.append(stop - start)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, net, buffer, start, stop, *args)

    monkeypatch.setattr(separator_module.Separator, "_separate_chunk", chunk)
    return failures


def test_gpu_out_of_memory_retries_and_says_so_once(isolated, model_file, gpu_that_runs_out,
                                                     capsys):  # fmt: skip
    mix = write_song(isolated / "a.wav", seconds=1.5)
    assert cli.main(["a.wav", "-n", str(model_file), "--float32"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "out of memory" in line.lower()]
    assert gpu_that_runs_out == [44100, 22050]  # full chunk, then half as long
    assert len(warnings) == 2, err
    assert warnings[0].startswith("warning: a.wav: The GPU ran out of memory; retrying with chunks")
    assert warnings[1].startswith(
        "warning: a.wav: The GPU ran out of memory; separating on the CPU"
    )
    for name, stem in zip(NAMES, expected_stems(mix)):
        np.testing.assert_allclose(
            read(stem_folder(isolated, "a") / f"{name}.wav"), stem, atol=1e-6
        )


def test_threads_are_not_left_behind(isolated, model_file):
    before = threading.active_count()
    write_song(isolated / "a.wav")
    assert cli.main(["a.wav", "-n", str(model_file)]) == 0
    assert threading.active_count() == before
