"""Speed of the tempo estimate and its beat grid (``stemgui.stems.tempo``) on a 5-minute song,
against reading it.

The song (synthetic drums at 128 BPM, stereo, 44.1 kHz) lies in an ``np.memmap`` file, as a long
song's stems do in the app. The reference, timed in the same run, reads the file once a block at
a time and sums it (what any analysis of the song costs at least); the ratio says how much the
estimate costs beyond that, on this machine as it is loaded now. Never pass/fail.

    .venv/bin/python bench/tempo_speed.py              # 5 minutes
    .venv/bin/python bench/tempo_speed.py --minutes 60 # a long song, a block at a time
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.spool import release_pages
from stemgui.stems.tempo import estimate_tempo
from tests.stems.drumkit import RATE, drum_track


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames = int(args.minutes * 60 * RATE)
    bar = drum_track(128, 60.0, "four")  # a minute, repeated: 128 BPM is 128 beats in it
    with tempfile.TemporaryDirectory() as folder:
        song = np.memmap(Path(folder) / "song.f32", np.float32, "w+", shape=(2, frames))
        for start in range(0, frames, bar.shape[1]):
            stop = min(start + bar.shape[1], frames)
            song[:, start:stop] = bar[:, : stop - start]
            release_pages(song, start, stop)  # written: out of this process's memory
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reads, estimates, tempo = [], [], None
        for _ in range(args.repeats):
            begin = time.perf_counter()
            total = 0.0
            for start in range(0, frames, 1 << 18):
                total += float(np.asarray(song[:, start : start + (1 << 18)]).sum())
                release_pages(song, start, start + (1 << 18), flush=False)
            reads.append(time.perf_counter() - begin)
            begin = time.perf_counter()
            tempo = estimate_tempo(song, RATE)
            estimates.append(time.perf_counter() - begin)
        del song
    read, estimate = min(reads), min(estimates)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    grid = "no beat grid"
    if tempo.beat is not None:  # the grid's beat nearest 0, where the first hit was made
        offset = tempo.first_beat - (tempo.beat if tempo.first_beat > tempo.beat / 2 else 0)
        grid = f"beats every {tempo.beat * 1000:.3f} ms (made: {60000 / 128:.3f}), one at"
        grid += f" {offset * 1000:+.1f} ms (made: 0)"
    print(f"{args.minutes:g} min song: {tempo.bpm} BPM (128 made), {grid}")
    print(f"estimate {estimate:.3f} s, reading the song {read:.3f} s, ratio {estimate / read:.1f}")
    print(
        f"peak resident memory {before:.0f} MB before, {peak:.0f} MB after"
        f" (the song: {frames * 8 / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
