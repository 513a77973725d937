"""Memory growth of a long session in the app: 100 short songs through the window's queue.

The real ``MainWindow`` (offscreen, audio to a null output) gets all the songs at once, as a drop
of a folder does; its worker separates them one by one with a tiny known-answer network saved as
a model file (loaded through the store like any model). Each finished song is shown (stem rows,
waveforms, mixer, player loaded, a few blocks played), then the song before it is removed from
the queue, as a DJ working down a list does. This process's resident set size (``VmRSS``) is read
after every song: a leak in the queue, the stem view, the player or the worker shows up as growth
from the 10th song (caches warm) to the last. Target: under 100 MB.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/app_queue_memory.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/app_queue_memory.py --keep

``--keep`` leaves every song in the queue, with the stem cache on (its default): finished songs
off screen then read their stems from the cache, memory-mapped. Pages of those files that were
read count in the resident size but are clean (the system drops them when it needs memory), so
the figure to watch there is the anonymous memory (``RssAnon``), printed beside it.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import sys
from pathlib import Path

from stemgui import memory

memory.reuse_freed_memory()  # as the app does first thing, before numpy and torch

import numpy as np  # noqa: E402 - after the allocator set-up

sys.path.insert(0, str(Path(__file__).resolve().parent))

from queue_memory import RATE, rss_mib, tiny_network  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each song")
    parser.add_argument("--keep", action="store_true", help="keep the songs in the queue")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import soundfile as sf
    import torch
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from stemgui.playback.null_output import NullOutput
    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model
    from stemgui.ui import settings as S
    from stemgui.ui.queue import JobState
    from stemgui.ui.smoke import throwaway_folder
    from stemgui.ui.window import MainWindow

    torch.set_num_threads(2)
    app = QApplication([sys.argv[0]])
    with throwaway_folder("stemgui-app-queue-") as (settings, folder):
        os.environ["STEMGUI_LOG_DIR"] = str(folder / "logs")
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
        registry.register("BenchScaleNet", tiny_network())
        model = folder / "tiny.stemgui"
        save_model(registry.build("BenchScaleNet", {}).eval(), model)
        rng = np.random.default_rng(0)
        songs = []
        for index in range(args.songs):  # different songs: nothing is reused from a cache
            path = folder / "songs" / f"song {index:03d}.wav"
            path.parent.mkdir(exist_ok=True)
            noise = 0.1 * rng.standard_normal((int(args.seconds * RATE), 2))
            sf.write(path, noise.astype(np.float32), RATE, subtype="PCM_16")
            songs.append(path)
        settings.set(S.MODEL, str(model))
        settings.set(S.DEVICE, "cpu")
        settings.set(S.KEEP_STEMS, args.keep)
        window = MainWindow(settings, output_factory=NullOutput, probe=False)
        window.show()
        pending = collections.deque(window.add_paths(songs))  # let go of each job once done
        samples: list[float] = []
        anon: list[float] = []
        previous = job = None
        for index in range(len(pending)):
            job = pending.popleft()
            while not job.state.ended:
                app.processEvents()
            if job.state is not JobState.DONE:
                print(f"{job.path.name}: {job.state.value} {job.error}", file=sys.stderr)
                return 1
            window.select(job)
            window.show_job(job)
            window.player.toggle()  # play a little, then stop
            for _ in range(5):
                app.processEvents()
            window.player.stop()
            if previous is not None and not args.keep:
                window.remove_job(previous)
            previous = job
            app.processEvents()
            # What the event loop does when control returns to it (spinning processEvents here
            # does not): delete the widgets scheduled with deleteLater (the rows of the old song).
            app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            gc.collect()
            samples.append(rss_mib())
            anon.append(rss_mib("RssAnon"))  # what the system cannot drop
            if (index + 1) % 10 == 0:
                print(f"after song {index + 1:4d}: RSS {samples[-1]:7.1f} MiB, "
                      f"anonymous {anon[-1]:7.1f} MiB", flush=True)  # fmt: skip
        window.close()
    first = samples[min(9, len(samples) - 1)]
    growth = samples[-1] - first
    kept = " (all kept in the queue)" if args.keep else ""
    print(f"{args.songs} songs of {args.seconds:g} s through the window{kept}: "
          f"RSS {samples[0]:.1f} MiB after the first, {first:.1f} after the 10th, "
          f"{samples[-1]:.1f} after the last; "
          f"growth 10th->last {growth:+.1f} MiB (target < 100); anonymous memory "
          f"{anon[min(9, len(anon) - 1)]:.1f} -> {anon[-1]:.1f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
