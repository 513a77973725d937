"""Vorbis comments added to a FLAC file that libsndfile wrote: its tags are a fixed set (title,
artist...), without the tempo and key DJ software reads (BPM, INITIALKEY).

libsndfile leaves no padding after its metadata, so the longer comment block cannot be written
in place: the file is copied behind the new metadata into a temporary file beside it, which
then replaces it (FLAC format, "METADATA_BLOCK_VORBIS_COMMENT").
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Mapping
from pathlib import Path

from stemgui.errors import FileError

_VORBIS_COMMENT = 4
_LAST = 0x80


def _blocks(file) -> list[tuple[int, bytes]]:
    """The metadata blocks (type, body) of the FLAC ``file`` read from its start; the file is
    left at the first audio frame. Raises FileError for what is not a FLAC file."""
    if file.read(4) != b"fLaC":
        raise FileError(file.name, "is not a FLAC file")
    blocks = []
    while True:
        head = file.read(4)
        if len(head) < 4:
            raise FileError(file.name, "ends inside its FLAC metadata")
        body = file.read(int.from_bytes(head[1:], "big"))
        blocks.append((head[0] & 0x7F, body))
        if head[0] & _LAST:
            return blocks


def _with_comments(body: bytes, comments: Mapping[str, str]) -> bytes:
    """A Vorbis comment block's ``body`` with ``comments`` added (NAME=value, little-endian
    lengths; a name set already keeps its value too)."""
    vendor = struct.unpack_from("<I", body)[0]
    count = struct.unpack_from("<I", body, 4 + vendor)[0]
    added = [f"{name}={value}".encode() for name, value in comments.items()]
    return (
        body[: 4 + vendor]
        + struct.pack("<I", count + len(added))
        + body[8 + vendor :]
        + b"".join(struct.pack("<I", len(entry)) + entry for entry in added)
    )


def add_vorbis_comments(path: str | os.PathLike[str], comments: Mapping[str, str]) -> None:
    """Add ``comments`` to the FLAC file ``path`` (in its Vorbis comment block, or a new one):
    the file is replaced whole, or left as it was. Not synced: ``path`` is a file being
    written (an export's temporary file), which its writer syncs once complete. Raises
    FileError or OSError."""
    from stemgui.audio.atomic import part_path_for, remove_quietly

    path = Path(path)
    with open(path, "rb") as file:
        blocks = _blocks(file)
        audio = file.tell()
    if _VORBIS_COMMENT not in (kind for kind, _ in blocks):
        blocks.append((_VORBIS_COMMENT, bytes(8)))  # no vendor, no comment
    blocks = [
        (kind, _with_comments(body, comments) if kind == _VORBIS_COMMENT else body)
        for kind, body in blocks
    ]
    part = part_path_for(path)
    try:
        with open(part, "wb") as out, open(path, "rb") as source:
            out.write(b"fLaC")
            for number, (kind, body) in enumerate(blocks, 1):
                last = _LAST if number == len(blocks) else 0
                out.write(bytes([kind | last]) + len(body).to_bytes(3, "big") + body)
            source.seek(audio)
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(part, path)  # both closed: Windows renames no file that is open
    except BaseException:
        remove_quietly(part)
        raise
