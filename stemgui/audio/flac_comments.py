"""Vorbis comments added to a FLAC file that libsndfile wrote: its tags are a fixed set (title,
artist...), without the tempo and key DJ software reads (BPM, INITIALKEY).

libsndfile leaves no padding after its metadata, so a longer comment block does not fit where
the old one is. The writer therefore has libsndfile keep room: a ``RESERVED`` license comment
(``reserve``), which ``add_vorbis_comments`` gives to the new comments, the bytes left over
becoming a padding block, without moving the audio. A file without that room is copied
behind its new metadata instead (a 4-minute song's five files took 1.27-1.40 times as long to
export so). FLAC format: "METADATA_BLOCK_VORBIS_COMMENT", "METADATA_BLOCK_PADDING".
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Mapping
from pathlib import Path

from stemgui.errors import FileError

_PADDING, _VORBIS_COMMENT = 1, 4
_LAST = 0x80

RESERVED = "~" * 96
"""The license comment that keeps room for the tempo and key (``reserve``)."""
_RESERVED_ENTRY = f"license={RESERVED}".encode()


def reserve(handle) -> None:
    """Keep room in the ``soundfile.SoundFile`` (FLAC, open for writing, before its first
    frames) for ``add_vorbis_comments``."""
    handle.license = RESERVED


def _blocks(file) -> list[tuple[int, int, bytes]]:
    """The metadata blocks (offset, type, body) of the FLAC ``file`` read from its start; the
    file is left at the first audio frame. Raises FileError for what is not a FLAC file."""
    if file.read(4) != b"fLaC":
        raise FileError(file.name, "is not a FLAC file")
    blocks = []
    while True:
        at, head = file.tell(), file.read(4)
        if len(head) < 4:
            raise FileError(file.name, "ends inside its FLAC metadata")
        body = file.read(int.from_bytes(head[1:], "big"))
        blocks.append((at, head[0] & 0x7F, body))
        if head[0] & _LAST:
            return blocks


def _entries(body: bytes) -> tuple[bytes, list[bytes]]:
    """A Vorbis comment block's vendor string and comments ("NAME=value", little-endian
    lengths before each)."""
    vendor = struct.unpack_from("<I", body)[0]
    count = struct.unpack_from("<I", body, 4 + vendor)[0]
    entries, at = [], 8 + vendor
    for _ in range(count):
        size = struct.unpack_from("<I", body, at)[0]
        entries.append(body[at + 4 : at + 4 + size])
        at += 4 + size
    return body[4 : 4 + vendor], entries


def _body(vendor: bytes, entries: list[bytes]) -> bytes:
    fields = b"".join(struct.pack("<I", len(entry)) + entry for entry in entries)
    return struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(entries)) + fields


def _header(kind: int, size: int, last: bool) -> bytes:
    return bytes([kind | (_LAST if last else 0)]) + size.to_bytes(3, "big")


def add_vorbis_comments(path: str | os.PathLike[str], comments: Mapping[str, str]) -> None:
    """Add ``comments`` to the FLAC file ``path``: in the room ``reserve`` kept, else by
    replacing the file whole; it is changed completely or not at all. Not synced: ``path`` is
    a file being written (an export's temporary file), which its writer syncs once complete.
    Raises FileError or OSError."""
    path = Path(path)
    with open(path, "rb") as file:
        blocks = _blocks(file)
        audio = file.tell()
    added = [f"{name}={value}".encode() for name, value in comments.items()]
    for at, kind, body in blocks:
        if kind != _VORBIS_COMMENT:
            continue
        vendor, entries = _entries(body)
        if _RESERVED_ENTRY in entries:
            entries.remove(_RESERVED_ENTRY)
            new = _body(vendor, entries + added)
            if len(new) + 4 <= len(body):  # the rest of the room becomes padding
                last = at == blocks[-1][0]
                room = len(body) - len(new) - 4
                with open(path, "r+b") as file:
                    file.seek(at)
                    file.write(_header(kind, len(new), False) + new)
                    file.write(_header(_PADDING, room, last) + bytes(room))
                return
    _rewrite(path, blocks, added, audio)


def _rewrite(path: Path, blocks: list, added: list[bytes], audio: int) -> None:
    """Replace the FLAC file ``path`` by a copy whose comment block (a new one if it has none)
    holds ``added`` too and not the room ``reserve`` kept, ``audio`` being where its audio
    frames begin."""
    from stemgui.audio.atomic import part_path_for, remove_quietly

    bodies = [(kind, body) for _, kind, body in blocks]
    if _VORBIS_COMMENT not in (kind for kind, _ in bodies):
        bodies.append((_VORBIS_COMMENT, _body(b"", [])))
    part = part_path_for(path)
    try:
        with open(part, "wb") as out, open(path, "rb") as source:
            out.write(b"fLaC")
            for number, (kind, body) in enumerate(bodies, 1):
                if kind == _VORBIS_COMMENT:  # the room kept, too small, is let go of
                    vendor, entries = _entries(body)
                    kept = [entry for entry in entries if entry != _RESERVED_ENTRY]
                    body = _body(vendor, kept + added)
                out.write(_header(kind, len(body), number == len(bodies)) + body)
            source.seek(audio)
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(part, path)  # both closed: Windows renames no file that is open
    except BaseException:
        remove_quietly(part)
        raise
