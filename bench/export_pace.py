"""Time to export a song's stems and mix at the speed and key heard (``ExportRequest.pace``:
the player's stretcher and transposer, spooled once) against as the song is, in the same run.

Four stereo stems of noise, 44.1 kHz, in RAM, exported as the app's dialog does with the mix
ticked: 16-bit wav, one divisor for every file (a peak pass, then the writing pass, both
reading the spool). Never pass/fail.

    .venv/bin/python bench/export_pace.py                 # a 1-minute song
    .venv/bin/python bench/export_pace.py --minutes 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.export.exporter import ExportRequest, export
from stemgui.export.pace import Pace
from stemgui.stems.stemset import StemSet

RATE = 44100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = (0.1 * rng.standard_normal((4, 2, int(args.minutes * 60 * RATE)))).astype(np.float32)
    stems = StemSet(("drums", "bass", "other", "vocals"), RATE, data, mix=data.sum(axis=0))
    print(f"{args.minutes:g}-minute song, 4 stems and the mix, 16-bit wav:")
    reference = None
    for pace in (None, Pace(0.8, 0), Pace(1.0, 2), Pace(0.8, 2)):
        with tempfile.TemporaryDirectory() as folder:
            request = ExportRequest(
                folder=Path(folder), mix_gains=(1.0,) * 4, rescale_together=True, pace=pace
            )
            start = time.perf_counter()
            export(stems, request, "song", "model")
            spent = time.perf_counter() - start
        reference = reference or spent
        said = "as the song is" if pace is None else pace.label
        print(f"{said:<16} {spent:6.2f} s, {spent / reference:5.1f} times as the song is")


if __name__ == "__main__":
    main()
