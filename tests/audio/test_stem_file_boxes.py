"""``mp4_boxes.edit_moov``: a box added to ``moov/udta`` of an MP4, the audio unchanged, whether
``moov`` comes after the media data (as FFmpeg writes it) or before it (a "fast start" file,
whose chunk offsets then move)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stemgui.audio.mp4_boxes import Box, edit_moov, parse, set_child, top_level

RATE = 44100


def _mp4(path, fast_start: bool) -> None:
    """Two AAC tracks of a second of tones, ``moov`` first when ``fast_start``."""
    import av

    options = {"movflags": "faststart"} if fast_start else {}
    t = np.arange(RATE) / RATE
    with av.open(str(path), "w", format="mp4", options=options) as container:
        streams = [container.add_stream("aac", rate=RATE, layout="mono") for _ in range(2)]
        for index, stream in enumerate(streams):
            tone = (0.5 * np.sin(2 * np.pi * 220 * (index + 1) * t)).astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.time_base, frame.pts = RATE, Fraction(1, RATE), 0
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))


def _decoded(path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        out: dict[int, list[np.ndarray]] = {}
        for packet in container.demux(*container.streams.audio):
            for frame in packet.decode():
                out.setdefault(packet.stream.index, []).append(frame.to_ndarray())
    return [np.concatenate(out[i], axis=1) for i in sorted(out)]


def _add(payload: bytes):
    def edit(moov: Box) -> None:
        udta = moov.child(b"udta") or Box(b"udta", children=[])
        set_child(moov, udta)
        set_child(udta, Box(b"stem", payload))

    return edit


@pytest.mark.parametrize("fast_start", [False, True])
def test_a_box_added_to_udta_leaves_the_audio_as_it_was(tmp_path, fast_start):
    path = tmp_path / "a.mp4"
    _mp4(path, fast_start)
    kinds = [kind for kind, _, _ in top_level(path)]
    assert (kinds.index(b"moov") < kinds.index(b"mdat")) == fast_start
    before = _decoded(path)
    edit_moov(path, _add(b'{"version": 1}' * 100))
    after = _decoded(path)
    assert len(after) == len(before) == 2
    for old, new in zip(before, after):
        np.testing.assert_array_equal(new, old)
    (moov,) = [box for box in parse(path.read_bytes()) if box.kind == b"moov"]
    assert moov.child(b"udta").child(b"stem").data == b'{"version": 1}' * 100


@pytest.mark.parametrize("fast_start", [False, True])
def test_a_box_replaced_by_a_smaller_one_leaves_no_bytes_behind(tmp_path, fast_start):
    path = tmp_path / "a.mp4"
    _mp4(path, fast_start)
    edit_moov(path, _add(b"x" * 5000))
    before = _decoded(path)
    size = path.stat().st_size
    edit_moov(path, _add(b"y"))
    assert path.stat().st_size == size - 4999
    for old, new in zip(before, _decoded(path)):
        np.testing.assert_array_equal(new, old)


def test_a_file_without_moov_is_refused(tmp_path):
    path = tmp_path / "a.mp4"
    path.write_bytes(Box(b"ftyp", b"isom\0\0\0\0").to_bytes())
    with pytest.raises(ValueError, match="no moov"):
        edit_moov(path, _add(b""))
