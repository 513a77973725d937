"""The box ("atom") tree of an MP4 file, as far as a Stems file needs it.

FFmpeg's MP4 muxer writes the tracks and the iTunes tag list (``moov/udta/meta/ilst``: title,
artist, BPM...) but no box of its own choosing. ``edit_moov`` reads the ``moov`` box into a tree
of ``Box`` values, lets the caller change it (``set_child``: the Stems manifest, ``stem``, in
``moov/udta``; ``freeform_item``: an iTunes item FFmpeg has no name for, the key), and writes it
back in place. Where ``moov`` comes last, as FFmpeg writes it, nothing else moves. Where it comes
before the media data (a "fast start" file), the data after it moves by the change in size, and
every chunk offset (``stco``, ``co64``) that points past it moves with it.

Box layout: a 32-bit big-endian size (1: a 64-bit size follows the type; 0: to the end of the
file), a four-byte type, then the payload; a "full" box (``meta``, ``mean``, ``name``) starts its
payload with a byte of version and three of flags.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf"})
"""Boxes made of boxes and nothing else, that ``parse`` reads into children."""
FULL_CONTAINERS = frozenset({b"meta"})
"""Boxes of boxes after four bytes of version and flags (``meta`` in an MP4's ``udta``)."""
ITEM_LIST = b"ilst"  # its items are kept whole (leaves): the tags, as the muxer wrote them
_COPY_BYTES = 1 << 20


@dataclass
class Box:
    """One box: ``kind`` (its four-byte type); ``children`` for a container, else ``data``, its
    payload; ``head``, a full container's version and flags."""

    kind: bytes
    data: bytes = b""
    children: list[Box] | None = None
    head: bytes = b""

    def child(self, kind: bytes) -> Box | None:
        """The first child of type ``kind``, or None."""
        return next((box for box in self.children or () if box.kind == kind), None)

    def to_bytes(self) -> bytes:
        """The box as it is written: header, then payload or children."""
        if self.children is None:
            payload = self.data
        else:
            payload = self.head + b"".join(box.to_bytes() for box in self.children)
        size = 8 + len(payload)
        if size < 1 << 32:
            return struct.pack(">I4s", size, self.kind) + payload
        return struct.pack(">I4sQ", 1, self.kind, size + 8) + payload


def parse(data: bytes, containers: frozenset[bytes] = CONTAINERS | {ITEM_LIST}) -> list[Box]:
    """The boxes ``data`` holds, one after the other, containers (``CONTAINERS``, ``meta`` and
    ``ilst``) read into their children.

    Raises:
        ValueError: a box whose size runs past ``data`` or is smaller than its header.
    """
    boxes: list[Box] = []
    at = 0
    while at < len(data):
        if len(data) - at < 8 and not data[at:].strip(b"\0"):
            break  # QuickTime's four zero bytes that end a udta
        kind, start, end = _header(data[at : at + 16], at, len(data))
        payload = data[start:end]
        if kind in FULL_CONTAINERS:
            boxes.append(Box(kind, children=parse(payload[4:], containers), head=payload[:4]))
        elif kind in containers:
            boxes.append(Box(kind, children=parse(payload, containers)))
        else:
            boxes.append(Box(kind, payload))
        at = end
    return boxes


def _header(head: bytes, at: int, limit: int) -> tuple[bytes, int, int]:
    """(type, where the payload starts, where the box ends) of the box at ``at`` whose first
    bytes are ``head``, in data or a file ``limit`` bytes long."""
    if len(head) < 8:
        raise ValueError(f"a box at byte {at} is cut short")
    size, kind = struct.unpack(">I4s", head[:8])
    start = at + 8
    if size == 1:
        if len(head) < 16:
            raise ValueError(f"the box {kind!r} at byte {at} is cut short")
        size = struct.unpack(">Q", head[8:16])[0]
        start += 8
    elif size == 0:
        size = limit - at
    if size < start - at or at + size > limit:
        raise ValueError(f"the box {kind!r} at byte {at} has a size ({size}) that does not fit")
    return kind, start, at + size


def top_level(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of every box at the top of the file at ``path``, headers only."""
    boxes = []
    limit = path.stat().st_size
    with open(path, "rb") as file:
        at = 0
        while at < limit:
            file.seek(at)
            kind, _start, end = _header(file.read(16), at, limit)
            boxes.append((kind, at, end - at))
            at = end
    return boxes


def set_child(parent: Box, box: Box) -> None:
    """Put ``box`` in ``parent``: in place of its child of the same type, or last."""
    children = parent.children if parent.children is not None else []
    parent.children = children
    for index, child in enumerate(children):
        if child.kind == box.kind:
            children[index] = box
            return
    children.append(box)


def freeform_item(name: str, value: str, mean: str = "com.apple.iTunes") -> Box:
    """An iTunes tag list item FFmpeg has no name for (``----:com.apple.iTunes:initialkey``,
    the key as Traktor, Mixxx and Rekordbox read it): ``mean`` and ``name`` boxes, then the
    ``data`` box of a UTF-8 text (type 1, locale 0)."""
    full = b"\0\0\0\0"  # version and flags
    return Box(
        b"----",
        children=[
            Box(b"mean", full + mean.encode()),
            Box(b"name", full + name.encode()),
            Box(b"data", struct.pack(">II", 1, 0) + value.encode("utf-8")),
        ],
    )


def edit_moov(path: Path, edit: Callable[[Box], None]) -> None:
    """Read the ``moov`` box of the MP4 file at ``path``, have ``edit(moov)`` change it, and
    write it back in place, the data after it (and the chunk offsets into it) moved when it
    changed size.

    Raises:
        ValueError: the file has no ``moov`` box, or a box is malformed.
        OSError: reading or writing the file.
    """
    boxes = top_level(path)
    found = [(offset, size) for kind, offset, size in boxes if kind == b"moov"]
    if not found:
        raise ValueError(f"{path} has no moov box")
    offset, size = found[0]
    with open(path, "r+b") as file:
        file.seek(offset)
        (moov,) = parse(file.read(size))
        edit(moov)
        end = offset + size
        written = moov.to_bytes()
        delta = len(written) - size
        if delta and end < boxes[-1][1] + boxes[-1][2]:  # something after it moves
            _shift_chunks(moov, end, delta)
            written = moov.to_bytes()  # (stco and co64 keep their sizes)
            _move_tail(file, end, delta)
        file.seek(offset)
        file.write(written)
        if delta < 0:
            length = boxes[-1][1] + boxes[-1][2]
            file.truncate(length + delta)
        file.flush()
        os.fsync(file.fileno())


def _shift_chunks(moov: Box, past: int, delta: int) -> None:
    """Move by ``delta`` every chunk offset of ``moov``'s tracks at or past byte ``past``."""
    for trak in (box for box in moov.children or () if box.kind == b"trak"):
        stbl = _descend(trak, (b"mdia", b"minf", b"stbl"))
        for table in stbl.children or () if stbl is not None else ():
            if table.kind not in (b"stco", b"co64"):
                continue
            wide = table.kind == b"co64"
            form = ">Q" if wide else ">I"
            step = 8 if wide else 4
            (count,) = struct.unpack(">I", table.data[4:8])
            entries = [
                struct.unpack(form, table.data[8 + i * step : 8 + (i + 1) * step])[0]
                for i in range(count)
            ]
            moved = [e + delta if e >= past else e for e in entries]
            if not wide and moved and max(moved) >= 1 << 32:
                raise ValueError("a chunk offset no longer fits in 32 bits")
            table.data = table.data[:8] + b"".join(struct.pack(form, e) for e in moved)


def _descend(box: Box, path: tuple[bytes, ...]) -> Box | None:
    for kind in path:
        found = box.child(kind)
        if found is None:
            return None
        box = found
    return box


def _move_tail(file, start: int, delta: int) -> None:
    """Move the bytes of ``file`` from ``start`` to its end by ``delta`` bytes, a block at a
    time, from the end first when they move forward (so that none is overwritten unread)."""
    file.seek(0, os.SEEK_END)
    end = file.tell()
    spans = [(a, min(a + _COPY_BYTES, end)) for a in range(start, end, _COPY_BYTES)]
    for a, b in reversed(spans) if delta > 0 else spans:
        file.seek(a)
        block = file.read(b - a)
        file.seek(a + delta)
        file.write(block)
