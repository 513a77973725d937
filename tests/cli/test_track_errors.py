"""``stemgui-separate`` when a track or the model fails: one line each that says what to do, the
other tracks still run, and the batch ends with its summary."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from stemgui import cli
from stemgui.logs import LOG_FILE_NAME
from stemgui.separation.checkpoint import save_model
from tests.pipes import without_waiting
from tests.reliability.helpers import FACTORS, NAMES, TinyNet, error_lines, read, write_song


def test_good_and_corrupt_track(tmp_path, model_file, capsys):
    good = write_song(tmp_path / "in" / "good.wav")
    bad = tmp_path / "in" / "bad.mp3"
    bad.write_bytes(b"\xff\xfb\x90" + bytes(range(256)) * 8)
    status = cli.main([str(bad), str(tmp_path / "in" / "good.wav"), "-n", str(model_file),
                       "--float32"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1
    bad_lines = [line for line in err.splitlines() if "bad.mp3" in line]
    assert len(bad_lines) == 1, err
    assert bad_lines[0].startswith("error:")
    assert "Traceback" not in err
    out = tmp_path / "separated" / "tiny" / "good"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.wav" for n in NAMES)
    for name, factor in zip(NAMES, FACTORS):
        np.testing.assert_allclose(read(out / f"{name}.wav"), factor * good, atol=1e-6)
    assert not (tmp_path / "separated" / "tiny" / "bad").exists()
    log = (tmp_path / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "Traceback" in log and "bad.mp3" in log


def test_a_link_that_loops_back_on_itself_is_said_so_with_what_to_do(tmp_path, model_file, capsys):
    """A folder given that loops back on itself through links (a link to a link to it) said
    "cannot be read: Too many levels of symbolic links", nothing to do about it: it says the
    link loops, where to, and what to do, for a link on the way to a song too."""
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    (tmp_path / "album").symlink_to("album")
    song = tmp_path / "album" / "one.wav"
    assert cli.main(["a", str(song), "-n", str(model_file)]) == 1
    todo = "give the folder or song it was meant for instead, or fix or remove the link"
    assert error_lines(capsys.readouterr().err)[:2] == [
        f"error: a: is a link that loops back on itself (to b); {todo}",
        f"error: {song}: cannot be reached: {tmp_path / 'album'} is a link that loops back on "
        f"itself (to album); {todo}",
    ]


def test_verbose_shows_the_traceback(tmp_path, model_file, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all")
    assert cli.main([str(bad), "-n", str(model_file), "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_missing_track_folder_without_songs_and_missing_model(tmp_path, model_file, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["nowhere.wav", "empty", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "nowhere.wav" in line]) == 1
    assert "empty: no audio files in this folder; name the songs, or a folder that holds" in err
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(tmp_path / "absent.stemgui")]) == 1
    assert len(error_lines(capsys.readouterr().err)) == 1
    assert cli.main(["song.wav", "-n", str(tmp_path / "empty")]) == 1
    (line,) = error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: {tmp_path / 'empty'}: is a folder; name a model file in it")
    assert cli.main(["song.wav", "-n", "empty"]) == 1  # relative: said "no model named"
    (line,) = error_lines(capsys.readouterr().err)
    assert line.startswith("error: empty: is a folder; name a model file in it")


def test_only_folders_without_songs_end_with_the_batch_summary(tmp_path, model_file, capsys):
    """Given only an empty folder, the run said "empty: no audio files in this folder" and
    stopped there, without the summary every other failed batch ends with."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "bare").mkdir()
    assert cli.main(["empty", "bare", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[:2] == [  # what was wrong, not what to do: now both
        "error: empty: no audio files in this folder; name the songs, or a folder that holds some",
        "error: bare: no audio files in this folder; name the songs, or a folder that holds some",
    ]
    assert len(lines) == 3 and lines[2].startswith("error: 2 of 2 track(s) failed; details in ")


def test_a_track_or_model_whose_name_is_too_long_is_one_line_and_the_others_run(
    tmp_path, model_file, capsys
):
    """A name over 255 bytes (a paste gone wrong): "OSError: File name too long" from pathlib's
    is_dir was a traceback, and no song of the batch was separated."""
    write_song(tmp_path / "song.wav")
    long = "x" * 300 + ".wav"
    assert cli.main([long, "song.wav", "-n", str(model_file)]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[0] == f"error: {long}: cannot be read: File name too long"
    assert len(lines) == 2 and lines[1].startswith("error: 1 of 2 track(s) failed")
    assert (tmp_path / "separated" / "tiny" / "song" / "bass.wav").is_file()
    for name in ("x" * 300 + ".stemgui", "x" * 300):  # a model file, a name in the store
        assert cli.main(["song.wav", "-n", name, "--overwrite"]) == 1
        (line,) = error_lines(capsys.readouterr().err)
        assert line.startswith(f"error: {name}: ")


def test_a_model_or_track_error_of_several_lines_is_said_on_one(
    tmp_path, model_file, monkeypatch, capsys
):
    """A bag file that is not YAML was said over five lines (the parser's, down to a lone
    "^"), and a track's error of several lines (torch's) as many: one line each is promised."""
    from stemgui.separation.separator import Separator

    write_song(tmp_path / "song.wav")
    (tmp_path / "bag.yaml").write_text("models: [\n", encoding="utf-8")
    assert cli.main(["song.wav", "-n", "bag.yaml"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "error: bag.yaml: bag file is not readable YAML: line 2, column 1: expected the node "
        "content, but found '<stream end>'; correct it, or download it again"
    )

    def fail(self, *args, **kwargs):
        raise RuntimeError("the kernel failed\n\n  on this input\n")

    monkeypatch.setattr(Separator, "separate", fail)
    assert cli.main(["song.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: song.wav: unexpected error (RuntimeError: the kernel failed on this input), "
        f"a fault in stemgui. Details are in the log file {tmp_path / 'logs' / LOG_FILE_NAME}."
    )


def test_a_bug_exporting_one_track_is_one_line_and_the_other_tracks_run(
    tmp_path, model_file, monkeypatch, capsys
):
    """An IndexError while exporting a.wav ended the batch with a traceback, b.wav never
    tried: only RuntimeError, MemoryError, ValueError and OSError were caught per track."""
    from stemgui.export import exporter

    export = exporter.export

    def buggy(stems, request, track, *args, **kwargs):
        if Path(track).name == "a.wav":
            raise IndexError("list index out of range")
        return export(stems, request, track, *args, **kwargs)

    monkeypatch.setattr(exporter, "export", buggy)
    write_song(tmp_path / "a.wav")
    write_song(tmp_path / "b.wav")
    assert cli.main(["a.wav", "b.wav", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    log_file = tmp_path / "logs" / LOG_FILE_NAME
    assert "Traceback" not in err
    assert error_lines(err) == [
        "error: a.wav: unexpected error (IndexError: list index out of range), a fault in "
        f"stemgui. Details are in the log file {log_file}.",
        f"error: 1 of 2 track(s) failed; details in {log_file}",
    ]
    assert "IndexError: list index out of range" in log_file.read_text(encoding="utf-8")
    assert not (tmp_path / "separated" / "tiny" / "a").exists()
    assert (tmp_path / "separated" / "tiny" / "b" / "vocals.wav").is_file()


def test_a_track_that_runs_out_of_memory_says_so(tmp_path, model_file, monkeypatch, capsys):
    """Said as the app says it, how to make room; not a fault of stemgui's."""
    from stemgui.separation.separator import Separator

    def greedy(self, *args, **kwargs):
        return np.empty(2**62, dtype=np.uint8)  # numpy's MemoryError: more than any machine has

    monkeypatch.setattr(Separator, "separate", greedy)
    write_song(tmp_path / "a.wav")
    assert cli.main(["a.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: a.wav: not enough memory to separate this song. Close other programs, then retry."
    )


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_or_an_exit_while_exporting_still_stops_the_batch(
    tmp_path, model_file, monkeypatch, stop
):
    """A bug in one track lets the next run; Ctrl-C and an exit are no bug: they end the run."""
    from stemgui.export import exporter

    tried = []

    def stopped(stems, request, track, *args, **kwargs):
        tried.append(Path(track).name)
        raise stop()

    monkeypatch.setattr(exporter, "export", stopped)
    write_song(tmp_path / "a.wav")
    write_song(tmp_path / "b.wav")
    if stop is SystemExit:
        with pytest.raises(SystemExit):
            cli.main(["a.wav", "b.wav", "-n", str(model_file)])
    else:
        assert cli.main(["a.wav", "b.wav", "-n", str(model_file)]) == 130
    assert tried == ["a.wav"]


def test_a_model_whose_network_cannot_run_is_named(tmp_path, model_file, monkeypatch, capsys):
    """'separation failed (RuntimeError: The size of tensor a (28) must match ...)' blamed the
    song for a network whose shapes do not line up: the model is named, and what to do."""
    from stemgui.errors import ModelRunError
    from stemgui.separation.separator import Separator

    def fail(self, *args, **kwargs):
        raise ModelRunError(
            "the model's TinyNet network cannot separate any song (x); choose another model"
        )

    monkeypatch.setattr(Separator, "separate", fail)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == 1
    assert error_lines(capsys.readouterr().err)[0] == (
        "error: song.wav: model tiny: the model's TinyNet network cannot separate any song (x); "
        "choose another model with -n"
    )


def test_a_model_whose_network_cannot_run_stops_the_batch(
    tmp_path, model_file, monkeypatch, capsys
):
    """Every track after the first failed alike, each said as its own failure: the batch stops
    at the first, saying the tracks not tried and to choose another model."""
    from stemgui.errors import ModelRunError
    from stemgui.separation.separator import Separator

    tried = []

    def fail(self, *args, **kwargs):
        tried.append(1)
        raise ModelRunError(
            "the model's TinyNet network cannot separate any song (x); choose another model"
        )

    monkeypatch.setattr(Separator, "separate", fail)
    for name in ("a", "b", "c"):
        write_song(tmp_path / f"{name}.wav")
    assert cli.main(["a.wav", "b.wav", "c.wav", "-n", str(model_file)]) == 1
    assert len(tried) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines[:2] == [
        "error: a.wav: model tiny: the model's TinyNet network cannot separate any song (x); "
        "choose another model with -n",
        "error: the 2 track(s) after a.wav were not tried: model tiny would fail them alike",
    ]
    assert lines[-1].startswith("error: 1 of 3 track(s) failed")


def test_unknown_two_stems_name_fails_once(tmp_path, model_file, capsys):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", "piano"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines == [
        "error: --two-stems piano: model tiny: there is no stem 'piano'; the stems are drums, "
        "bass, other, vocals"
    ]
    assert not (tmp_path / "separated").exists()
    assert cli.main(["song.wav", "-n", str(model_file), "--two-stems", ""]) == 1
    assert error_lines(capsys.readouterr().err)[0].startswith("error: --two-stems '': model tiny:")


def test_two_stems_vocals_with_a_model_without_vocals_names_the_model(tmp_path, capsys):
    """The app gives such a model's stems with a note; the CLI refuses before separating,
    naming the model and its stems (it named neither the model nor why)."""
    write_song(tmp_path / "song.wav")
    model = tmp_path / "rhythm.stemgui"
    save_model(TinyNet(sources=("drums", "bass"), factors=(0.5, 0.25)).eval(), model)
    assert cli.main(["song.wav", "-n", str(model), "--two-stems", "vocals"]) == 1
    assert error_lines(capsys.readouterr().err) == [
        "error: --two-stems vocals: model rhythm: there is no stem 'vocals'; the stems are drums, "
        "bass"
    ]
    assert not (tmp_path / "separated").exists()


def test_a_link_loop_in_a_folder_is_one_error_line_and_the_other_songs_run(
    tmp_path, model_file, capsys
):
    """Path.resolve raised RuntimeError on a link loop (Python < 3.13): a traceback, and not
    one song of the batch separated."""
    album = tmp_path / "album"
    album.mkdir()
    write_song(album / "01.wav")
    (album / "self.mp3").symlink_to(album / "self.mp3")
    assert cli.main(["album", "-n", str(model_file)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "self.mp3" in err
    assert (tmp_path / "separated" / "tiny" / "01" / "vocals.wav").is_file()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_in_a_folder_is_left_out_and_one_named_is_refused(tmp_path, model_file, capsys):
    """A named pipe in a folder was a song that failed (exit status 1); one named by itself
    is refused in words, unopened, and the other songs run."""
    write_song(tmp_path / "album" / "01.wav")
    pipes = (tmp_path / "album" / "02.wav", tmp_path / "pipe.mp3")
    for pipe in pipes:
        os.mkfifo(pipe)
    assert without_waiting(lambda: cli.main(["album", "-n", str(model_file)]), *pipes) == 0
    assert "album/02.wav: left out: not a regular file" in capsys.readouterr().err
    again = ["pipe.mp3", "album", "-n", str(model_file), "--overwrite"]
    assert without_waiting(lambda: cli.main(again), *pipes) == 1
    assert error_lines(capsys.readouterr().err) == [
        "error: pipe.mp3: is not a regular file (a named pipe, a socket or a device); choose an "
        "audio file",
        "error: 1 of 2 track(s) failed; details in " + str(tmp_path / "logs" / LOG_FILE_NAME),
    ]
    assert (tmp_path / "separated" / "tiny" / "01" / "vocals.wav").is_file()
