"""mp3 writer on PyAV's bundled LAME encoder (constant bit rate).

libsndfile can write mp3 too, but only with a quality setting, not a bit rate; LAME through
PyAV takes the bit rate users ask for (128, 192, 320 kbps) directly.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

_ENCODER = "libmp3lame"
_BLOCK_FRAMES = 1152 * 32


def write(part: Path, samples: np.ndarray, samplerate: int, bitrate_kbps: int) -> None:
    """Encode ``samples`` (channels, frames) float32, 1 or 2 channels, to an mp3 at ``part``."""
    import av

    channels, frames = samples.shape
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(part), mode="w", format="mp3") as container:
        stream = container.add_stream(_ENCODER, rate=samplerate)
        stream.bit_rate = bitrate_kbps * 1000
        stream.layout = layout
        stream.format = "fltp"
        time_base = Fraction(1, samplerate)
        for start in range(0, frames, _BLOCK_FRAMES):
            block = np.ascontiguousarray(samples[:, start : start + _BLOCK_FRAMES])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = samplerate
            frame.time_base = time_base
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
