"""``stemgui-separate`` writes out the stems that the app kept in its stem cache for the same song
bytes, model and options instead of separating the song again: its files are byte for byte those
of a fresh separation (formats, rates, two stems, the file name template, the tags), and the
model never runs. Another option, a damaged entry and ``--no-cache`` separate afresh.

The entry is made by the app's own worker (``SeparationWorker`` with the user's stem cache), the
fresh files by ``--no-cache``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import soundfile as sf

from stemgui import cli
from stemgui.separation.separator import Separator
from stemgui.stemcache import StemCache
from stemgui.stemcache_entry import ENTRY_FILE, STEMS_FILE
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.worker import SeparationWorker
from tests.stems.drumkit import drum_track

FROM_CACHE = "from the stem cache"


def _song(path: Path, rate: int = 44100) -> Path:
    """Drums at 120 BPM, 12 s, as a 16-bit wav at ``rate``."""
    sf.write(path, drum_track(120, seconds=12).T, rate, subtype="PCM_16")
    return path


def _kept_by_the_app(song: Path, options: SeparationOptions) -> str:
    """``song`` separated by the app's worker with the user's stem cache on; its entry's key."""
    worker = SeparationWorker(stem_cache=StemCache())
    stored: list[str] = []
    failed: list[str] = []
    worker.stored.connect(lambda _job, key: stored.append(key))
    worker.failed.connect(lambda _job, message, _retry: failed.append(message))
    worker.model_failed.connect(lambda _job, _model, message, _loads: failed.append(message))
    worker.run(1, song, options, threading.Event())
    assert failed == [] and len(stored) == 1, (failed, stored)
    return stored[0]


@pytest.fixture
def runs(monkeypatch):
    """How many times the model separated a song, counted from here on."""
    counted = [0]
    separate = Separator.separate

    def counting(self, *args, **kwargs):
        counted[0] += 1
        return separate(self, *args, **kwargs)

    monkeypatch.setattr(Separator, "separate", counting)
    return counted


def _never_run(monkeypatch) -> None:
    def refuse(self, *args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(Separator, "separate", refuse)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _separate(capsys, *argv: str) -> str:
    """Run the command line; its console output (it must succeed)."""
    status = cli.main([*argv, "-d", "cpu"])
    said = capsys.readouterr().err
    assert status == 0, said
    return said


OPTIONS = [
    pytest.param([], 44100, id="wav"),
    pytest.param(
        ["--two-stems", "vocals", "--flac", "--int24", "--samplerate", "song",
         "--filename", "{track} - {stem}.{ext}"],
        48000,
        id="two-stems-flac-song-rate-template",
    ),
    pytest.param(["--mp3", "--speed", "0.8", "--semitones", "-2"], 44100, id="mp3-paced"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "rate"), OPTIONS)
def test_the_apps_stems_give_the_files_of_a_fresh_separation_without_the_model(
    tmp_path, model_file, capsys, monkeypatch, flags, rate
):
    song = _song(tmp_path / "song.wav", rate)
    _kept_by_the_app(song, SeparationOptions(model=str(model_file), device="cpu"))
    model = ["-n", str(model_file)]
    fresh_said = _separate(capsys, "song.wav", *model, "--no-cache", "-o", "fresh", *flags)
    assert FROM_CACHE not in fresh_said
    _never_run(monkeypatch)
    said = _separate(capsys, "song.wav", *model, "-o", "kept", *flags)
    assert f"song.wav: {FROM_CACHE}" in said, said
    fresh, kept = _files(tmp_path / "fresh"), _files(tmp_path / "kept")
    assert len(fresh) == (2 if "--two-stems" in flags else 4)
    assert kept.keys() == fresh.keys()
    for name in fresh:
        assert kept[name] == fresh[name], name


def test_the_bundled_model_with_the_apps_options(tmp_path, bundled, capsys, monkeypatch):
    """The default model, named by neither, and the app's fast quality (overlap 0.1)."""
    song = _song(tmp_path / "song.wav")
    _kept_by_the_app(song, SeparationOptions(overlap=0.1, device="cpu"))
    fresh_said = _separate(capsys, "song.wav", "--overlap", "0.1", "--no-cache", "-o", "fresh")
    assert FROM_CACHE not in fresh_said
    _never_run(monkeypatch)
    said = _separate(capsys, "song.wav", "--overlap", "0.1", "-o", "kept")
    assert FROM_CACHE in said, said
    assert _files(tmp_path / "kept") == _files(tmp_path / "fresh")


def test_another_option_separates_and_keeps_nothing_in_the_cache(
    tmp_path, model_file, capsys, runs
):
    song = _song(tmp_path / "song.wav")
    key = _kept_by_the_app(song, SeparationOptions(model=str(model_file), device="cpu"))
    runs[0] = 0
    said = _separate(capsys, "song.wav", "-n", str(model_file), "--overlap", "0.5")
    assert FROM_CACHE not in said and runs[0] == 1
    assert StemCache().keys() == [key]  # the command line kept no stems of its own


def test_a_damaged_entry_is_separated_afresh(tmp_path, model_file, capsys, runs):
    song = _song(tmp_path / "song.wav")
    key = _kept_by_the_app(song, SeparationOptions(model=str(model_file), device="cpu"))
    model = ["-n", str(model_file)]
    _separate(capsys, "song.wav", *model, "--no-cache", "-o", "fresh")
    stems = StemCache().root / key / STEMS_FILE
    with open(stems, "r+b") as handle:  # cut short, as by a full disk
        handle.truncate(stems.stat().st_size // 2)
    runs[0] = 0
    said = _separate(capsys, "song.wav", *model, "-o", "again")
    assert FROM_CACHE not in said and runs[0] == 1
    assert "are damaged" in said and "separated again" in said, said
    assert _files(tmp_path / "again") == _files(tmp_path / "fresh")
    assert StemCache().keys() == []  # deleted, as the app deletes it


def test_no_cache_separates_afresh_and_leaves_the_cache_alone(tmp_path, model_file, capsys, runs):
    song = _song(tmp_path / "song.wav")
    key = _kept_by_the_app(song, SeparationOptions(model=str(model_file), device="cpu"))
    entry = StemCache().root / key / ENTRY_FILE
    used = entry.stat().st_mtime_ns
    runs[0] = 0
    said = _separate(capsys, "song.wav", "-n", str(model_file), "--no-cache")
    assert FROM_CACHE not in said and runs[0] == 1
    assert entry.stat().st_mtime_ns == used  # not even looked up: not marked as used


def test_no_cache_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "--no-cache" in capsys.readouterr().out
