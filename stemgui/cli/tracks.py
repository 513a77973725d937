"""Which of the paths given to ``stemgui-separate``, or dropped on the window, are songs:
folders searched, and the stems an earlier run or export wrote there left out, so that they
are never separated again (``find_tracks``)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stemgui.export.naming import DEFAULT_TEMPLATE, safe_name

logger = logging.getLogger("stemgui.cli")  # its warnings reach the console


def _written_stems() -> tuple[str, ...]:
    """The stem names this program writes: the official models' sources (4 and 6), two-stem
    mode's no_<stem>, the mix, and a Stems file's (the app's .stem.mp4)."""
    from stemgui.export.exporter import MIX_NAME
    from stemgui.export.stem_file import STEMS
    from stemgui.separation.official_models import OFFICIAL_MODELS

    sources = dict.fromkeys(s for model in OFFICIAL_MODELS.values() for s in model.sources)
    return (*sources, *(f"no_{s}" for s in sources), MIX_NAME, STEMS)


def _earlier_output(path: Path, out: Path, folder: Path, written: Sequence[Any]) -> bool:
    """Whether ``path``, found in ``folder``, is a stem an earlier run wrote into ``out``.

    An output folder inside the searched one holds nothing else; one that is the searched
    folder or above it (``album -o .``) holds the songs too, so there only the paths that
    match one of ``written`` (file name templates' patterns) are.
    """
    if out not in path.parents:
        return False
    if out == folder or out in folder.parents:
        return _written_by(path, out, written)
    return True


def _written_by(path: Path, out: Path, written: Sequence[Any]) -> bool:
    """Whether ``path``'s path from ``out``, a folder above it, matches one of ``written``."""
    relative = path.relative_to(out).as_posix()
    return any(pattern.fullmatch(relative) is not None for pattern in written)


def _exported_stems(found: Sequence[Path], written: Sequence[Any]) -> set[Path]:
    """The files of ``found`` that are the stems of an export: their path from a folder above
    them matches one of ``written``, and so does another's of the same export, the same path
    but for the stem and the extension (``one/vocals.wav`` and ``one/drums.flac``,
    ``one_vocals.wav`` and ``one_no_vocals.wav``), or its ``{track}`` names a song in that
    folder or one above it (``htdemucs/one/vocals.wav`` or ``one - mix.wav`` alone, beside
    ``one.wav``; ``stems/htdemucs/one/vocals.wav`` of ``-o album/stems``, the song in
    ``album``). That folder, the output folder, may be above the folder searched
    (``album/htdemucs`` given after ``album -o album``), that folder itself (``album`` given
    again) or one inside it (the app's "beside each song"): a batch run again with another
    ``-o``, or none, leaves out the stems of the song it separates again as the same run
    with ``-o`` does. So is a file of a template not among ``written`` whose name says its
    stem and its song (``_StemShape``). A file named like a stem alone (``live/vocals.mp3``,
    ``album/mix.wav`` beside ``album/one.wav``) is a song."""
    stems = _written_stems()
    shaped = _StemShape(stems)
    exports: dict[tuple[Path, str], set[Path]] = {}
    beside: set[Path] = set()
    songs = _Songs()
    for p in found:
        real = real_path(p)
        if shaped.names_a_song(real, songs):  # another template's
            beside.add(p)
        for out in real.parents:
            relative = real.relative_to(out).as_posix()
            matches = [m for m in (pattern.fullmatch(relative) for pattern in written) if m]
            if not matches:
                continue
            if any(_names_a_song(m, real, out, songs) for m in matches):
                beside.add(p)
            for key in _stem_marked(os.path.splitext(relative)[0], stems):
                exports.setdefault((out, key), set()).add(p)
    return beside | {p for export in exports.values() if len(export) > 1 for p in export}


def _names_a_song(match: re.Match[str], real: Path, out: Path, songs: _Songs) -> bool:
    """Whether ``match``, of a template naming the stem, from ``out`` to the file ``real``,
    has a ``{track}`` that names a song in ``out`` or a folder above it (``_Songs.named``)."""
    found = match.groupdict()
    if "stem0" not in found:
        return False
    folders = (out, *out.parents)
    return any(songs.named(t, folders, real) for key, t in found.items() if key.startswith("track"))


# What the names of an export of part of a song, or at a pace, add after the song's name
# (``stemgui.export.planning.part_label``): " 1m02.50s-1m18.00s", " 90%", " 33.3% -2st".
_LABEL = re.compile(r"(?: \d+m\d\d\.\d\ds-\d+m\d\d\.\d\ds)?(?: \d+(?:\.\d+)?%(?: [+-]\d+st)?)?")
# Between a stem's name and its song's in a file of another template: punctuation or "_", with
# spaces or not ("one - vocals", "vocals_one"); not spaces alone: "other side.mp3" and
# "piano man.mp3" are songs, though "side" and "man" be songs too.
_BETWEEN = r"[\W_]*(?:[^\w\s]|_)[\W_]*"


class _StemShape:
    """How the stems of a template neither this run's nor the default one (an earlier run's
    ``--filename``) are told from songs: a file we write (wav, flac, mp3) named the stem
    and the song it was made from with only separators between them, not spaces alone
    (``one_vocals.wav``, ``one - vocals.mp3``, ``vocals_one.wav``, ``one 80%-bass.flac``;
    not ``other side.mp3`` beside ``side.mp3``: ``_BETWEEN``), or named the stem in
    a folder named the song, or in a folder of that (``one/vocals.wav``,
    ``one/htdemucs/mix.wav``), the song in a folder above it; or named the song in a folder
    named the stem (``vocals/one.wav``), the song beside that folder or above it. Stem names
    are as written, lower case; a song named like a stem alone names no other song, and stays
    a song."""

    def __init__(self, stems: Sequence[str]) -> None:
        from stemgui.audio.encode import KINDS

        self.kinds = {f".{kind}" for kind in KINDS}
        self.stems = set(stems)
        names = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
        label = _LABEL.pattern  # "one 80%_vocals": the track "one 80%", not "one 80"
        self.after = re.compile(rf"(?P<track>.+?{label}){_BETWEEN}(?:{names})")  # one_no_vocals
        self.before = re.compile(rf"(?:{names}){_BETWEEN}(?P<track>.+)")

    def names_a_song(self, real: Path, songs: _Songs) -> bool:
        """Whether the file ``real`` has the shape of a stem whose song is in a folder above
        it."""
        base, extension = os.path.splitext(real.name)
        if extension.lower() not in self.kinds:
            return False
        if base in self.stems:
            named = [(real.parent.name, real.parents), (real.parent.parent.name, real.parents)]
        else:
            match = self.after.fullmatch(base) or self.before.fullmatch(base)
            named = [(match["track"], real.parents)] if match else []
        if real.parent.name in self.stems:  # vocals/one.wav: not one.flac beside it, a take
            named.append((base, real.parent.parents))
        return any(songs.named(track, folders, real) for track, folders in named if track)


class _Songs:
    """The songs in folders, each folder read once: what ties a stem to the song it was made
    from."""

    def __init__(self) -> None:
        self._listed: dict[Path, dict[str, set[Path]]] = {}

    def named(self, track: str, folders: Iterable[Path], stem: Path) -> bool:
        """Whether ``track`` is the name of a song (without its extension) in one of
        ``folders`` other than the file ``stem`` itself, or that name and the part of it
        exported ("one 1m02.50s-1m18.00s", "one 90% +2st"; not "one - live mix")."""
        cuts = (i for i, c in enumerate(track) if c == " " and _LABEL.fullmatch(track, i))
        names = [track, *(track[:i] for i in cuts)]
        for folder in folders:
            listed = self._listed.get(folder)
            if listed is None:
                listed = self._listed[folder] = _song_names(folder)
            if any(listed.get(name, set()) - {stem} for name in names):
                return True
        return False


def _song_names(folder: Path) -> dict[str, set[Path]]:
    """The songs in ``folder`` (not in its folders) by their names without extension, as they
    are and as an export's file names carry them (``safe_name``: "a: b" as "a_ b"). A song is
    what the search queues: a name of a supported extension that is no folder or named pipe
    (``is_special``; "one.wav/" left the stems in "one/" out), not "one.txt" or "one.jpg"."""
    from stemgui.audio.files import SUPPORTED_EXTENSIONS, is_special

    try:
        entries = os.listdir(folder)
    except OSError:  # unreadable: no song said to be there
        return {}
    names: dict[str, set[Path]] = {}
    for entry in entries:
        base, extension = os.path.splitext(entry)
        if extension.lower() not in SUPPORTED_EXTENSIONS or base.startswith("."):
            continue
        if not is_special(folder / entry):
            for name in (base, safe_name(base, extension=False)):
                names.setdefault(name, set()).add(folder / entry)
    return names


def _stem_marked(relative: str, stems: Sequence[str]) -> set[str]:
    """``relative`` with a stem name in it replaced by a mark, each way it can be: at one of
    its places, or at all of them (a template that names the stem twice). The files of one
    export share one."""
    marked = set()
    for stem in stems:
        for match in re.finditer(re.escape(stem), relative):
            marked.add(f"{relative[: match.start()]}\0{relative[match.end() :]}")
        if stem in relative:
            marked.add(relative.replace(stem, "\0"))
    return marked


@dataclass(frozen=True)
class NoSongs:
    """A folder given that holds no song: no audio file at all, or only ``stems`` that an
    earlier run or export wrote; or one that cannot be searched (``unread``: why, and what to
    do). ``str()`` says it in the command line's words."""

    folder: Path
    stems: tuple[Path, ...] = ()
    unread: str = ""

    def __str__(self) -> str:
        if self.unread:
            return f"{self.folder}: {self.unread}"
        if self.stems:
            return f"{self.folder}: this folder holds nothing but {_stems_left_out(self.stems)}"
        return (
            f"{self.folder}: no audio files in this folder; name the songs, or a folder that "
            "holds some"
        )


def _stems_left_out(stems: Sequence[Path]) -> str:
    return (
        f"{len(stems)} file(s) that look like stems of an earlier run ({stems[0]}"
        f"{', …' if len(stems) > 1 else ''}); name one by itself to separate it"
    )


def find_tracks(
    paths: Sequence[Path],
    exclude: Path | None = None,
    template: str = DEFAULT_TEMPLATE,
    on_unread: Callable[[Path, str], None] | None = None,
) -> tuple[list[Path], list[NoSongs]]:
    """The songs named by ``paths``, and the folders among them that hold none.

    Folders are searched as ``stemgui.audio.files.find_audio_files`` does (recursively, links
    to folders followed, supported extensions, no hidden files); files are kept whatever their
    extension and missing paths are kept too, so that decoding reports what is wrong with
    them. Stems an earlier run
    wrote into ``exclude`` (the output folder) with ``template`` or the default template are
    skipped, so they are never separated again (see ``_earlier_output``), and so are the
    stems of one export found together in a folder given, or one alone whose song is in the
    output folder or above it, whatever ``exclude`` is (``_exported_stems``: of an output
    folder above, at or inside it, or beside each song). What a folder holds that is not a
    regular file is left out unopened, by ``find_audio_files``; a folder given that cannot be
    read is a ``NoSongs`` that says why, and one inside it is left out, said in a warning and
    to ``on_unread`` (folder, why).
    Each file appears once, in the order given.
    """
    from stemgui.audio.files import find_audio_files
    from stemgui.export.naming import template_pattern

    excluded = real_path(exclude) if exclude is not None else None
    # this run's template, and the default one: stems of a run before a --filename change
    written = [
        template_pattern(t, _written_stems()) for t in dict.fromkeys([template, DEFAULT_TEMPLATE])
    ]
    tracks: dict[Path, Path] = {}
    problems: list[NoSongs] = []
    for path in paths:
        is_dir = os.path.isdir(path)  # Path.is_dir raises on a name too long for the disk
        if is_dir and (unread := _unreadable(path)):  # not "no audio files in this folder"
            problems.append(NoSongs(path, unread=unread))
            continue
        found = find_audio_files([path], on_unread)
        if is_dir:
            folder = real_path(path)
            exported = _exported_stems(found, written)
            earlier = [
                p
                for p in found
                if p in exported
                or (
                    excluded is not None
                    and _earlier_output(real_path(p), excluded, folder, written)
                )
            ]
            left_out = set(earlier)  # a list's `in` made the search quadratic
            found = [p for p in found if p not in left_out]
            if not found:  # it said there were no audio files in a folder full of stems
                problems.append(NoSongs(path, tuple(earlier)))
            elif earlier:  # a song named like a stem would be missed without a word
                logger.warning("%s: left out %s", path, _stems_left_out(earlier))
        for p in found:
            key = real_path(p)
            if key in tracks and not is_dir:  # named twice, or a link to another: said
                first = tracks[key]
                again = "given twice" if first == p else f"the same file as {first}"
                logger.warning("%s: %s; separated once, as %s", p, again, first)
            tracks.setdefault(key, p)
    return list(tracks.values()), problems


def _unreadable(folder: Path) -> str:
    """Why ``folder`` cannot be searched (another user's), or ""."""
    from stemgui.audio.files import unreadable_folder

    try:
        os.scandir(folder).close()
    except OSError as error:
        return unreadable_folder(error)
    return ""


def real_path(path: Path) -> Path:
    """``path`` with its links followed. A link loop stays as it is, for decoding to say so:
    ``Path.resolve`` raised RuntimeError on one before Python 3.13 (a traceback, and no song of
    the batch separated)."""
    return Path(os.path.realpath(path))
