"""What ``stemgui-separate`` saves on a song the app separated already: the same song, model and
options written out from the app's stem cache, against separated afresh (``--no-cache``), in
the same run. Never pass/fail.

A song of drums (``--minutes``, 16-bit wav) is separated by the app's worker with the bundled
model on the CPU and kept in a stem cache of this run's own (the user's is not touched); then
the command line runs on it as a user runs it (a new process, the model loaded, the files
written, 16-bit wav), from the cache and with ``--no-cache``, whose files are compared byte for
byte.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/cli_reuse_speed.py           # 4 minutes
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/cli_reuse_speed.py --minutes 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import soundfile as sf

from tests.stems.drumkit import RATE, drum_track


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _command_line(folder: Path, *flags: str) -> float:
    """Seconds of ``stemgui-separate song.wav -d cpu`` with ``flags``, in ``folder``."""
    argv = [sys.executable, "-m", "stemgui", "separate", "song.wav", "-d", "cpu", *flags]
    begin = time.perf_counter()
    subprocess.run(argv, cwd=folder, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=2, help="runs from the cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")  # this run's stem cache
        os.environ["STEMGUI_LOG_DIR"] = str(folder / "logs")
        song = folder / "song.wav"
        sf.write(song, drum_track(120, seconds=args.minutes * 60).T, RATE, subtype="PCM_16")

        from stemgui.stemcache import StemCache
        from stemgui.ui.separation_options import SeparationOptions
        from stemgui.ui.worker import SeparationWorker

        worker = SeparationWorker(stem_cache=StemCache())
        stored: list[str] = []
        worker.stored.connect(lambda _job, key: stored.append(key))
        begin = time.perf_counter()
        worker.run(1, song, SeparationOptions(device="cpu"), threading.Event())
        app = time.perf_counter() - begin
        if not stored:
            sys.exit("the app's worker kept no stems: see the log in " + str(folder / "logs"))
        print(f"{args.minutes:g} min song, bundled model, CPU ({os.cpu_count()} cores):")
        print(f"  the app separating it and keeping its stems: {app:.1f} s")
        kept = [_command_line(folder, "-o", f"kept{n}") for n in range(args.repeats)]
        fresh = _command_line(folder, "--no-cache", "-o", "fresh")
        written = _files(folder / "fresh")
        same = all(_files(folder / f"kept{n}") == written for n in range(args.repeats))
        print(f"  stemgui-separate from the stem cache: {', '.join(f'{t:.1f}' for t in kept)} s")
        print(f"  stemgui-separate --no-cache (separated): {fresh:.1f} s")
        print(f"  ratio {min(kept) / fresh:.3f}; files byte-identical: {same}")


if __name__ == "__main__":
    main()
