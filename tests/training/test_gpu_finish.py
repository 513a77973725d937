"""``training/gpu/finish.sh``: what a GPU run brings back is unpacked, quantized, bagged and
scored beside the shipped model, here, by one command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from stemgui.separation.checkpoint import read_checkpoint
from stemgui.separation.rewrite import save_bag_of_files
from tests.paths import ROOT
from tests.training.fitting import VALID


def _came_back(folder: Path, kind: str, best: Path, split: bool) -> None:
    """``folder/kind`` as run.sh leaves it: fit.log and run.tar.gz (or its parts)."""
    (folder / kind).mkdir(parents=True)
    (folder / kind / "fit.log").write_text("step 1\n")
    archive = folder / kind / "run.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(best, arcname="best.stemgui")
    if split:  # as `split -b 15M -d` names its parts
        data = archive.read_bytes()
        half = len(data) // 2
        (folder / kind / "run.tar.gz.00").write_bytes(data[:half])
        (folder / kind / "run.tar.gz.01").write_bytes(data[half:])
        archive.unlink()


def _finish(files: Path, runs: Path, data: Path, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA": str(data), "RUNS": str(runs), "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", "training/gpu/finish.sh", str(files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _scored(runs: Path) -> list[str]:
    scores = json.loads((runs / "scores.json").read_text())
    assert scores["tracks"] == VALID
    return [name for name in scores["musdb"] if name not in ("mixture/4", "IRM oracle")]


def test_finish_scores_each_kind_and_their_bag_beside_the_shipped_model(
    tmp_path,
    musdb_like,
    trained_model,
):
    root, _ = musdb_like
    files = tmp_path / "files"
    _came_back(files, "general", trained_model, split=False)
    _came_back(files, "0-0-1-0", trained_model, split=True)
    runs = tmp_path / "runs"
    result = _finish(files, runs, root)
    assert result.returncode == 0, result.stderr[-2000:]
    for kind in ("general", "0-0-1-0"):
        assert (runs / kind / "q8.stemgui").is_file() and (runs / kind / "fit.log").is_file()
    shipped = next(Path(ROOT / "resources" / "models").glob("*.stemgui")).name
    assert _scored(runs) == [shipped, "general/q8.stemgui", "0-0-1-0/q8.stemgui", "bag.stemgui"]
    assert f"training export {runs}/bag.stemgui --name stemgui-htdemucs-small --replace" in (
        result.stdout
    )  # the name the app ships: replacing it is the point


def test_one_kind_back_is_bagged_with_the_other_member_of_a_shipped_bag(
    tmp_path,
    musdb_like,
    trained_model,
):
    root, _ = musdb_like
    shipped = tmp_path / "shipped.stemgui"
    save_bag_of_files([trained_model, trained_model], shipped, weights=[[1, 1, 0, 1], [0, 0, 1, 0]])
    files, runs = tmp_path / "files", tmp_path / "runs"
    _came_back(files, "0-0-1-0", trained_model, split=False)
    result = _finish(files, runs, root, SHIPPED=str(shipped))
    assert result.returncode == 0, result.stderr[-2000:]
    assert _scored(runs) == ["shipped.stemgui", "q8.stemgui", "bag.stemgui"]
    members = read_checkpoint(runs / "bag.stemgui")["provenance"]["members"]
    assert [m["file"] for m in members] == ["runs/shipped-general.stemgui", "0-0-1-0/q8.stemgui"]
    assert members[0]["from_bag"] == {"file": "shipped.stemgui", "member": 0, "was": ""}
    assert not (runs / "shipped-0-0-1-0.stemgui").exists()
    again = _finish(files, runs, root, SHIPPED=str(shipped))  # after a resumed GPU run
    assert again.returncode == 0, again.stderr[-2000:]  # its scores replace the first ones
    assert _scored(runs) == ["shipped.stemgui", "q8.stemgui", "bag.stemgui"]


def test_nothing_usable_back_is_said_in_one_line_and_nothing_is_left_half_unpacked(
    tmp_path,
    trained_model,
):
    files, runs = tmp_path / "files", tmp_path / "runs"
    files.mkdir()
    result = subprocess.run(  # a folder relative to where it is called from
        ["bash", str(ROOT / "training" / "gpu" / "finish.sh"), "files"],
        cwd=tmp_path,
        env={
            **os.environ,
            "SHIPPED": str(trained_model),
            "PYTHON": sys.executable,
            "RUNS": str(runs),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"finish.sh: no run.tar.gz under {files}/general or {files}/0-0-1-0"
    )
    _came_back(files, "general", trained_model, split=False)
    archive = files / "general" / "run.tar.gz"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # cut short
    result = _finish(files, runs, tmp_path, SHIPPED=str(trained_model))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"finish.sh: {archive}: damaged or incomplete (tar could not unpack it); fetch it again"
    )
    assert sorted(p.name for p in runs.iterdir()) == []  # no half-unpacked folder
    missing = tmp_path / "nowhere"
    result = _finish(missing, runs, tmp_path, SHIPPED=str(trained_model))
    assert (result.returncode, result.stderr.strip()) == (1, f"finish.sh: {missing}: not found")
    result = _finish(files, runs, tmp_path, SHIPPED=str(tmp_path / "gone.stemgui"))
    assert result.returncode == 1 and "finish.sh: " in result.stderr
    assert "gone.stemgui" in result.stderr and "Traceback" not in result.stderr
