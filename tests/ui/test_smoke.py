"""The smoke test the frozen app runs (``--smoke-test``), here in-process with the tiny test
model: the bundled demo and model are found, the stems are checked, and every way it fails says
why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf

from stemgui.ui import resources, smoke, smoke_checks, smoke_steps
from tests.paths import ROOT
from tests.ui.conftest import RATE, TIMEOUT_MS, write_song

STEMS = ["drums", "bass", "other", "vocals"]


def test_the_smoke_test_passes_from_the_checkout_and_leaves_no_folder_behind(tmp_path):
    """``python -m stemgui --smoke-test`` as the frozen app runs it: the bundled demo through the
    bundled model. Its throw-away settings folder goes with it (their store once wrote itself
    back after the folder was removed, leaving a folder in the temporary folder every run)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(temp),
        "STEMGUI_SMOKE_DEVICE": "cpu",
        "STEMGUI_SMOKE_TIMEOUT": "240",
    }
    result = subprocess.run(
        [sys.executable, "-m", "stemgui", "--smoke-test"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "smoke test passed: 4 stems of demo.mp3 (28.0 s) with stemgui-htdemucs-small" in (
        result.stdout + result.stderr
    )
    assert list(temp.iterdir()) == []


def test_app_takes_the_smoke_test_option():
    from stemgui.ui.app import build_parser

    assert build_parser().parse_args(["--smoke-test"]).smoke_test is True
    assert build_parser().parse_args([]).smoke_test is False


def test_bundled_demo_and_model_are_found_in_the_source_tree():
    demo = smoke_checks.bundled_demo()
    assert demo.path == ROOT / "resources" / "demo" / "demo.mp3"
    assert demo.seconds == json.loads((ROOT / "resources/demo/demo.json").read_text())["seconds"]
    manifest = json.loads((ROOT / "resources/models/manifest.json").read_text())["models"]
    default = [m["name"] for m in manifest if m.get("default")] or [manifest[0]["name"]]
    assert smoke_checks.bundled_default_model() == default[0]


def test_resources_are_found_under_the_frozen_apps_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resources_dir() == tmp_path / "resources"
    with pytest.raises(smoke_checks.SmokeFailure, match="demo song is missing"):
        smoke_checks.bundled_demo()
    with pytest.raises(smoke_checks.SmokeFailure, match="no bundled model"):
        smoke_checks.bundled_default_model()


def _stem_files(folder: Path, seconds: float = 1.0, rate: int = RATE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for name in STEMS:
        path = folder / f"{name}.wav"
        sf.write(path, 0.1 * rng.standard_normal((int(seconds * rate), 2)), rate, subtype="FLOAT")
        paths.append(path)
    return paths


def test_check_stems_passes_four_full_length_finite_stems(tmp_path):
    summary = smoke_checks.check_stems(_stem_files(tmp_path), STEMS, 1.0)
    assert summary.startswith("quietest stem") and "-20.0 dBFS" in summary


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("silent", "vocals.wav is silent"),
        ("short", "bass.wav lasts 0.500 s, the song 1.000 s"),
        ("nan", "drums.wav holds NaN"),
        ("missing", "expected one file per stem"),
        ("garbage", "other.wav is not readable audio"),
    ],
)
def test_check_stems_names_the_first_bad_stem(tmp_path, damage, reason):
    paths = _stem_files(tmp_path)
    by_name = dict(zip(STEMS, paths))
    if damage == "silent":
        sf.write(by_name["vocals"], np.zeros((RATE, 2)), RATE, subtype="FLOAT")
    elif damage == "short":
        sf.write(by_name["bass"], 0.1 * np.ones((RATE // 2, 2)), RATE, subtype="FLOAT")
    elif damage == "nan":
        data = 0.1 * np.ones((RATE, 2))
        data[10, 1] = np.nan
        sf.write(by_name["drums"], data, RATE, subtype="FLOAT")
    elif damage == "missing":
        paths = paths[:3]
    elif damage == "garbage":
        by_name["other"].write_bytes(b"not audio at all" * 10)
    with pytest.raises(smoke_checks.SmokeFailure, match=reason.replace(".", r"\.")):
        smoke_checks.check_stems(paths, STEMS, 1.0)


def test_check_stems_wants_four_stems(tmp_path):
    paths = _stem_files(tmp_path)[:2]
    with pytest.raises(smoke_checks.SmokeFailure, match="expected 4 stems, the model gave 2"):
        smoke_checks.check_stems(paths, STEMS[:2], 1.0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")
def test_process_age_is_known_on_linux():
    age = smoke_checks.process_age()
    assert age is not None and age > 0


def _run(qtbot, win, tmp_path, song, seconds=1.0, expect="tiny", timeout=60.0):
    out = tmp_path / "stems"
    out.mkdir()
    test = smoke_steps.SmokeTest(
        win, out, smoke_checks.Demo(song, seconds), expect, timeout=timeout
    )
    with qtbot.waitSignal(test.done, timeout=TIMEOUT_MS) as signal:
        test.start()
    return signal.args, out


def test_smoke_test_separates_exports_and_checks_the_stems(qtbot, smoke_window, tmp_path):
    win = smoke_window()
    song = write_song(tmp_path / "song.wav", seconds=1.0)
    (code, line), out = _run(qtbot, win, tmp_path, song)
    assert code == 0, line
    assert line.startswith("smoke test passed: 4 stems of song.wav (1.0 s) with tiny on CPU")
    assert "window painted" in line and "PortAudio" in line
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.wav" for s in STEMS)
    info = sf.info(out / "vocals.wav")
    assert (info.frames, info.samplerate, info.subtype) == (RATE, RATE, "FLOAT")
    win.close()


def test_smoke_test_fails_on_a_song_that_does_not_decode(
    qtbot, smoke_window, tmp_path, corrupt_song
):
    win = smoke_window()
    (code, line), out = _run(qtbot, win, tmp_path, corrupt_song)
    assert code == 1
    assert line.startswith("smoke test failed: separation failed:") and "broken.wav" in line
    assert list(out.iterdir()) == []
    win.close()


def test_smoke_test_fails_when_another_model_separated(qtbot, smoke_window, tmp_path):
    win = smoke_window()
    song = write_song(tmp_path / "song.wav", seconds=1.0)
    (code, line), _ = _run(qtbot, win, tmp_path, song, expect="stemgui-htdemucs-small")
    assert (code, line) == (
        1,
        "smoke test failed: separated with 'tiny', not the bundled 'stemgui-htdemucs-small'",
    )
    win.close()


def test_smoke_test_fails_on_a_wrong_length(qtbot, smoke_window, tmp_path):
    win = smoke_window()
    song = write_song(tmp_path / "song.wav", seconds=1.0)
    (code, line), _ = _run(qtbot, win, tmp_path, song, seconds=2.0)
    assert code == 1 and "lasts 1.000 s, the song 2.000 s" in line
    win.close()


class _FakeSeparator:
    """What the worker reads of a separator besides ``separate``."""

    sources: ClassVar[list[str]] = STEMS
    samplerate = RATE

    class model:
        audio_channels = 2


class StuckSeparator(_FakeSeparator):
    """Never finishes a chunk until the gate opens (a hung engine)."""

    def __init__(self, gate: threading.Event):
        self.gate = gate

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        from stemgui.errors import SeparationCancelled

        self.gate.wait(30)
        raise SeparationCancelled("stopped")


def test_smoke_test_times_out_with_the_step_it_was_in(qtbot, smoke_window, tmp_path):
    gate = threading.Event()
    win = smoke_window(lambda options: (StuckSeparator(gate), "stuck"))
    song = write_song(tmp_path / "song.wav", seconds=1.0)
    try:
        (code, line), _ = _run(qtbot, win, tmp_path, song, timeout=1.0)
    finally:
        gate.set()
    assert code == 1
    assert line.startswith(  # then how far it got (tests/ui/test_smoke_time_limit.py)
        "smoke test failed: nothing moved on for 1 s (while separating the demo song; "
    )
    win.close()


def test_smoke_test_fails_at_once_on_an_exception_in_a_slot(qtbot, smoke_window, tmp_path):
    win = smoke_window()
    song = write_song(tmp_path / "song.wav", seconds=1.0)

    def broken(paths):
        raise ModuleNotFoundError("No module named 'left_out'")

    win.add_paths = broken
    hook = sys.excepthook
    (code, line), _ = _run(qtbot, win, tmp_path, song)
    assert (code, line) == (
        1,
        "smoke test failed: uncaught ModuleNotFoundError while queueing the demo song: "
        "No module named 'left_out'",
    )
    assert sys.excepthook is hook
    win.close()


class SilentProgressSeparator(_FakeSeparator):
    """Fills in the stems without reporting a chunk, as stems taken from a cache would come."""

    def separate(self, buffer, on_progress=None, cancel=None, out=None):
        out[:] = buffer[None] / 4
        return out


def test_smoke_test_fails_when_the_song_was_not_really_separated(qtbot, smoke_window, tmp_path):
    win = smoke_window(lambda options: (SilentProgressSeparator(), "tiny"))
    song = write_song(tmp_path / "song.wav", seconds=1.0)
    (code, line), _ = _run(qtbot, win, tmp_path, song)
    assert (code, line) == (
        1,
        "smoke test failed: the song was not separated (its stems came from a cache)",
    )
    win.close()


def test_throwaway_settings_turn_the_stem_cache_off(tmp_path):
    from stemgui.ui import settings as S

    settings = smoke.throwaway_settings(tmp_path / "s.ini")
    if not hasattr(S, "KEEP_STEMS"):
        pytest.skip("this version has no stem cache")
    assert settings.get(S.KEEP_STEMS) is False
    assert settings.get(S.MODEL) == ""  # the store's default, as for a new user


@pytest.mark.slow
def test_smoke_test_of_the_source_tree_passes_with_the_bundled_model(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STEMGUI_LOG_DIR": str(tmp_path)}
    env["STEMGUI_SMOKE_DEVICE"] = "cpu"
    result = subprocess.run(
        [sys.executable, "-m", "stemgui", "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("smoke test passed: 4 stems of demo.mp3 (28.0 s)")
