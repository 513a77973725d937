"""mp3 writer on PyAV's bundled LAME encoder (constant bit rate).

libsndfile can write mp3 too, but only with a quality setting, not a bit rate; LAME through
PyAV takes the bit rate users ask for (128, 192, 320 kbps) directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

_ENCODER = "libmp3lame"
_LOUDEST = 1e4  # 80 dB over full scale: what an mp3 keeps of a sample at most


def write(
    part: Path,
    blocks: Iterable[np.ndarray],
    channels: int,
    samplerate: int,
    bitrate_kbps: int,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Encode (channels, n) float32 blocks, 1 or 2 channels, to an mp3 at ``part``; ``tags``
    (FFmpeg's names: title, artist, track...) go into its ID3 header."""
    import av

    from stemgui.audio.tags import mp3_tags

    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(part), mode="w", format="mp3") as container:
        container.metadata.update(mp3_tags(tags or {}))  # before the header is written
        stream = container.add_stream(_ENCODER, rate=samplerate)
        stream.bit_rate = bitrate_kbps * 1000
        stream.layout = layout
        stream.format = "fltp"
        time_base = Fraction(1, samplerate)
        pts = 0
        for block in blocks:
            # LAME aborts the whole process (a failed assertion, no exception) on samples
            # near 1e6; no sound is within 80 dB of that, clip mode "none" or not
            block = np.clip(block, -_LOUDEST, _LOUDEST, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block), format="fltp", layout=layout
            )
            frame.sample_rate = samplerate
            frame.time_base = time_base
            frame.pts = pts
            pts += block.shape[1]
            container.mux(stream.encode(frame))
        container.mux(_padding_summed(list(stream.encode(None))))


def _padding_summed(packets: list) -> list:
    """The encoder's last ``packets``, the padding of them all marked on the last one.

    FFmpeg's mp3 muxer writes the LAME header's end padding (what a decoder drops at the end)
    from the last packet's alone. For about one length in 28 (frames mod 1152 in 5..46) LAME's
    last packet is padding only, the one before it padded too, and that padding was lost:
    the file decoded up to 46 samples longer than the song."""
    from av.packet import PacketSideData

    def padding(packet) -> int:
        side = bytes(PacketSideData.from_packet(packet, "skip_samples"))
        return int.from_bytes(side[4:8], "little") if len(side) >= 8 else 0

    if len(packets) < 2 or not packets[-1].has_sidedata("skip_samples"):
        return packets
    last = packets[-1]
    total = sum(padding(packet) for packet in packets)
    # AV_PKT_DATA_SKIP_SAMPLES: u32 samples to skip at the start, u32 at the end, 2 reasons
    side = PacketSideData.from_packet(last, "skip_samples")
    data = bytearray(bytes(side))
    data[4:8] = total.to_bytes(4, "little")
    side.update(bytes(data))
    side.to_packet(last)
    return packets
