"""Time to find the songs of a music library dropped on the window (or given to
``stemgui-separate``), stems exported beside some of them left out (``find_tracks``), against
the folder search alone (``find_audio_files``) in the same run.

The library: artists of 5 albums of 10 songs, 3 songs of each album exported beside it with
the default template (htdemucs/<song>/<stem>.wav), as empty files in a temporary folder.
Never pass/fail.

    .venv/bin/python bench/find_tracks.py                # 40 artists: 2,000 songs, 4,400 files
    .venv/bin/python bench/find_tracks.py --artists 100 --repeats 1
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.audio.files import find_audio_files
from stemgui.cli.tracks import find_tracks


def library(root: Path, artists: int) -> int:
    """Write the library under ``root``; return its number of songs."""
    for artist in range(artists):
        for album in range(5):
            folder = root / f"artist {artist}" / f"album {album}"
            folder.mkdir(parents=True)
            for song in range(10):
                (folder / f"{song:02d} song.mp3").write_bytes(b"")
            for song in range(3):
                stems = folder / "htdemucs" / f"{song:02d} song"
                stems.mkdir(parents=True)
                for stem in ("drums", "bass", "other", "vocals"):
                    (stems / f"{stem}.wav").write_bytes(b"")
    return artists * 50


def best(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artists", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the left-out stems, said once a search
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "library"
        songs = library(root, args.artists)
        files = len(find_audio_files([root]))
        found, _ = find_tracks([root])
        assert len(found) == songs, (len(found), songs)
        search = best(lambda: find_audio_files([root]), args.repeats)
        tracks = best(lambda: find_tracks([root]), args.repeats)
    print(f"{songs} songs of {files} files, best of {args.repeats}:")
    print(f"  find_audio_files {search:.3f} s")
    print(f"  find_tracks      {tracks:.3f} s  ({tracks / search:.1f} x the search)")


if __name__ == "__main__":
    main()
