"""Tags (title, artist, album...): the song's, read once, and those each exported stem carries.

A stem exported without tags shows up in a DJ's library (Rekordbox, Serato, a music player) as
"vocals" by nobody, beside every other song's "vocals". Each stem gets the song's artist, album,
date, genre and track number, and the song's title with the stem's name: "Song (Vocals)"; and
the song's tempo and key as the app found them ("bpm", "key": ``TEMPO_AND_KEY``), where DJ
software reads them: ID3's TBPM and TKEY in an mp3 and in a WAV's "id3 " chunk
(``stemgui.audio.id3``), the BPM and INITIALKEY comments in a FLAC (``flac_comments``).
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
    except Exception as error:  # av.FFmpegError, OSError, or a PyAV that will not load
        logger.debug("%s: no tags read (%s)", path, error)
        return {}
    return {key: found[key].strip() for key in SONG_KEYS if found.get(key, "").strip()}


def _text(value: object) -> str:
    """A tag's text: UTF-8, as most files have it, or else Windows-1252 (Latin-1 for the few
    bytes it leaves out), as Windows tools write a WAV's INFO list: "Café", not "Caf"."""
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
    title = song.get("title") or _text(Path(track).stem)  # a file name that is not UTF-8 too
    tags = {key: song[key] for key in SONG_KEYS if song.get(key)}
    tags["title"] = f"{title} ({label}, {part})" if part else f"{title} ({label})"
    tags["comment"] = f"{label} of {title}, separated by stemgui ({model_name})"
    return tags


TEMPO_AND_KEY = {"bpm": "BPM", "key": "INITIALKEY"}
"""Tags libsndfile has no field for -> their FLAC (Vorbis comment) names."""


def mp3_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` as FFmpeg's mp3 muxer takes them: the tempo and key under their ID3 frames'
    names (TBPM, TKEY; it writes a name it does not know as a TXXX frame)."""
    from stemgui.audio.id3 import FRAMES

    return {FRAMES[k] if k in TEMPO_AND_KEY else k: v for k, v in tags.items()}


def add_tempo_and_key(path: Path, kind: str, tags: Mapping[str, str]) -> None:
    """Add the tempo and key of ``tags`` to the ``kind`` ("wav", "flac") file that libsndfile
    wrote at ``path``, with ``set_soundfile_tags``'s; nothing when ``tags`` has neither.
    Raises OSError (a full disk)."""
    if not TEMPO_AND_KEY.keys() & tags.keys():
        return
    if kind == "wav":
        from stemgui.audio.id3 import append_id3_chunk

        append_id3_chunk(path, tags)  # all of them: some readers take a WAV's ID3 alone
    elif kind == "flac":
        from stemgui.audio.flac_comments import add_vorbis_comments

        add_vorbis_comments(path, {TEMPO_AND_KEY[k]: tags[k] for k in TEMPO_AND_KEY if k in tags})


# libsndfile's names where they differ from FFmpeg's; album_artist has none there
_SOUNDFILE_NAMES = {"track": "tracknumber", "album_artist": None}
# libsndfile reads no WAV INFO text of 2046 bytes or more, and then none of the file's tags: a
# long title cost the artist and album too. FLAC's comments have no such limit.
_WAV_TAG_BYTES = 2000


def set_soundfile_tags(handle, tags: Mapping[str, str]) -> None:
    """Set ``tags`` on a ``soundfile.SoundFile`` open for writing (a WAV's INFO list, FLAC's
    and Ogg's comments), before its first frames; a WAV's each cut to ``_WAV_TAG_BYTES``."""
    wav = handle.format in ("WAV", "WAVEX", "RF64")
    if handle.format == "FLAC" and TEMPO_AND_KEY.keys() & tags.keys():
        from stemgui.audio.flac_comments import reserve

        reserve(handle)  # room for them, in place once the file is written
    for key, value in tags.items():
        name = _SOUNDFILE_NAMES.get(key, key)
        if name is None or key in TEMPO_AND_KEY:  # added once written: add_tempo_and_key
            continue
        if wav and len(value.encode("utf-8")) > _WAV_TAG_BYTES:
            cut = value.encode("utf-8")[:_WAV_TAG_BYTES].decode("utf-8", errors="ignore")
            logger.debug("tag %s cut from %d to %d characters", key, len(value), len(cut))
            value = cut
        try:
            setattr(handle, name, value)
        except RuntimeError as error:  # a format without that field: the rest still go
            logger.debug("tag %s not written (%s)", key, error)
