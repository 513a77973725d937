"""Recognise, from their bytes, files that libsndfile would read only in part.

libsndfile takes an mp3's length from its Xing/Info/VBRI header and reads no further, and it
reads only the first link of a chained Ogg (Ogg files joined end to end, as radio rips and some
downloads are). An mp3 without that header has its length estimated from its size at its first
frame's bit rate: a variable bit rate file whose first frame is dense lost the rest. Two mp3s
joined with ``cat``, a chained Ogg, an mp3 whose header holds a damaged frame count, or a
variable bit rate mp3 without a header would lose audio without a word; :func:`pyav_reason`
finds them so that PyAV, which reads every frame, decodes them instead.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mp3Header:
    """What an mp3's Xing/Info/VBRI header states, and where the file's audio lies.

    ``frames`` (MPEG frames) and ``size`` (bytes, the header's own frame included) are None
    when the header leaves them out. ``first_frame`` is the offset of the header's frame,
    ``audio_bytes`` the bytes from there to the end, tags left out.
    """

    frames: int | None
    size: int | None
    first_frame: int
    audio_bytes: int


def pyav_reason(path: Path, head: bytes) -> str | None:
    """Why libsndfile would not read all of ``path`` (a warning for the user), or None.

    "" means PyAV should decode it but there is nothing to warn about (a chained Ogg is valid).
    The file is memory-mapped, not read into memory (a long mp3 is 100 MB and more).

    Raises:
        OSError, ValueError: the file cannot be read or mapped.
    """
    ogg = head.startswith(b"OggS")
    if not ogg and not head.startswith(b"ID3") and (len(head) < 4 or _frame_size(head, 0) is None):
        return None  # neither an Ogg nor an mp3: no need to read it
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return ("" if ogg_is_chained(data) else None) if ogg else _mp3_reason(data)


def _mp3_reason(data: bytes) -> str | None:
    """``pyav_reason`` of an mp3 whose bytes are ``data``."""
    header = mp3_header(data)
    if header is None or header.frames is None:
        # libsndfile estimates the length from the size at the first frame's bit rate, which
        # holds for a constant bit rate only (a valid file: nothing to warn about)
        return None if _constant_bit_rate(data) else ""
    claimed, found = header.frames, count_frames(data, header.first_frame)
    size_agrees = header.size is not None and _near(header.audio_bytes, header.size)
    if found > claimed and not _near(found, claimed):
        if header.size is not None and header.audio_bytes > header.size and not size_agrees:
            return (
                "the file holds more audio than its header says (several mp3s joined"
                " together?); all of it was decoded"
            )
        return "the length in the file's header is damaged; all the audio in it was decoded"
    if claimed > 2 * found and size_agrees:
        # Every byte the header counts is there, yet far from the frames it counts: a file cut
        # short would miss bytes too, and damage in the middle loses a few frames, not half.
        return "the length in the file's header is damaged; all the audio in it was decoded"
    return None


def _near(found: int, stated: int) -> bool:
    """Within 1% (and a frame or two): libmpg123 allows as much before it calls a Xing size off."""
    return abs(found - stated) <= 0.01 * stated + 2


def ogg_is_chained(data: bytes) -> bool:
    """True when an Ogg stream begins again after its first pages: a chain of Ogg files.

    Every logical stream starts with a page whose "beginning of stream" flag is set; those of a
    single file (one per multiplexed stream) all come first. The pages are walked by their
    lengths ("OggS" found by chance inside the audio is not a page); after damage, the walk
    goes on from the next "OggS".
    """
    seen_data = False
    at = data.find(b"OggS")
    while at >= 0 and at + _PAGE_HEADER <= len(data):
        segments = data[at + _PAGE_HEADER - 1]
        table = data[at + _PAGE_HEADER : at + _PAGE_HEADER + segments]
        if data[at + 4] != 0 or len(table) < segments:  # not a page after all
            at = data.find(b"OggS", at + 1)
            continue
        if data[at + 5] & _BEGINNING_OF_STREAM:
            if seen_data:
                return True
        else:
            seen_data = True
        following = at + _PAGE_HEADER + segments + sum(table)
        at = following if data[following : following + 4] == b"OggS" else data.find(b"OggS", at + 1)
    return False


_BEGINNING_OF_STREAM = 0x02
_PAGE_HEADER = (
    27  # "OggS", version, flags, granule (8), serial (4), sequence (4), CRC (4), segments
)


def mp3_header(data: bytes) -> Mp3Header | None:
    """The Xing/Info/VBRI header of the mp3 whose bytes are ``data``, or None."""
    start = _id3v2_size(data)
    frame = next_frame(data[start : start + _SYNC_SEARCH_BYTES], 0)
    if frame is None:
        return None
    frame += start
    mpeg1 = data[frame + 1] >> 3 & 3 == 3
    mono = data[frame + 3] >> 6 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    audio_bytes = len(data) - frame - _trailing_tags_size(data[-_TAIL_BYTES:])
    xing = frame + 4 + side_info
    if data[xing : xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(data[xing + 4 : xing + 8], "big")
        field = xing + 8
        frames = size = None
        if flags & 1:
            frames = int.from_bytes(data[field : field + 4], "big")
            field += 4
        if flags & 2:
            size = int.from_bytes(data[field : field + 4], "big")
        return Mp3Header(frames, size, frame, audio_bytes)
    vbri = frame + 36
    if data[vbri : vbri + 4] == b"VBRI":
        size = int.from_bytes(data[vbri + 10 : vbri + 14], "big")
        frames = int.from_bytes(data[vbri + 14 : vbri + 18], "big")
        return Mp3Header(frames, size, frame, audio_bytes)
    return None


def states_length(head: bytes) -> bool:
    """True when the mp3 whose first bytes are ``head`` has a header stating its frame count."""
    header = mp3_header(head)
    return header is not None and header.frames is not None


def count_frames(data: bytes, at: int) -> int:
    """MPEG layer III frames in ``data`` from offset ``at`` on, the header's own excluded."""
    # the Xing/Info/VBRI frame holds no audio and is not counted in its header
    return max(sum(1 for _ in _frames(data, at)) - 1, 0)


def _constant_bit_rate(data: bytes) -> bool:
    """True when every MPEG layer III frame of the mp3 whose bytes are ``data`` has the bit
    rate of its first."""
    start = _id3v2_size(data)
    rates = {data[at + 2] >> 4 for at in _frames(data, start)}
    return len(rates) <= 1


def _frames(data: bytes, at: int) -> Iterator[int]:
    """The offsets of the MPEG layer III frames in ``data`` from offset ``at`` on.

    Each frame header gives the frame's size, so the walk is fast; junk between frames is
    skipped as a decoder would.
    """
    while at + 4 <= len(data):
        size = _frame_size(data, at)
        if size is None:  # junk or damage, however long (8 KB of zeros lost 18 frames)
            following = next_frame(data, at + 1)
            if following is None:
                break
            at = following
            continue
        yield at
        at += size


_SYNC_SEARCH_BYTES = 4096
_TAIL_BYTES = 128 + 32  # an ID3v1 tag, after an APE tag's footer

# kbps by bitrate index (0: "free format", which has no fixed size), for layer III.
_MPEG1_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Hz by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and rate index.
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _frame_size(data: bytes, at: int) -> int | None:
    """Bytes of the MPEG layer III frame whose header is at ``at``, or None if there is none."""
    if data[at] != 0xFF:
        return None
    second, third = data[at + 1], data[at + 2]
    version, layer = second >> 3 & 3, second >> 1 & 3
    bitrate, rate, padding = third >> 4, third >> 2 & 3, third >> 1 & 1
    if second & 0xE0 != 0xE0 or version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None
    if version == 3:
        return 144000 * _MPEG1_KBPS[bitrate] // _RATES[3][rate] + padding
    return 72000 * _MPEG2_KBPS[bitrate] // _RATES[version][rate] + padding


def _id3v2_size(head: bytes) -> int:
    """Bytes of the ID3v2 tag that opens the file (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:  # "synchsafe": seven bits per byte
        size = size << 7 | byte & 0x7F
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def next_frame(data: bytes, start: int) -> int | None:
    """Offset of the first MPEG layer III frame header in ``data`` from ``start`` on, or None."""
    at = data.find(b"\xff", start)
    while at >= 0 and at + 4 <= len(data):
        if _frame_size(data, at) is not None:
            return at
        at = data.find(b"\xff", at + 1)
    return None


def _trailing_tags_size(tail: bytes) -> int:
    """Bytes of the ID3v1 and APE tags at the end of ``tail`` (the file's last bytes)."""
    size = 0
    if len(tail) >= 128 and tail[-128:-125] == b"TAG":
        size, tail = 128, tail[:-128]
    if len(tail) >= 32 and tail[-32:-24] == b"APETAGEX":
        size += int.from_bytes(tail[-20:-16], "little")  # its items and footer
    return size
