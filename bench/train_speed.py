"""CPU training step time with and without stemgui's allocator set-up, alternating in one run.

``python -m training`` calls ``stemgui.memory.reuse_freed_memory()`` first thing, as the app and
``stemgui-separate`` do: glibc then keeps a step's freed temporaries for the next step instead of
unmapping them and faulting fresh pages in again. This script times training steps of the CPU
recipe's network (``training/configs/htdemucs_cpu.toml``: HTDemucs, 24 channels, batch 4 of 4 s
excerpts) on generated tracks, each configuration in its own child process (the set-up has to
come before numpy and torch start their threads), alternating ``--repeats`` times.

    .venv/bin/python bench/train_speed.py               # 5 timed steps after 2 warm-up ones
    .venv/bin/python bench/train_speed.py --steps 2     # quick check

Prints, per child: seconds of wall time, user and system CPU time and minor page faults per step;
then the ratio of the step times, with the set-up / without it (below 1: faster with it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "training" / "configs" / "htdemucs_cpu.toml"


def child(reuse: bool, steps: int, threads: int) -> None:
    """Time ``steps`` training steps after two warm-up ones; print one JSON line."""
    if reuse:
        from stemgui import memory

        if not memory.reuse_freed_memory():
            raise SystemExit("this C library does not take the set-up (glibc only)")
    import resource
    import tempfile
    import time

    import numpy as np
    import torch

    from training import config as config_mod
    from training.fit import Trainer

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    tracks = []
    for _ in range(8):  # 7 s each, as the MUSDB previews
        stems = (0.1 * rng.standard_normal((4, 2, 7 * 44100))).astype(np.float32)
        tracks.append(np.concatenate([stems.sum(0, keepdims=True), stems]))
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config_mod.load(RECIPE), folder, train_tracks=tracks, valid_tracks=[])
        for _ in range(2):
            trainer.train_step()
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "wall": wall / steps,
                "user": (after.ru_utime - before.ru_utime) / steps,
                "system": (after.ru_stime - before.ru_stime) / steps,
                "faults": (after.ru_minflt - before.ru_minflt) / steps,
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per child (5)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--repeats", type=int, default=2, help="pairs of children (2)")
    parser.add_argument("--child", choices=("with", "without"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child == "with", args.steps, args.threads)
        return
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(args.repeats):
        for kind in ("without", "with"):
            command = [sys.executable, __file__, "--child", kind, "--steps", str(args.steps)]
            command += ["--threads", str(args.threads)]
            out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            times[kind].append(result["wall"])
            print(
                f"{kind:>7} the set-up: {result['wall']:.2f} s a step (user {result['user']:.2f} "
                f"s, system {result['system']:.2f} s, {result['faults']:,.0f} page faults)"
            )
    ratio = min(times["with"]) / min(times["without"])
    print(f"ratio with / without, best step times: {ratio:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
