"""Peak memory (RSS) of ``stemgui-separate`` on long songs: 10 and 60 minutes by default.

Each length gets a generated 16-bit stereo wav (noise and tones, written block by block) and one
``python -m stemgui separate`` subprocess. The peak resident set size of that process is read
from ``os.wait4`` (the kernel's ``ru_maxrss`` of exactly that child) and, while it runs, from
``/proc/<pid>/status`` (``VmHWM``), so no psutil is needed. The model defaults to the official
htdemucs configuration with random weights saved as a stemgui checkpoint (the memory does not
depend on the weights); ``--model`` takes a real one.

    .venv/bin/python bench/long_song_memory.py                 # 10 and 60 minutes (slow!)
    .venv/bin/python bench/long_song_memory.py --minutes 10
    .venv/bin/python bench/long_song_memory.py --seconds 20    # quick check that it works

Prints, per input: its length, wall time, peak RSS, and for scale the sizes of the decoded
mix and of the separated stems as float32 arrays. Songs over
``stemgui.spool.SPOOL_THRESHOLD_SECONDS`` (5 minutes) have their stems spooled to a temporary
np.memmap and written block by block, so the peak is about the decoded mix plus the model's
working memory, not mix plus stems.

    .venv/bin/python bench/long_song_memory.py --minutes 10 60 --tiny   # the path, quickly
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

SAMPLERATE = 44100
SOURCES = ["drums", "bass", "other", "vocals"]
OFFICIAL_HTDEMUCS = dict(bottom_channels=512, dconv_mode=3, t_layers=5, segment=Fraction(39, 5))
BLOCK_SECONDS = 10


def write_song(path: Path, seconds: float, seed: int = 0) -> None:
    """A 16-bit stereo wav of ``seconds``, generated and written 10 s at a time."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    frames = int(seconds * SAMPLERATE)
    with sf.SoundFile(path, "w", SAMPLERATE, 2, subtype="PCM_16") as handle:
        for start in range(0, frames, BLOCK_SECONDS * SAMPLERATE):
            n = min(BLOCK_SECONDS * SAMPLERATE, frames - start)
            t = (start + np.arange(n)) / SAMPLERATE
            tones = 0.2 * np.sin(2 * np.pi * 220.0 * t) + 0.1 * np.sin(2 * np.pi * 61.7 * t)
            block = 0.1 * rng.standard_normal((n, 2)) + tones[:, None]
            handle.write(block.astype(np.float32))


def random_model(path: Path, seed: int = 0) -> Path:
    """The official htdemucs configuration with random weights, as a stemgui checkpoint."""
    import torch

    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model

    torch.manual_seed(seed)
    model = registry.build(
        "HTDemucs", dict(sources=SOURCES, samplerate=SAMPLERATE, **OFFICIAL_HTDEMUCS)
    )
    save_model(model.eval(), path, provenance={"note": "random weights for benchmarks"})
    return path


def tiny_model(path: Path, seed: int = 0) -> Path:
    """A small Demucs (v2) with random weights: the same decode, spool and export path as the
    full model at a fraction of the compute, for machines where htdemucs is too slow."""
    import torch

    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model

    torch.manual_seed(seed)
    model = registry.build(
        "Demucs", dict(sources=SOURCES, samplerate=SAMPLERATE, channels=4, depth=4, segment=10.0)
    )
    save_model(model.eval(), path, provenance={"note": "tiny random weights for benchmarks"})
    return path


def _vm_hwm_kib(pid: int) -> int:
    """Peak RSS so far of a running process from /proc, in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def measure(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float, int, int]:
    """Run ``command`` (stderr to ``log``); return (exit status, wall seconds, peak RSS KiB by
    wait4, peak RSS KiB polled from /proc)."""
    begin = time.perf_counter()
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    polled = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        polled = max(polled, _vm_hwm_kib(process.pid))
        time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - begin, usage.ru_maxrss, polled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    lengths = parser.add_mutually_exclusive_group()
    lengths.add_argument("--minutes", type=float, nargs="+", help="song lengths (10 60)")
    lengths.add_argument("--seconds", type=float, nargs="+", help="song lengths in seconds")
    parser.add_argument("--model", help="model name or file (default: random htdemucs)")
    parser.add_argument(
        "--tiny", action="store_true", help="a tiny random Demucs instead of htdemucs (fast)"
    )
    parser.add_argument("--device", default="cpu", help="passed to -d (cpu)")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS (2)")
    parser.add_argument("--folder", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    seconds = args.seconds or [m * 60 for m in (args.minutes or [10, 60])]

    with tempfile.TemporaryDirectory(prefix="stemgui-memory-") as temporary:
        folder = args.folder or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        if args.model:
            model = args.model
        elif args.tiny:
            model = str(tiny_model(folder / "tiny-demucs.stemgui"))
        else:
            model = str(random_model(folder / "random-htdemucs.stemgui"))
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), STEMGUI_LOG_DIR=str(folder))
        print(f"model: {model}; device: {args.device}; threads: {args.threads}")
        print(f"{'song':>10} {'wall':>9} {'peak RSS':>10} {'(/proc)':>10} {'mix f32':>9} "
              f"{'stems f32':>10}  status")  # fmt: skip
        failed = 0
        for length in seconds:
            song = folder / f"song-{length:g}s.wav"
            write_song(song, length)
            command = [sys.executable, "-m", "stemgui", "separate", str(song), "-n", model,
                       "-o", str(folder / "out"), "-d", args.device, "--overwrite"]  # fmt: skip
            log = folder / f"song-{length:g}s.stderr.txt"
            status, wall, peak, polled = measure(command, env, log)
            mix_mib = 2 * 4 * length * SAMPLERATE / 2**20
            print(
                f"{length / 60:7.1f}min {wall:8.1f}s {peak / 1024:9.0f}M {polled / 1024:9.0f}M "
                f"{mix_mib:8.0f}M {len(SOURCES) * mix_mib:9.0f}M  {status}"
            )
            if status != 0:
                failed += 1
                print(log.read_text(encoding="utf-8", errors="replace")[-2000:], file=sys.stderr)
            song.unlink()
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
