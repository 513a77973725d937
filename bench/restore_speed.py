"""How soon the songs of the last session come back: from the window shown to each restored row
being done with its stems drawable, for 1, 5 and 20 songs separated in the last session.

    QT_QPA_PLATFORM=offscreen python bench/restore_speed.py [RUNS]

Each start is a fresh process (as the app's is: no torch loaded, no file hash remembered) with a
temporary HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME and XDG_DATA_HOME. The stem cache is filled
beforehand with stems under the key the app uses (the song's sha256, the default model's
identity, the quality's options) and the session names the songs; one start and close of the
window then leaves the session as this version of the app saves it, and the next starts are timed.
The reference is measured in the same run: interpreter start to the window shown with an empty
queue. Prints figures and ratios; asserts nothing (the cores are shared and noisy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

COUNTS = (1, 5, 20)
SONG_SECONDS = 4.0

FILL = """
import dataclasses, json, sys
from pathlib import Path
import numpy as np
import soundfile as sf
from PySide6.QtCore import QCoreApplication
app = QCoreApplication([])
app.setApplicationName("stemgui"); app.setOrganizationName("stemgui")
from stemgui.separation.model_identity import file_digest, model_identity
from stemgui.stemcache import StemCache
from stemgui.stems.stemset import StemSet
from stemgui.ui import settings as S
from stemgui.ui.separation_options import SeparationOptions
folder, count, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
settings = S.Settings()
quality = settings.quality()
options = SeparationOptions(model="", device="auto", segment=quality.segment,
                            overlap=quality.overlap, shifts=quality.shifts)
identity = model_identity("")
cache, rate, rng, songs = StemCache(), 44100, np.random.default_rng(0), []
for i in range(count):
    path = folder / f"song-{i:02d}.wav"
    if not path.exists():
        mix = (0.1 * rng.standard_normal((2, int(seconds * rate)))).astype(np.float32)
        sf.write(path, mix.T, rate, subtype="FLOAT")
    mix = sf.read(path, dtype="float32", always_2d=True)[0].T.copy()
    stems = np.stack([mix / 4] * 4).astype(np.float32)
    key = StemCache.key(file_digest(path), identity, options.stem_options())
    stemset = StemSet(["drums", "bass", "other", "vocals"], rate, stems, mix)
    cache.put(key, stemset, {"source": str(path), "model": "bench"})
    strips = {n: [0.0, False, False] for n in stemset.names}
    songs.append({"path": str(path), "strips": strips, "options": dataclasses.asdict(options)})
settings.set(S.SESSION, json.dumps(songs))
"""

START = """
import time; start = time.perf_counter()
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
app.setApplicationName("stemgui"); app.setOrganizationName("stemgui")
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
window = MainWindow()
done = {}
def ended(job):
    if job.state is JobState.DONE and job.waveforms is not None:
        done[job.id] = time.perf_counter()
window.controller.job_ended.connect(ended)
window.show(); app.processEvents()
shown = time.perf_counter()
window.schedule_cleanup()
jobs = window.restore_session()
deadline = shown + 120
while len(done) < len(jobs) and time.perf_counter() < deadline:
    app.processEvents()
    time.sleep(0.001)
print(json.dumps({"shown": shown - start, "done": sorted(t - shown for t in done.values()),
                  "restored": len(jobs)}), flush=True)
window.close()
"""


def _python(code: str, env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return out.stdout


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(home))
    for name, sub in (("CACHE", ".cache"), ("CONFIG", ".config"), ("DATA", ".local/share")):
        env[f"XDG_{name}_HOME"] = str(home / sub)
    return env


def start(env: dict[str, str]) -> dict:
    return json.loads(_python(START, env).strip().splitlines()[-1])


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        env = _env(home)
        reference = min(start(env)["shown"] for _ in range(runs))  # empty queue
        print(f"reference: window shown {1000 * reference:.0f} ms after start (empty queue)")
        for count in COUNTS:
            first, last = [], []
            _python(FILL, env, str(home), str(count), str(SONG_SECONDS))
            start(env)  # its close saves the session as this version does
            for _ in range(runs):
                result = start(env)
                if len(result["done"]) != count or result["restored"] != count:
                    raise RuntimeError(f"{count} songs: only {len(result['done'])} came back")
                first.append(result["done"][0])
                last.append(result["done"][-1])
            a, b = min(first), min(last)
            print(
                f"{count:2d} songs restored: first done {1000 * a:5.0f} ms "
                f"({a / reference:.2f}x reference), all done {1000 * b:5.0f} ms "
                f"({b / reference:.2f}x reference) after the window shows"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
