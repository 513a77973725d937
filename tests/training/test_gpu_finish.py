"""``training/gpu/finish.sh``: what a GPU run brings back is unpacked, quantized, bagged and
scored beside the shipped model, here, by one command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.training.test_eval_cli import VALID, model, musdb_like  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]


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


def test_finish_scores_each_kind_and_their_bag_beside_the_shipped_model(
    tmp_path,
    musdb_like,  # noqa: F811 (the fixtures imported above)
    model,  # noqa: F811
):
    root, _ = musdb_like
    files = tmp_path / "files"
    _came_back(files, "general", model, split=False)
    _came_back(files, "0-0-1-0", model, split=True)
    runs = tmp_path / "runs"
    env = {**os.environ, "DATA": str(root), "RUNS": str(runs), "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", "training/gpu/finish.sh", str(files)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for kind in ("general", "0-0-1-0"):
        assert (runs / kind / "q8.stemgui").is_file() and (runs / kind / "fit.log").is_file()
    scores = json.loads((runs / "scores.json").read_text())
    assert scores["tracks"] == VALID
    models = [name for name in scores["musdb"] if name not in ("mixture/4", "IRM oracle")]
    shipped = next(Path(REPO / "resources" / "models").glob("*.stemgui")).name
    assert models == [shipped, "general/q8.stemgui", "0-0-1-0/q8.stemgui", "bag.stemgui"]
    assert f"training export {runs}/bag.stemgui --name" in result.stdout
