"""``stemgui-separate``'s models: -n by file, name or official name, --list-models, the bundled
default, downloads of official models and their interruptions."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from stemgui import cli
from stemgui.separation.hashing import file_sha256
from tests.reliability.helpers import error_lines, read, write_song


def test_hashed_model_file_name_gives_the_plain_model_folder(tmp_path, model_file, capsys):
    hashed = model_file.with_name(f"tiny-{file_sha256(model_file)[:8]}.stemgui")
    model_file.rename(hashed)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(hashed), "--two-stems", "drums"]) == 0
    assert (tmp_path / "separated/tiny/song/no_drums.wav").is_file()
    tampered = hashed.with_name("tiny-00000000.stemgui")
    hashed.rename(tampered)
    assert cli.main(["song.wav", "-n", str(tampered), "--overwrite"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "tiny-00000000.stemgui" in lines[0]


def test_list_models_prints_bundled_default_and_official(bundled, capsys):
    assert cli.main(["--list-models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["tiny-bundled", "bundled", "(default)", "scales", "the", "mix"]
    official = {line.split()[0]: line for line in lines[1:]}
    assert {"htdemucs", "htdemucs_ft", "htdemucs_6s", "mdx_extra"} <= set(official)
    assert "official" in official["htdemucs"]
    assert "(downloaded on first use)" in official["htdemucs"]
    # in columns, whatever the names' lengths: the descriptions start one under another
    assert lines[0].index("scales the mix") == official["htdemucs"].index("Hybrid Transformer")


def test_list_models_into_a_pipe_closed_early_ends_quietly(tmp_path):
    """`stemgui-separate --list-models | head -1`: the reader is gone before the list is
    written; no BrokenPipeError traceback, and success."""
    import subprocess

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    child = subprocess.Popen(
        [sys.executable, "-m", "stemgui.cli", "--list-models"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    child.stdout.close()  # before the child has imported torch, let alone printed
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors.decode()
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors


def test_default_model_is_the_bundled_one(tmp_path, bundled, capsys):
    mix = write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "--float32", "--two-stems", "bass"]) == 0
    folder = tmp_path / "separated" / bundled / "song"
    np.testing.assert_allclose(read(folder / "bass.wav"), 0.25 * mix, atol=1e-6)
    assert cli.main(["song.wav", "-n", bundled, "--overwrite"]) == 0


def test_no_model_installed_fails_with_one_line(tmp_path, capsys):
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "no model is installed; choose one with -n" in lines[0]


def test_a_damaged_bundled_manifest_leaves_a_model_file_named_with_n(tmp_path, model_file, capsys):
    """It stopped every run, -n model.stemgui too, saying what was wrong and not what to do."""
    mix = write_song(tmp_path / "song.wav")
    (tmp_path / "bundled").mkdir()
    manifest = tmp_path / "bundled" / "manifest.json"
    manifest.write_text("{not json", encoding="utf-8")
    for argv in (["song.wav"], ["--list-models"]):
        assert cli.main(argv) == 1
        (line,) = error_lines(capsys.readouterr().err)
        assert line == (
            f"error: {manifest}: model manifest is not readable JSON: Expecting property name "
            "enclosed in double quotes: line 1 column 2 (char 1); to separate without it, name "
            "a model file with -n"
        )
    assert cli.main(["song.wav", "-n", str(model_file), "--float32", "--two-stems", "bass"]) == 0
    bass = tmp_path / "separated" / model_file.stem / "song" / "bass.wav"
    np.testing.assert_allclose(read(bass), 0.25 * mix, atol=1e-6)


def test_official_model_is_downloaded_first(tmp_path, monkeypatch, capsys):
    from stemgui.separation import download
    from stemgui.separation.download_errors import DownloadError

    asked = []

    def offline(url, dest, **kwargs):
        asked.append((url, dest))
        raise DownloadError(dest, "the network is unreachable; check the connection")

    monkeypatch.setattr(download, "download_file", offline)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 1
    assert asked == [
        (
            "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th",
            tmp_path / "user" / "official" / "955717e8-8726e21a.th",
        )
    ]
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "network is unreachable" in lines[0]


def test_a_bag_s_download_says_which_file_of_how_many(tmp_path, monkeypatch, capsys):
    """htdemucs_ft's four files each had a bar of its own named by the file alone: the bar
    seemed to start over, three times."""
    from stemgui.cli import progress
    from stemgui.separation import download
    from stemgui.separation.download_errors import DownloadError

    bars = []
    real_bar = progress.tqdm_progress
    monkeypatch.setattr(progress, "tqdm_progress", lambda text: bars.append(text) or real_bar(text))

    def second_fails(url, dest, **kwargs):
        if len(bars) == 2:
            raise DownloadError(dest, "the network is unreachable; check the connection")
        return dest

    monkeypatch.setattr(download, "download_file", second_fails)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs_ft"]) == 1
    assert bars == ["f7e0c4bc-ba3fe64a.th (file 1 of 4)", "d12395a8-e57c48e6.th (file 2 of 4)"]
    err = capsys.readouterr().err
    assert "downloading model htdemucs_ft, d12395a8-e57c48e6.th (file 2 of 4): https://" in err


def test_ctrl_c_during_a_model_s_download_says_it_resumes(tmp_path, monkeypatch, capsys):
    """It said "files being written were discarded … run again with --skip-existing", where
    the partial model is kept and resumes with the same command."""
    from stemgui.separation import download

    def interrupted(url, dest, **kwargs):
        dest.parent.mkdir(parents=True)
        download.part_path(dest).write_bytes(b"the first bytes")
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "download_file", interrupted)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 130
    assert error_lines(capsys.readouterr().err) == [
        "error: interrupted; the download of model htdemucs stopped; what came so far is "
        "kept: run the same command again to resume it"
    ]
    assert (tmp_path / "user" / "official" / "955717e8-8726e21a.th.part").exists()


def test_a_download_removes_the_partial_file_of_a_version_no_longer_published(
    tmp_path, monkeypatch
):
    """htdemucs published again under a new sha256 (in its file's name): the partial download
    of the old file stayed in the models folder for good."""
    from stemgui.separation import download

    stale = tmp_path / "user" / "official" / "955717e8-0badc0de.th.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"the first bytes of an earlier version")
    fetched = []

    def interrupted(url, dest, **kwargs):
        fetched.append(dest.name)
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "download_file", interrupted)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 130
    assert fetched == ["955717e8-8726e21a.th"] and not stale.exists()


@pytest.mark.parametrize("signum", [None, 15])  # Ctrl-C, a kill (SIGTERM)
def test_a_stop_while_the_model_loads_says_so_and_that_nothing_was_written(
    tmp_path, model_file, monkeypatch, capsys, signum
):
    """It said "files being written were discarded (finished songs are kept: run again with
    --skip-existing to separate the rest)" while no song had begun."""
    from stemgui.cli import _Stopped
    from stemgui.separation.store import ModelStore

    def stopped(self, name_or_path):
        raise KeyboardInterrupt if signum is None else _Stopped(signum)

    monkeypatch.setattr(ModelStore, "load", stopped)
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", str(model_file)]) == (130 if signum is None else 143)
    assert error_lines(capsys.readouterr().err) == [
        f"error: interrupted; the run stopped while loading model {model_file}: no stem was written"
    ]
    assert not (tmp_path / "separated").exists()


def test_a_models_folder_that_cannot_be_made_is_one_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "user").mkdir(exist_ok=True)
    (tmp_path / "user" / "official").write_text("a file where the folder goes")
    write_song(tmp_path / "song.wav")
    assert cli.main(["song.wav", "-n", "htdemucs"]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert f"could not save model htdemucs in {tmp_path / 'user' / 'official'}: " in lines[0]
