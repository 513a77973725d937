"""An ID3v2.4 tag in a WAV file's "id3 " chunk: where DJ software (Rekordbox, Serato, Traktor,
Mixxx) reads a WAV's tempo and key, which libsndfile's INFO list has no field for.

Only text frames (and the comment) are written, UTF-8, unsynchronised, no extended header: the
smallest tag every reader takes (ID3v2.4, "id3v2.4.0-structure" and "-frames").
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

FRAMES = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "album_artist": "TPE2",
    "date": "TDRC",
    "genre": "TCON",
    "track": "TRCK",
    "bpm": "TBPM",
    "key": "TKEY",
}
"""Our tag names (FFmpeg's, as ``stemgui.audio.tags``) -> their ID3v2.4 text frames."""

_UTF8 = b"\x03"


def _synchsafe(size: int) -> bytes:
    """``size`` in four bytes of seven bits each, as ID3v2.4 counts sizes."""
    if size >= 1 << 28:
        raise ValueError(f"an ID3 size of {size} bytes is past its 256 MB limit")
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _frame(frame_id: str, body: bytes) -> bytes:
    return frame_id.encode("ascii") + _synchsafe(len(body)) + b"\x00\x00" + body


def id3_tag(tags: Mapping[str, str]) -> bytes:
    """The ID3v2.4 tag of ``tags`` (names of ``FRAMES``, and "comment"); others are left out."""
    frames = [
        _frame(FRAMES[name], _UTF8 + value.encode("utf-8"))
        for name, value in tags.items()
        if name in FRAMES
    ]
    if "comment" in tags:  # language, an empty description, then the text
        frames.append(_frame("COMM", _UTF8 + b"eng\x00" + tags["comment"].encode("utf-8")))
    body = b"".join(frames)
    return b"ID3\x04\x00\x00" + _synchsafe(len(body)) + body


def append_id3_chunk(path: str | os.PathLike[str], tags: Mapping[str, str]) -> bool:
    """Add an "id3 " chunk holding ``id3_tag(tags)`` at the end of the WAV file ``path`` and
    count it in the RIFF size (an RF64's, past 4 GiB, in its "ds64" chunk: EBU Tech 3306);
    False (the file as it was, logged) when the file is no WAV, or a RIFF one the chunk would
    take past 4 GiB. Raises OSError."""
    tag = id3_tag(tags)
    chunk = b"id3 " + struct.pack("<I", len(tag)) + tag + b"\x00" * (len(tag) % 2)
    with open(path, "r+b") as file:
        head = file.read(16)
        size = file.seek(0, os.SEEK_END)
        rf64 = head[:4] == b"RF64" and head[12:16] == b"ds64"
        riff = head[:4] == b"RIFF" and size + 1 + len(chunk) - 8 < 1 << 32  # (+ a pad byte)
        if head[8:12] != b"WAVE" or not (riff or rf64):
            logger.info("%s: no room for an ID3 chunk (not a WAV, or 4 GiB of RIFF)", path)
            return False
        if size % 2:  # chunks start on even bytes
            chunk = b"\x00" + chunk
        file.write(chunk)
        file.seek(20 if rf64 else 4)  # the ds64's first field, or the RIFF header's
        file.write(struct.pack("<Q" if rf64 else "<I", size + len(chunk) - 8))
    logger.debug("%s: ID3 tag of %d bytes added", Path(path).name, len(tag))
    return True
