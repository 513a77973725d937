"""Generators of short test media: tones, and files written with PyAV's bundled encoders; and
the tags FFmpeg reads in a file written."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def tone(
    samplerate: int, seconds: float = 1.0, freq: float = 440.0, amps=(0.5, 0.25)
) -> np.ndarray:
    """Sines of ``freq`` with one amplitude per channel: float32 (channels, frames)."""
    t = np.arange(round(samplerate * seconds)) / samplerate
    sine = np.sin(2 * np.pi * freq * t)
    return np.stack([a * sine for a in amps]).astype(np.float32)


def spectrum_peak(signal: np.ndarray, samplerate: int) -> tuple[float, float]:
    """(frequency in Hz, amplitude) of the strongest sinusoid in a 1-D signal (Hann window)."""
    window = np.hanning(len(signal))
    magnitude = np.abs(np.fft.rfft(signal * window))
    k = int(np.argmax(magnitude))
    return k * samplerate / len(signal), 2 * magnitude[k] / window.sum()


def amplitude_at(signal: np.ndarray, samplerate: int, freq: float) -> float:
    """Amplitude of the ``freq`` component of a 1-D signal (Hann window, nearest bin)."""
    window = np.hanning(len(signal))
    magnitude = np.abs(np.fft.rfft(signal * window))
    k = round(freq * len(signal) / samplerate)
    return 2 * magnitude[k - 1 : k + 2].max() / window.sum()


def tags_of(path) -> dict[str, str]:
    """The tags FFmpeg reads in ``path``, the container's and its audio stream's."""
    with av.open(str(path)) as container:
        found = dict(container.metadata)
        for stream in container.streams.audio:
            found.update(stream.metadata)
    return found


def av_write(
    path: Path,
    samples: np.ndarray | None,
    samplerate: int,
    codec: str | None,
    container: str,
    video: str | None = None,
    layout: str | None = None,
) -> Path:
    """Write ``samples`` (channels, frames) with a PyAV encoder, optionally beside a video stream.

    ``samples=None`` writes a video-only file.
    """
    with av.open(str(path), "w", format=container) as out:
        vstream = None
        if video:
            vstream = out.add_stream(video, rate=10)
            vstream.width = vstream.height = 32
            vstream.pix_fmt = "yuv420p"
        astream = None
        if samples is not None:
            astream = out.add_stream(codec, rate=samplerate)
            astream.bit_rate = 128000
            astream.layout = layout or LAYOUTS[samples.shape[0]]
            if astream.codec_context.format.name == "u8":  # TTA's first: 8 bits lose the tone
                astream.format = "s16"
            fmt = astream.codec_context.format.name
        if vstream is not None:
            for i in range(5):
                picture = np.full((32, 32, 3), 40 * i, np.uint8)
                out.mux(vstream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
            out.mux(vstream.encode(None))
        if astream is not None:
            for start in range(0, samples.shape[1], 1024):
                block = samples[:, start : start + 1024]
                if not fmt.endswith("p"):  # packed: interleaved in one row
                    block = block.T.reshape(1, -1)
                if fmt.startswith("s16"):
                    block = np.round(block * 32767).astype(np.int16)
                elif fmt.startswith("s32"):
                    block = np.round(block * (2**31 - 1)).astype(np.int32)
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(block), format=fmt, layout=astream.layout
                )
                frame.sample_rate = samplerate
                frame.time_base = Fraction(1, samplerate)
                frame.pts = start
                out.mux(astream.encode(frame))
            out.mux(astream.encode(None))
    return path


def png_bytes() -> bytes:
    """A small valid PNG image (for "a picture renamed .wav")."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * 12 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
