"""Native Instruments Stems files (``.stem.mp4``): the song and its four stems in one MP4.

Traktor, Mixxx (2.4 on) and djay load such a file as one track with four stem decks; any other
player plays its first track alone, the song. ``write`` encodes the five tracks (the song, then
the stems in order: drums, bass, other, vocals) with PyAV's bundled AAC encoder (FFmpeg's own,
``aac``) at ``STEM_RATE``, the first marked default (FFmpeg marks it enabled and the others not,
all in one alternate group: a player picks one); puts the song's tags in the iTunes tag list
(the tempo as ``tmpo``; the key, which FFmpeg has no name for, as a freeform ``initialkey``
item); then adds the Stems manifest, JSON naming each stem and its colour (``manifest``), in
``moov/udta/stem``, where those programs look for it (``stemgui.audio.mp4_boxes``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import ClassVar

import numpy as np

STEM_RATE = 44100
"""The rate of every track of a Stems file, as Native Instruments' Stem Creator writes them."""
AAC_KBPS = 256
"""Each track's AAC bit rate: the Stem Creator's."""
STEM_TRACKS = 5  # the song and four stems
STEM_COLOURS = {"drums": "#009E73", "bass": "#D55E00", "other": "#CC79A7", "vocals": "#56B4E9"}
"""The colour of each stem in the manifest: those Mixxx gives a Stems file that names none."""
_ENCODER = "aac"
_TAGS = {"bpm": "tmpo"}  # our names -> FFmpeg's MP4 muxer's, where they differ
_FREEFORM = {"key": "initialkey"}  # written as ----:com.apple.iTunes:<name> items


@dataclass(frozen=True)
class StemFileFormat:
    """The ``ExportRequest.fmt`` that asks for one Stems file per song rather than a file per
    stem: AAC at ``bitrate`` kbps a track, 44.1 kHz. Its tracks share one divisor that keeps
    the loudest below full scale (``clip`` is "rescale"): the stems still add up to the song."""

    bitrate: int = AAC_KBPS
    kind: ClassVar[str] = "stem"
    clip: ClassVar[str] = "rescale"
    extension: ClassVar[str] = "stem.mp4"
    """The file extension without its first dot."""


def manifest(names: Sequence[str]) -> bytes:
    """The Stems manifest (``moov/udta/stem``) of a file whose stems are ``names``, in order:
    version 1, the mastering DSP (a compressor and a limiter Traktor would put on the stems
    summed) off, and each stem's name and colour."""
    fallback = list(STEM_COLOURS.values())
    document = {
        "version": 1,
        "mastering_dsp": {
            "compressor": {
                "enabled": False,
                "input_gain": 0.0,
                "output_gain": 0.0,
                "threshold": 0.0,
                "dry_wet": 100,
                "attack": 0.003,
                "release": 0.3,
                "ratio": 1.0,
                "hp_cutoff": 20,
            },
            "limiter": {"enabled": False, "threshold": 0.0, "ceiling": 0.0, "release": 0.05},
        },
        "stems": [
            {"name": name, "color": STEM_COLOURS.get(name, fallback[index % len(fallback)])}
            for index, name in enumerate(names)
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def write(
    part: Path,
    blocks: Iterable[Sequence[np.ndarray]],
    names: Sequence[str],
    channels: int,
    fmt: StemFileFormat,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Write a Stems file at ``part`` from ``blocks``: each the same frames of the song and of
    every stem of ``names``, in that order, (channels, n) float32 at ``STEM_RATE``, within full
    scale; 1 or 2 channels. ``tags``: FFmpeg's names (title, artist...), "bpm" and "key" too.

    Raises:
        av.FFmpegError, OSError: the encoder or the disk failed (``encode.write_errors``).
        ValueError: more than two channels, or not four stems.
    """
    import av

    from stemgui.audio import mp4_boxes

    if channels not in (1, 2) or len(names) != STEM_TRACKS - 1:
        raise ValueError(f"a Stems file holds 4 stems of 1 or 2 channels: {names}, {channels}")
    tags = dict(tags or {})
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(part), mode="w", format="mp4") as container:
        container.metadata.update(
            {_TAGS.get(k, k): v for k, v in tags.items() if k not in _FREEFORM}
        )
        streams = []
        for index in range(STEM_TRACKS):
            stream = container.add_stream(_ENCODER, rate=STEM_RATE)
            stream.bit_rate = fmt.bitrate * 1000
            stream.layout = layout
            stream.format = "fltp"
            default = av.stream.Disposition.default if index == 0 else av.stream.Disposition(0)
            stream.disposition = default
            streams.append(stream)
        time_base = Fraction(1, STEM_RATE)

        def encoded(stream, samples: np.ndarray | None, pts: int) -> list:
            if samples is None:
                return stream.encode(None)  # what the encoder holds back
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=layout
            )
            frame.sample_rate, frame.time_base, frame.pts = STEM_RATE, time_base, pts
            return stream.encode(frame)

        # the five encoders at once (FFmpeg encodes without Python's lock), muxed in turn
        with ThreadPoolExecutor(STEM_TRACKS, thread_name_prefix="stemgui-aac") as pool:
            pts = 0
            for block in chain(blocks, [[None] * STEM_TRACKS]):  # a block at a time
                if len(block) != STEM_TRACKS:
                    raise ValueError(f"a block of {len(block)} tracks, not {STEM_TRACKS}")
                jobs = [pool.submit(encoded, s, b, pts) for s, b in zip(streams, block)]
                for job in jobs:
                    container.mux(job.result())
                pts += 0 if block[0] is None else block[0].shape[1]
    extra = {_FREEFORM[k]: v for k, v in tags.items() if k in _FREEFORM and v}
    mp4_boxes.edit_moov(part, lambda moov: _add_boxes(moov, manifest(names), extra))


def _add_boxes(moov, stem: bytes, items: Mapping[str, str]) -> None:
    """Put the manifest ``stem`` in ``moov/udta``, and ``items`` (name -> text) in its iTunes
    tag list as freeform items (where the muxer wrote a list: always, with the encoder's name)."""
    from stemgui.audio.mp4_boxes import Box, freeform_item, set_child

    udta = moov.child(b"udta")
    if udta is None:
        udta = Box(b"udta", children=[])
        set_child(moov, udta)
    set_child(udta, Box(b"stem", stem))
    meta = udta.child(b"meta")
    ilst = meta.child(b"ilst") if meta is not None else None
    if ilst is not None:
        ilst.children = (ilst.children or []) + [freeform_item(n, v) for n, v in items.items()]
