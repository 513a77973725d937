"""``stemgui-separate`` end to end with a tiny known-answer model (tests/cli/conftest.py), in
process: a batch run, what it says as it goes (lines, progress bars, the log), stopped and
finished with --skip-existing; and ``python -m stemgui``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from stemgui import __main__ as entry
from stemgui import cli
from stemgui.cli.batch import TrackRun
from stemgui.logs import LOG_FILE_NAME
from tests.reliability.helpers import FACTORS, NAMES, error_lines, read, write_song


def test_a_song_whose_files_exist_in_a_folder_that_cannot_be_written_is_skipped(
    tmp_path, model_file, monkeypatch, capsys
):
    """With --skip-existing nothing is written there: the folder's permissions do not matter."""
    from tests.fakes import unwritable

    write_song(tmp_path / "song.wav")
    folder = tmp_path / "separated" / "tiny" / "song"
    folder.mkdir(parents=True)
    for name in NAMES:
        (folder / f"{name}.wav").write_bytes(b"mine")
    unwritable(monkeypatch, folder)
    assert cli.main(["song.wav", "-n", str(model_file), "--skip-existing"]) == 0
    assert "song.wav: its 4 file(s) exist already; skipped" in capsys.readouterr().err


def test_python_m_stemgui_separate_dispatches(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    assert entry.main(["separate", "song.wav", "-n", str(model_file), "--two-stems", "bass"]) == 0
    assert sorted(p.name for p in (tmp_path / "separated/tiny/song").iterdir()) == [
        "bass.wav",
        "no_bass.wav",
    ]


def test_python_m_stemgui_opens_the_window_with_its_arguments(monkeypatch):
    import types

    calls = []
    fake = types.ModuleType("stemgui.ui.app")
    fake.main = lambda argv=None: calls.append(argv) or 7
    monkeypatch.setitem(sys.modules, "stemgui.ui.app", fake)
    assert entry.main(["song.mp3"]) == 7
    assert entry.main([]) == 7
    assert calls == [["song.mp3"], []]


def test_python_m_stemgui_without_the_window(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "stemgui.ui.app", None)  # the import fails as if absent
    assert entry.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "stemgui-separate" in err


def test_logging_setup_is_idempotent_and_quiet_without_verbose(tmp_path, capsys):
    import logging

    from stemgui.logs import setup_logging

    root, ours = logging.getLogger(), logging.getLogger("stemgui")
    before = (len(root.handlers), len(ours.handlers))
    path = setup_logging()
    once = (len(root.handlers), len(ours.handlers))
    assert setup_logging() == path == tmp_path / "logs" / LOG_FILE_NAME
    assert (len(root.handlers), len(ours.handlers)) == once == (before[0] + 1, before[1] + 1)
    logging.getLogger("stemgui.audio.encode").info("engine detail")
    logging.getLogger("stemgui.cli").info("front end news")
    logging.getLogger("stemgui.stems").warning("something odd")
    assert capsys.readouterr().err.splitlines() == ["front end news", "warning: something odd"]
    text = path.read_text(encoding="utf-8")
    assert "engine detail" in text and "front end news" in text and "something odd" in text


def test_a_file_name_that_is_not_utf_8_is_logged(tmp_path, capsys):
    """A Latin-1 "café.mp3" in a UTF-8 folder is "caf\\udce9.mp3" to Python: each line about
    it was lost from the log file, and "--- Logging error ---" and a traceback went to stderr."""
    import logging

    from stemgui.logs import setup_logging

    path = setup_logging(console=False)  # the terminal's stderr writes such bytes escaped
    logging.getLogger("stemgui.audio.decode").warning("%s: damaged", Path("caf\udce9.mp3"))
    assert "Logging error" not in capsys.readouterr().err
    assert "caf\\udce9.mp3: damaged" in path.read_text(encoding="utf-8")


def test_a_song_named_twice_is_separated_once_and_said(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    (tmp_path / "link.wav").symlink_to(tmp_path / "song.wav")
    assert cli.main(["link.wav", "song.wav", "-n", str(model_file)]) == 0
    err = capsys.readouterr().err
    assert "song.wav: the same file as link.wav; separated once, as link.wav" in err
    assert sorted(p.name for p in (tmp_path / "separated" / "tiny").iterdir()) == ["link"]
    assert cli.main(["song.wav", "song.wav", "-n", str(model_file)]) == 0
    assert "song.wav: given twice; separated once, as song.wav" in capsys.readouterr().err


def test_a_batch_without_a_terminal_says_which_song_runs_and_ends_with_a_summary(
    tmp_path, model_file, capsys
):
    """Without a TTY (no progress bar) a log showed nothing while a song ran, nor how many were
    left, and a run that went well ended without a word on what it did."""
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    assert cli.main(["album", "-n", str(model_file), "-o", "out"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == [
        "album/one.wav: separating (1 of 2)",
        "album/one.wav: 4 file(s) in out/tiny/one",
        "album/two.wav: separating (2 of 2)",
        "album/two.wav: 4 file(s) in out/tiny/two",
        f"done: 2 track(s) separated into {tmp_path / 'out'}",
    ], lines


def test_a_batch_stopped_half_way_is_finished_by_a_rerun_with_skip_existing(
    tmp_path, model_file, monkeypatch, capsys
):
    """After Ctrl-C the rerun failed on every song finished before it ("exists already"; exit 1)
    and --overwrite separated them all again: no way to do just the rest."""
    songs = [write_song(tmp_path / "album" / f"{name}.wav", seed=i)
             for i, name in enumerate(["one", "two"])]  # fmt: skip
    real = TrackRun.__call__

    def stop_at_two(self, track):
        if track.name == "two.wav":
            raise KeyboardInterrupt
        return real(self, track)

    monkeypatch.setattr(TrackRun, "__call__", stop_at_two)
    argv = ["album", "-n", str(model_file), "--float32"]
    assert cli.main(argv) == 130
    assert "run again with --skip-existing to separate the rest" in capsys.readouterr().err
    monkeypatch.setattr(TrackRun, "__call__", real)
    one = tmp_path / "separated" / "tiny" / "one" / "vocals.wav"
    one.write_bytes(b"kept")  # not written again
    assert cli.main([*argv, "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert error_lines(err) == []
    assert "album/one.wav: its 4 file(s) exist already; skipped" in err
    assert one.read_bytes() == b"kept"
    two = tmp_path / "separated" / "tiny" / "two"
    np.testing.assert_allclose(read(two / "vocals.wav"), 0.0625 * songs[1], atol=1e-6)
    with pytest.raises(SystemExit) as caught:  # skip and replace: one or the other
        cli.main([*argv, "--skip-existing", "--overwrite"])
    assert caught.value.code == 2


def test_skip_existing_writes_the_files_a_stopped_song_did_not(tmp_path, model_file, capsys):
    """A batch stopped while a song's files were being written left some of them; the rerun
    with --skip-existing separated that song and then refused it ("exists already"; exit 1), so
    the song could only be finished by --overwrite, which separates every song again."""
    song = write_song(tmp_path / "album" / "one.wav", seed=0)
    folder = tmp_path / "separated" / "tiny" / "one"
    folder.mkdir(parents=True)
    (folder / "drums.wav").write_bytes(b"kept")
    argv = ["album", "-n", str(model_file), "--float32", "--skip-existing"]
    assert cli.main(argv) == 0
    assert error_lines(capsys.readouterr().err) == []
    assert (folder / "drums.wav").read_bytes() == b"kept"
    np.testing.assert_allclose(read(folder / "vocals.wav"), 0.0625 * song, atol=1e-6)
    assert sorted(p.name for p in folder.iterdir()) == [
        "bass.wav",
        "drums.wav",
        "other.wav",
        "vocals.wav",
    ]


def test_skip_existing_skips_a_song_whose_files_are_there_a_link_to_nothing_too(
    tmp_path, model_file, capsys
):
    """A file that is a link to nothing was kept by the export, as it is, but the song was
    separated first all the same, for no file: "one.wav: 0 file(s) in ", counted separated."""
    write_song(tmp_path / "album" / "one.wav")
    argv = ["album", "-n", str(model_file)]
    assert cli.main(argv) == 0
    vocals = tmp_path / "separated" / "tiny" / "one" / "vocals.wav"
    vocals.unlink()
    vocals.symlink_to(tmp_path / "gone.wav")
    capsys.readouterr()
    assert cli.main([*argv, "--skip-existing"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == [
        "album/one.wav: its 4 file(s) exist already; skipped",
        f"done: 0 track(s) separated into {tmp_path / 'separated'}; 1 skipped, their files exist "
        "already",
    ], lines
    assert vocals.is_symlink()


@pytest.mark.parametrize("meanwhile", [["vocals"], NAMES])
def test_skip_existing_keeps_files_another_run_writes_meanwhile(
    tmp_path, model_file, monkeypatch, capsys, meanwhile
):
    """Two runs with --skip-existing over one batch (two machines, one shared folder): the
    files one wrote while the other separated the same song failed the other's song ("another
    program or export wrote this file meanwhile; export again and pass --overwrite")."""
    import stemgui.audio.stream as stream

    song = write_song(tmp_path / "album" / "one.wav")
    real = stream.write_blocks

    def another_run_too(path, *args, **kwargs):
        real(path, *args, **kwargs)
        if path.stem in meanwhile:
            path.write_bytes(b"the other run's")

    monkeypatch.setattr(stream, "write_blocks", another_run_too)
    assert cli.main(["album", "-n", str(model_file), "--float32", "--skip-existing"]) == 0
    lines = capsys.readouterr().err.splitlines()
    folder = tmp_path / "separated" / "tiny" / "one"
    said = f"{len(NAMES) - len(meanwhile)} file(s) in separated/tiny/one"
    if len(meanwhile) == len(NAMES):
        said = "its files were written meanwhile, by another run; kept"
    assert lines[2] == f"album/one.wav: {said}", lines
    for name in NAMES:
        if name in meanwhile:
            assert (folder / f"{name}.wav").read_bytes() == b"the other run's"
        else:
            np.testing.assert_allclose(
                read(folder / f"{name}.wav"), FACTORS[NAMES.index(name)] * song, atol=1e-6
            )
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.wav" for n in NAMES)


def test_a_warning_during_the_progress_bar_gets_a_line_of_its_own(
    tmp_path, model_file, monkeypatch
):
    """On a terminal a warning logged while a song ran (a --segment capped, an out-of-memory
    retry) was written after the bar on its line: "1.wav: 0%| | 0/2.0 [...]warning: ..."."""
    import io

    from stemgui.separation.separator import Separator

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    real = Separator.separate

    def separate(self, *args, **kwargs):
        logging.getLogger("stemgui.separation.separator").warning("something to know")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Separator, "separate", separate)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == 0
    text = terminal.getvalue()
    assert "song.wav (1 of 1):   0%|" in text  # the bar was drawn
    pieces = text.replace("\r", "\n").splitlines()
    said = [p for p in pieces if "something to know" in p]
    assert said == ["warning: song.wav: something to know"], pieces


def test_the_progress_bar_says_which_song_of_how_many(tmp_path, model_file, monkeypatch):
    """On a terminal the bar said "two.wav: 40%" and nothing of the batch: song 2 of 2, or 2 of
    200, looked the same."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    assert cli.main(["album", "-n", str(model_file)]) == 0
    text = terminal.getvalue()
    assert "one.wav (1 of 2):   0%|" in text and "two.wav (2 of 2):   0%|" in text, text
    assert "separating (" not in text  # the bar says it: no line of its own


def test_tqdm_progress_draws_the_byte_count_on_a_terminal_only(capsys, monkeypatch):
    """Piped to a file, the bar filled the log with redraws, glued to the next warning."""
    from stemgui.cli.progress import tqdm_progress

    for terminal in (True, False):
        monkeypatch.setattr(sys.stderr, "isatty", lambda terminal=terminal: terminal)
        with tqdm_progress("htdemucs") as progress:
            progress(0, 2048)
            progress(1024, 2048)
            progress(2048, 2048)
        drawn = capsys.readouterr().err
        assert ("htdemucs" in drawn and "2.00k/2.00k" in drawn) if terminal else drawn == ""


@pytest.mark.parametrize(
    ("rows", "width", "columns", "bar"),
    [
        (24, 0, None, False),
        (24, 0, "0", False),
        (24, 0, "60", True),
        (24, 80, None, True),
        (0, 0, "60", True),  # a pty made without a size (script): no bar and no line was shown
    ],
)
def test_a_terminal_without_columns_gets_a_line_per_song(
    tmp_path, model_file, monkeypatch, rows, width, columns, bar
):
    """On a terminal of 0 columns (a serial console, a pty made without a size) tqdm drew its
    bar one column short of nothing, cut off; the songs' lines were not said either, as on a
    terminal. Such a terminal gets the lines; COLUMNS, when set above 0, gives the width."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    main_fd, terminal_fd = pty.openpty()
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, width, 0, 0))
    terminal = open(terminal_fd, "w", buffering=1, encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stderr", terminal)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    for i, name in enumerate(["one", "two"]):
        write_song(tmp_path / "album" / f"{name}.wav", seed=i)
    try:
        assert cli.main(["album", "-n", str(model_file)]) == 0
        terminal.flush()
        os.set_blocking(main_fd, False)
        text = os.read(main_fd, 1 << 16).decode()
    finally:
        terminal.close()
        os.close(main_fd)
    lines = text.replace("\r\n", "\n").split("\n")
    drawn = [line for line in text.split("\r") if "two.wav (2 of 2):   0%|" in line]
    if bar:
        assert drawn and drawn[0].endswith("s/s]"), text  # whole, to its last column
        assert len(drawn[0]) == (int(columns) if columns else width) - 1
        assert "album/two.wav: separating (2 of 2)" not in lines
    else:
        assert not drawn and "%|" not in text, text
        assert "album/two.wav: separating (2 of 2)" in lines, text
