"""Time to export a song as one Stems file (``.stem.mp4``: the song and four stems, AAC at 256
kb/s) against its four stems as 320 kb/s mp3 files, in the same run: wall and processor time
(the five AAC tracks are encoded at once, so wall time falls with idle cores, processor time
not). Never pass/fail.

Four stereo stems of steady tones (``tests.export.stem_file_rig``), 44.1 kHz, in RAM as a song
under five minutes is in the app.

    .venv/bin/python bench/export_stem_file.py               # a 4-minute song
    .venv/bin/python bench/export_stem_file.py --minutes 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.audio.encode import AudioFormat
from stemgui.audio.stem_mp4 import StemFileFormat
from stemgui.export.exporter import ExportRequest, export
from tests.export.stem_file_rig import tonal_stems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    args = parser.parse_args()
    stemset = tonal_stems(args.minutes * 60)
    formats = {"Stems file": StemFileFormat(), "4 mp3 files": AudioFormat("mp3", mp3_bitrate=320)}
    print(f"{args.minutes:g} min song:")
    with tempfile.TemporaryDirectory() as folder:
        for label, fmt in formats.items():
            request = ExportRequest(folder=Path(folder) / label, fmt=fmt, rescale_together=True)
            wall, cpu = time.perf_counter(), time.process_time()
            written = export(stemset, request, "song", "model")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            size = sum(path.stat().st_size for path in written) / 1e6
            print(f"{label:12} {wall:6.1f} s wall, {cpu:6.1f} s processor, {size:.1f} MB")


if __name__ == "__main__":
    main()
