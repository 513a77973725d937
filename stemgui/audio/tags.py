"""Tags (title, artist, album...): the song's, read once, and those each exported stem carries.

A stem exported without tags shows up in a DJ's library (Rekordbox, Serato, a music player) as
"vocals" by nobody, beside every other song's "vocals". Each stem gets the song's artist, album,
date, genre and track number, and the song's title with the stem's name: "Song (Vocals)"; and
the song's tempo and key as the app found them ("bpm", "key": ``TEMPO_AND_KEY``), where DJ
software reads them: ID3's TBPM and TKEY in an mp3 and in a WAV's "id3 " chunk
(``stemgui.audio.id3``), the BPM and INITIALKEY comments in a FLAC (``flac_comments``). The album
artist, which libsndfile has no field for either, goes there too (TPE2, ALBUMARTIST).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

SONG_KEYS = ("title", "artist", "album", "album_artist", "date", "genre", "track")
"""The song's tags a stem keeps (FFmpeg's names for them, whatever the container)."""


def read_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """The song's tags among ``SONG_KEYS`` that are set; {} when it has none or cannot be
    read (the stems are exported all the same)."""
    try:
        import av

        # the bytes that are not UTF-8 kept (as surrogates), for _text to read otherwise
        with av.open(str(path), metadata_errors="surrogateescape") as container:
            found = {key.lower(): _text(value) for key, value in container.metadata.items()}
            for stream in container.streams.audio[:1]:  # an Ogg file's tags are its stream's
                for key, value in stream.metadata.items():
                    found.setdefault(key.lower(), _text(value))
            found.setdefault("artist", found.get("author", ""))  # an AIFF's AUTH chunk
    except Exception as error:  # av.FFmpegError, OSError, or a PyAV that will not load
        logger.debug("%s: no tags read (%s)", path, error)
        return {}
    return {key: found[key].strip() for key in SONG_KEYS if found.get(key, "").strip()}


def _text(value: object) -> str:
    """A tag's text (or a file name's): UTF-8, as most files have it, or else Windows-1252
    (Latin-1 for the few bytes it leaves out), as Windows tools write a WAV's INFO list:
    "Café", not "Caf"."""
    raw = str(value).encode("utf-8", errors="surrogateescape")
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def stem_tags(
    song: Mapping[str, str], stem: str, track: str, model_name: str, part: str = ""
) -> dict[str, str]:
    """The tags of stem ``stem`` of the song whose tags are ``song`` and whose file is named
    ``track`` (its title when it has none); ``part``: the part of the song exported, if not
    all of it ("1m02.50s-1m18.00s"), said in the title too."""
    label = stem.replace("_", " ").capitalize()  # no_vocals -> No vocals
    title = song.get("title") or _text(Path(track).stem)  # a name's bytes that are not UTF-8 too
    tags = {key: song[key] for key in SONG_KEYS if song.get(key)}
    tags["title"] = f"{title} ({label}, {part})" if part else f"{title} ({label})"
    tags["comment"] = f"{label} of {title}, separated by stemgui ({model_name})"
    return tags


TEMPO_AND_KEY = {"bpm": "BPM", "key": "INITIALKEY"}
"""The tempo and key -> their FLAC (Vorbis comment) names."""

LIBSNDFILE_LACKS = {"album_artist": "ALBUMARTIST", **TEMPO_AND_KEY}
"""Tags libsndfile has no field for -> their FLAC names: added once it wrote the file."""


def mp3_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` as FFmpeg's mp3 muxer takes them: the tempo and key under their ID3 frames'
    names (TBPM, TKEY; it writes a name it does not know as a TXXX frame)."""
    from stemgui.audio.id3 import FRAMES

    return {FRAMES[k] if k in TEMPO_AND_KEY else k: v for k, v in tags.items()}


def add_tags_libsndfile_lacks(path: Path, kind: str, tags: Mapping[str, str]) -> None:
    """Add the tags of ``tags`` among ``LIBSNDFILE_LACKS`` to the ``kind`` ("wav", "flac")
    file that libsndfile wrote at ``path``, with ``set_soundfile_tags``'s; nothing when
    ``tags`` has none of them. Raises OSError (a full disk)."""
    if not LIBSNDFILE_LACKS.keys() & tags.keys():
        return
    if kind == "wav":
        from stemgui.audio.id3 import append_id3_chunk

        append_id3_chunk(path, tags)  # all of them: some readers take a WAV's ID3 alone
    elif kind == "flac":
        from stemgui.audio.flac_comments import add_vorbis_comments

        add_vorbis_comments(
            path, {name: tags[k] for k, name in LIBSNDFILE_LACKS.items() if k in tags}
        )


# libsndfile's names where they differ from FFmpeg's
_SOUNDFILE_NAMES = {"track": "tracknumber"}
# libsndfile reads no WAV INFO text of 2046 bytes or more, and then none of the file's tags: a
# long title cost the artist and album too. FLAC's comments have no such limit.
_WAV_TAG_BYTES = 2000


def set_soundfile_tags(handle, tags: Mapping[str, str]) -> None:
    """Set ``tags`` on a ``soundfile.SoundFile`` open for writing (a WAV's INFO list, FLAC's
    and Ogg's comments), before its first frames; a WAV's each cut to ``_WAV_TAG_BYTES``."""
    wav = handle.format in ("WAV", "WAVEX", "RF64")
    if handle.format == "FLAC" and LIBSNDFILE_LACKS.keys() & tags.keys():
        from stemgui.audio.flac_comments import reserve

        reserve(handle)  # room for them, in place once the file is written
    for key, value in tags.items():
        if key in LIBSNDFILE_LACKS:  # added once written: add_tags_libsndfile_lacks
            continue
        name = _SOUNDFILE_NAMES.get(key, key)
        if wav and len(value.encode("utf-8")) > _WAV_TAG_BYTES:
            cut = value.encode("utf-8")[:_WAV_TAG_BYTES].decode("utf-8", errors="ignore")
            logger.debug("tag %s cut from %d to %d characters", key, len(value), len(cut))
            value = cut
        try:
            setattr(handle, name, value)
        except RuntimeError as error:  # a format without that field: the rest still go
            logger.debug("tag %s not written (%s)", key, error)
