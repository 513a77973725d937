"""What the Stems file tests share: tonal stems AAC keeps well, and reading a Stems file back
(every track, decoded with PyAV, and its boxes)."""

from __future__ import annotations

import json

import numpy as np

from stemgui.audio.mp4_boxes import parse
from stemgui.stems.stemset import StemSet
from tests.export.export_rig import NAMES, RATE


def tonal_stems(seconds: float = 2.0, names=NAMES) -> StemSet:
    """Four stereo stems, each a few steady tones of its own (AAC at 256 kbps keeps them with a
    correlation near 1, where it would smear noise), their sum peaking above full scale."""
    t = np.arange(int(seconds * RATE)) / RATE
    stems = []
    for index in range(len(names)):
        tones = [110.0 * (index + 1) * k for k in (1, 1.5, 2.25)]
        left = sum(np.sin(2 * np.pi * f * t) for f in tones) / 3
        right = sum(np.sin(2 * np.pi * f * t + 0.5) for f in tones) / 3
        stems.append(0.6 * np.stack([left, right]))
    data = np.stack(stems).astype(np.float32)
    return StemSet(names, RATE, data, mix=data.sum(axis=0))


def tracks_of(path) -> list[np.ndarray]:
    """Every audio track of the MP4 at ``path``, decoded: (channels, frames) each."""
    import av

    decoded: dict[int, list[np.ndarray]] = {}
    with av.open(str(path)) as container:
        assert all(s.rate == RATE for s in container.streams.audio)
        for packet in container.demux(*container.streams.audio):
            for frame in packet.decode():
                decoded.setdefault(packet.stream.index, []).append(frame.to_ndarray())
    return [np.concatenate(decoded[i], axis=1) for i in sorted(decoded)]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    frames = min(a.shape[-1], b.shape[-1])
    return float(np.corrcoef(a[..., :frames].ravel(), b[..., :frames].ravel())[0, 1])


def moov_of(path):
    """The ``moov`` box of the file at ``path``, parsed."""
    boxes = parse(path.read_bytes())
    return next(box for box in boxes if box.kind == b"moov")


def manifest_of(path) -> dict:
    """The Stems manifest of the file at ``path``: the JSON of its ``moov/udta/stem`` box."""
    return json.loads(moov_of(path).child(b"udta").child(b"stem").data)
