"""Recognise files that are certainly not audio from their first bytes.

Used only after both decoders failed, to turn "could not decode" into a message a user can act
on: "it looks like a PNG image" when a picture was renamed to .wav, "text" for a page of HTML
saved as .mp3. Audio formats are never recognised here; that is the decoders' job.
"""

from __future__ import annotations

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an office document"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
    (b"{\\rtf", "a rich-text document"),
)

_TEXT_CONTROL = {"\t", "\n", "\r", "\f", "\v"}


def not_audio_kind(head: bytes) -> str | None:
    """Name what ``head`` (the first bytes of a file) shows the file to be, or None.

    None means "could be audio, or anything unknown": only unambiguous signatures and plain
    text are named.
    """
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if _is_text(head):
        return "text"
    return None


def _is_text(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Windows tools start with
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # Only a multi-byte character cut by the end of ``head`` is forgiven.
        if error.reason != "unexpected end of data" or error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")
    return bool(text) and all(char.isprintable() or char in _TEXT_CONTROL for char in text)
