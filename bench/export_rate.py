"""Time to export a song's stems at the song's own rate (48 kHz, resampled a block at a time)
against the stems' own (44.1 kHz, nothing resampled), in the same run.

Four stereo stems of noise shaped like music (each a different band), 44.1 kHz, in RAM as a song
under five minutes is in the app, exported as the app's dialog does by default: the four stems
and the mix as heard, 16-bit wav, one divisor for every file (found in a first pass). The memory
figure is the growth of the peak resident size over the stems and torch. Never pass/fail.

    .venv/bin/python bench/export_rate.py                # a 2-minute song
    .venv/bin/python bench/export_rate.py --minutes 10 --repeats 1
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

from stemgui.audio.encode import AudioFormat
from stemgui.export.exporter import ExportRequest, export
from stemgui.stems.stemset import StemSet

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")


def stems(frames: int) -> StemSet:
    rng = np.random.default_rng(0)
    data = np.empty((4, 2, frames), np.float32)
    for index in range(4):  # smoothed noise: a lower band for each stem after the first
        noise = rng.standard_normal((2, frames)).astype(np.float32)
        width = 1 + 3 * index
        kernel = np.ones(width, np.float32) / width
        for channel in range(2):
            data[index, channel] = 0.1 * np.convolve(noise[channel], kernel, mode="same")
    return StemSet(NAMES, RATE, data, mix=data.sum(axis=0))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    stemset = stems(int(args.minutes * 60 * RATE))
    fmt = AudioFormat(kind="wav", bits=16)  # the dialog's default; clip "rescale"
    import julius  # noqa: F401  (torch's libraries: not the export's memory)

    before = rss_mb()
    times: dict[int | None, list[float]] = {None: [], 48000: []}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            for rate in times:
                request = ExportRequest(
                    folder=Path(folder) / f"{rate}-{repeat}",
                    mix_gains=(1.0, 1.0, 1.0, 1.0),
                    fmt=fmt,
                    rescale_together=True,
                    samplerate=rate,
                )
                begin = time.perf_counter()
                written = export(stemset, request, "song", "model")
                times[rate].append(time.perf_counter() - begin)
                for path in written:
                    path.unlink()
    same, resampled = min(times[None]), min(times[48000])
    print(f"{args.minutes:g} min song, 4 stems and the mix, 16-bit wav, best of {args.repeats}:")
    print(f"at 44.1 kHz (the stems' own) {same:.2f} s")
    print(f"at 48 kHz (resampled)        {resampled:.2f} s, ratio {resampled / same:.1f}")
    print(f"peak RSS {rss_mb():.0f} MB, {rss_mb() - before:.0f} MB over the stems and torch")


if __name__ == "__main__":
    main()
