"""Memory growth of a long session: 100 short songs through the command line in one process.

Runs ``stemgui.cli.main`` once per song (as a queue of the app does: one model load per song
through the store, decode, separate, export), with a tiny known-answer network, and reads this
process's resident set size (``VmRSS`` from ``/proc/self/status``) after every song. A leak of a
few hundred kilobytes per song shows up as tens of megabytes over the queue; the figure to
watch is the growth from the 10th song (caches warm) to the last. Target: under 100 MB.

    .venv/bin/python bench/queue_memory.py             # 100 songs of 5 s
    .venv/bin/python bench/queue_memory.py --songs 20 --seconds 2
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

RATE = 44100
SOURCES = ["drums", "bass", "other", "vocals"]


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident set size now (or another ``/proc/self/status`` field, such as
    ``RssAnon``), in MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def tiny_network():
    """A registered network class: source k = factor_k * mix (no weights worth the name)."""
    import torch
    from torch import nn

    class BenchScaleNet(nn.Module):
        def __init__(self, sources=tuple(SOURCES), samplerate=RATE, audio_channels=2, segment=2.0):
            super().__init__()
            self._init_kwargs = dict(sources=list(sources), samplerate=samplerate,
                                     audio_channels=audio_channels, segment=segment)  # fmt: skip
            self.sources, self.samplerate = list(sources), samplerate
            self.audio_channels, self.segment = audio_channels, segment
            self.factors = nn.Parameter(torch.linspace(0.1, 0.4, len(sources)))

        def forward(self, mix):  # (batch, channels, time) -> (batch, sources, channels, time)
            return mix[:, None] * self.factors.view(1, -1, 1, 1)

    return BenchScaleNet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each song")
    parser.add_argument("--folder", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)

    import soundfile as sf
    import torch

    from stemgui import cli
    from stemgui.logs import reset_logging
    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory(prefix="stemgui-queue-") as temporary:
        folder = args.folder or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["STEMGUI_LOG_DIR"] = str(folder / "logs")
        registry.register("BenchScaleNet", tiny_network())
        model = folder / "tiny.stemgui"
        save_model(registry.build("BenchScaleNet", {}).eval(), model)
        rng = np.random.default_rng(0)
        song = folder / "song.wav"
        noise = 0.1 * rng.standard_normal((int(args.seconds * RATE), 2))
        sf.write(song, noise.astype(np.float32), RATE, subtype="PCM_16")
        samples: list[float] = []
        for index in range(args.songs):
            status = cli.main([str(song), "-n", str(model), "-o", str(folder / "out"),
                               "--filename", f"{index:03d}/{{stem}}.{{ext}}"])  # fmt: skip
            if status != 0:
                print(f"song {index + 1} failed with status {status}", file=sys.stderr)
                return 1
            for stem in (folder / "out" / f"{index:03d}").iterdir():
                stem.unlink()  # keep the disk small; the writes happened
            gc.collect()
            samples.append(rss_mib())
            if (index + 1) % 10 == 0:
                print(f"after song {index + 1:4d}: RSS {samples[-1]:7.1f} MiB", flush=True)
        reset_logging()
        logging.shutdown()
    first = samples[min(9, len(samples) - 1)]
    growth = samples[-1] - first
    print(f"{args.songs} songs of {args.seconds:g} s: RSS {samples[0]:.1f} MiB after the first, "
          f"{first:.1f} after the 10th, {samples[-1]:.1f} after the last; "
          f"growth 10th->last {growth:+.1f} MiB (target < 100)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
