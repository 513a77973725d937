"""The queue kept between sessions: saved when the window closes, queued again at the next start.

Only with the stem cache on (``KEEP_STEMS``): without it every song would be separated again.
The session is a JSON list in the ``SESSION`` setting, one entry per song::

    {"path": "/abs/song.mp3", "strips": {"vocals": [gain_db, solo, mute], ...},
     "options": {...},  # the SeparationOptions its stems were made with, when known
     "kept": {"entry": key, "song": [size, mtime_ns], "model": [size, mtime_ns] | null},
     "place": {"position": s, "loop": [s, s] | null, "looping": bool, "view": [s, s],
               "speed": 0.8, "semitones": -2},
     "shown": true}  # only the song on screen at the close

A separated song's stems then come from the stem cache at once, with its mix as it was left:
``kept`` (``stemgui.ui.restore.Kept``) names its cache entry, read without the model while the
song and model files are as they were then (a model file gone since is not needed). ``place``
(``stemgui.ui.place.Place``) is where the player was on the song (a song never shown has none),
and the song ``shown`` is shown again. A session of an earlier version, without them, loads as
it did: the first song to come is shown.

A song whose file is not found at the start (moved, deleted, or on a drive not connected) is not
queued, but its entry is kept in the session as it was saved (``Saved.gone``, given back to
``save``) and looked for again at the next start: a DJ's external drive plugged in later brings
its songs back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from stemgui.separation.spec import names_a_file
from stemgui.ui import settings as S
from stemgui.ui.place import Place
from stemgui.ui.queue import Job, JobState, song_file
from stemgui.ui.restore import Kept
from stemgui.ui.separation_options import SeparationOptions
from stemgui.ui.session_entry import session_song

logger = logging.getLogger(__name__)


class Saved(NamedTuple):
    """The last session as ``load`` finds it."""

    jobs: list[Job]  # its songs, as new queue jobs, each with its mix and place
    shown: Job | None  # the one on screen at the close, when it came back
    damaged: int  # how many saved songs could not be read (logged)
    gone: list[dict]  # saved songs whose files are not found: their entries, kept as saved


def save(
    settings: S.Settings,
    jobs: Iterable[Job],
    shown: Job | None = None,
    gone: Iterable[dict] = (),
) -> None:
    """Keep the queue for the next start, separated songs with their mixes and places, songs
    still to separate (or separating) with them, and which of them is ``shown``; failed and
    cancelled ones are left out, and those being removed or cancelled. The entries of songs not
    found at the start (``Saved.gone``) are kept after them as they were, to be looked for
    again, unless queued again meanwhile. Only with the stem cache on: without it every song
    would be separated again."""
    songs = []
    if settings.get(S.KEEP_STEMS):
        for job in jobs:
            if job.removed or job.stopping:
                continue
            if job.state in (JobState.DONE, JobState.WAITING) or job.state.active:
                strips = job.mixer.strips() if job.mixer is not None else job.strips
                controls = {n: [c.gain_db, c.solo, c.mute] for n, c in strips.items()}
                # absolute: the next start may be from another folder (a launcher)
                song = {"path": str(job.path.absolute()), "strips": controls}
                # what its stems were made with: the same come back, not the settings' then
                started = job.cache_key[-1] if job.cache_key else None
                # (a restored song being read from the stem cache has none yet: its own)
                waits = job.state is JobState.WAITING or started is None
                options = job.options if waits else started
                if options is not None:
                    song["options"] = dataclasses.asdict(options)
                if job.kept is not None:  # its stems found at the next start without the model
                    song["kept"] = job.kept.to_json()
                if job.place is not None:
                    song["place"] = job.place.to_json()
                if job is shown:
                    song["shown"] = True
                songs.append(song)
        songs.extend(_not_queued(list(gone), songs))
    settings.set(S.SESSION, json.dumps(songs))


def _not_queued(gone: list[dict], songs: list[dict]) -> list[dict]:
    """The entries of songs not found (``gone``) whose song is not among the queue's
    ``songs`` (opened again meanwhile), however either path is spelled: relative, with "..",
    through a linked folder (matched by their text, the same song was saved twice). A path of
    ``gone`` is resolved only where it is a link to the file (saved through ``Link to a.wav``,
    opened since by the file's own path: saved twice), else not: its drive may not be
    connected (``_spelled``). A queued one is (``song_file``), only where its name is one of
    theirs or it is a link (to the file itself, under another name): resolving every one took
    65-75 ms a save of 500 songs on the GUI thread (4 ms before), every second the queue
    changes; asking whether each is a link, 1.8 ms more (0.7 ms -> 2.5 ms with 50 songs not
    found); asking it of those 50 too, 0.1 ms more (2.2 -> 2.3 ms, fastest of 300)."""
    if not gone:
        return []
    spelled = {_spelled(song["path"]) for song in songs}
    waiting = [(song, path) for song in gone if (path := _spelled(song["path"])) not in spelled]
    leads = {path: str(song_file(path)) if os.path.islink(path) else path for _, path in waiting}
    names = {os.path.basename(path) for path in leads.values()}
    files = {
        str(song_file(path))
        for song in songs
        if os.path.basename(path := song["path"]) in names or os.path.islink(path)
    }
    return [song for song, path in waiting if leads[path] not in files]


def _spelled(path: str) -> str:
    """``path`` made absolute, ``..`` taken out, without asking the disk."""
    return os.path.normpath(os.path.abspath(path))


def load(settings: S.Settings) -> Saved:
    """The songs of the last session as new queue ``Job``s (``read``); nothing comes back
    with the stem cache off."""
    if not settings.get(S.KEEP_STEMS):
        return Saved([], None, 0, [])
    return read(json.loads(settings.get(S.SESSION)))


def read(saved: list[Any]) -> Saved:
    """The saved session entries ``saved`` as new queue ``Job``s, each with its mix and place,
    the one shown at the close, how many could not be read, and the entries of the files not
    found (moved, deleted, or on a drive not connected), which are not queued. A song saved
    twice made the same way comes back once (shown: the row kept is). A damaged place is left
    out, not the song."""
    from stemgui.stems.mixer import restored_strip

    entries = [session_song(song) for song in saved]
    kept = [Kept.from_json(song.get("kept")) if isinstance(song, dict) else None for song in saved]
    damaged = entries.count(None)
    if damaged:
        logger.warning("%d song(s) of the saved session could not be read", damaged)
    jobs: list[Job] = []
    gone: list[dict] = []
    shown = None
    seen: dict[tuple, Job] = {}
    for entry, found, song in zip(entries, kept, saved, strict=True):
        if entry is None:
            continue
        path, strips, options = entry
        path = path.absolute()
        pinned = _restored_options(options, found)
        made = pinned and dataclasses.replace(pinned, device="")  # it runs on today's device
        file = _file_of(path)
        if file is None:
            logger.info("%s of the last session is not found: kept to look for again", path)
            gone.append(song)
            continue
        # by the file it is: saved under two spellings, a link's and its target's, it came
        # back twice; in the queue twice, made two ways: both come
        same = (file, made)
        if same not in seen:
            job = Job(path, options=pinned, place=_place(song))
            # before the first is shown: its mixer is made with them
            job.strips = {name: restored_strip(strip) for name, strip in strips.items()}
            if pinned is not None:  # not with the settings of now: its stems are of others
                job.kept = found
            seen[same] = job
            jobs.append(job)
        if song.get("shown") is True and shown is None:
            shown = seen[same]
    return Saved(jobs, shown, damaged, gone)


def _file_of(path: Path) -> tuple[int, int] | str | None:
    """What tells the file ``path`` leads to from others: its device and file number (the
    ``stat`` that finds it is there), else its ``song_file``; None when it is not there (not
    ``Path.is_file``: that raises on EACCES, a name too long). A ``song_file`` for each
    song read 500 of them in 80 ms, not 30."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    if found.st_ino:  # 0: the file system has no file numbers (some network ones)
        return (found.st_dev, found.st_ino)
    return str(song_file(path))


def _place(song: dict[str, Any]) -> Place | None:
    """Where the player was on a saved song; None when it has none or it is damaged."""
    if "place" not in song:
        return None
    place = Place.from_json(song["place"])
    if place is None:
        logger.warning("%s: where it was left could not be read; it starts at 0", song["path"])
    return place


def _restored_options(saved: dict[str, Any] | None, kept: Kept | None) -> SeparationOptions | None:
    """A restored song's options, or None (the settings of now) when none were saved or its
    model file is gone and its stems are not ``kept`` (with them, it opens from the stem cache
    without the model, ``restore``; if they are gone too, its model does not load and it takes
    the settings of now then). A model of the store is not looked for here (listing the store
    loads torch: a second on the GUI thread at start-up); one deleted since fails the song, and
    Retry takes the settings of now."""
    if saved is None:
        return None
    options = SeparationOptions(**saved)
    if kept is None and names_a_file(options.model):  # C:/models/bag.yml as Qt's dialog gives
        return options if os.path.isfile(options.model) else None
    return options
