"""What the tempo and key tags cost an export: the same song's four stems and mix exported with
and without them (a FLAC is copied once behind its longer comment block; a WAV gets a chunk at
its end; an mp3 has them in the header it writes anyway), and the analysis the command line
runs on each song to find them, in the same run. Never pass/fail.

    .venv/bin/python bench/tempo_key_tags.py                 # a 4-minute song
    .venv/bin/python bench/tempo_key_tags.py --minutes 10 --repeats 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_rate import RATE, stems

from stemgui.audio.encode import AudioFormat
from stemgui.export.exporter import ExportRequest, export
from stemgui.stems.analysis import Analysis, analyse
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo

FOUND = Analysis(Tempo(119.0), Key(9, "minor"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    stemset = stems(int(args.minutes * 60 * RATE))
    print(f"{args.minutes:g} min song, 4 stems and the mix, best of {args.repeats}:")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in (AudioFormat("wav", bits=16), AudioFormat("flac", bits=16)):
            times: dict[str, list[float]] = {"without": [], "with": []}
            for repeat in range(args.repeats):
                runs = [("without", None), ("with", FOUND)]
                for kind, analysis in runs if repeat % 2 else runs[::-1]:  # each first in turn
                    request = ExportRequest(
                        folder=Path(folder) / f"{kind}-{repeat}",
                        mix_gains=(1.0, 1.0, 1.0, 1.0),
                        fmt=fmt,
                        rescale_together=True,
                        analysis=analysis,
                    )
                    begin = time.perf_counter()
                    written = export(stemset, request, "song", "model")
                    times[kind].append(time.perf_counter() - begin)
                    for path in written:
                        path.unlink()
            plain, tagged = min(times["without"]), min(times["with"])
            print(
                f"{fmt.kind:5s} without the tags {plain:.2f} s, with them {tagged:.2f} s, "
                f"ratio {tagged / plain:.2f}"
            )
    begin = time.perf_counter()
    analyse(stemset, "song")
    took = time.perf_counter() - begin
    print(f"finding the tempo and key (the command line does, each song): {took:.2f} s")


if __name__ == "__main__":
    main()
