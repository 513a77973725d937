"""What playing slower or faster (``stemgui.playback.stretch``) or in another key
(``stemgui.playback.pitch``) costs the audio callback, against playing the song as it is, in the
same run.

Four stereo stems of noise shaped like music and their original mix (a channel of the mixer, as
the app plays a song that has one: heard for A/B, stretched beside the stems), 44.1 kHz, through
``NullOutput.pump`` in blocks of 512 frames as PortAudio asks for them: the time to render 30 s
of output at each speed and transposition, and how many times faster than real time that is (the
callback must stay far above 1), the stems heard and, at 100 %, the original soloed as A/B plays
it. Never pass/fail.

    .venv/bin/python bench/stretch_speed.py
    .venv/bin/python bench/stretch_speed.py --seconds 60 --block 256
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stemgui.playback.null_output import NullOutput
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import ORIGINAL, MixerState
from stemgui.stems.stemset import StemSet

RATE = 44100


def song(seconds: float) -> StemSet:
    rng = np.random.default_rng(0)
    frames = int(seconds * RATE)
    data = rng.standard_normal((4, 2, frames)).astype(np.float32)
    for i, width in enumerate((1, 8, 64, 512)):  # each stem its own band, roughly
        kernel = np.ones(width, np.float32) / width
        for c in range(2):
            data[i, c] = 0.1 * np.convolve(data[i, c], kernel, mode="same")
    return StemSet(("drums", "bass", "other", "vocals"), RATE, data, data.sum(axis=0))


def render_time(
    stems: StemSet,
    speed: float,
    seconds: float,
    block: int,
    semitones: int = 0,
    original: bool = False,
) -> float:
    """Seconds to render ``seconds`` of output; ``original``: the original mix soloed (A/B)."""
    transport = Transport(stems.frames, RATE)
    mixer = MixerState(stems.names, original=True)  # as the app's player (shown_song.py)
    mixer.set_solo(ORIGINAL, original)
    output = NullOutput(stems, mixer, transport, blocksize=block)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    out = np.zeros((block, 2), np.float32)
    blocks = int(seconds * RATE) // block
    start = time.perf_counter()
    for _ in range(blocks):
        output.pump(block, out)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--block", type=int, default=512)
    args = parser.parse_args()
    stems = song(2 * args.seconds + 5)  # 1.5 times as fast still ends inside the song
    reference = render_time(stems, 1.0, args.seconds, args.block)
    print(f"{args.seconds:.0f} s of output in blocks of {args.block} frames")
    print(f"speed 1.00: {reference:.3f} s, {args.seconds / reference:.0f} times real time")
    for speed, semitones, original in (
        (1.0, 0, True),
        (0.5, 0, False),
        (0.75, 0, False),
        (0.9, 0, False),
        (1.25, 0, False),
        (1.5, 0, False),
        (1.0, 2, False),
        (1.0, -3, False),
        (1.0, 6, False),
        (0.75, 2, False),
    ):
        spent = render_time(stems, speed, args.seconds, args.block, semitones, original)
        print(
            f"speed {speed:.2f} {semitones:+d} st{', original' if original else ''}: "
            f"{spent:.3f} s, {args.seconds / spent:.0f} times real time, "
            f"{spent / reference:.2f} times speed 1"
        )


if __name__ == "__main__":
    main()
