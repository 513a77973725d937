"""Where an export's files go, checked before any audio is written: ``plan`` (the command line
calls it before separating, so that a name clash, an existing file or a folder that cannot be
written is said before minutes of work), ``stem_names`` (which files a request writes),
``part_label`` (what the names say of a part of the song or a pace) and ``part_frames`` (which
frames of the song it writes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stemgui.errors import ExportError
from stemgui.export.naming import (
    MAX_NAME_BYTES,
    check_extension,
    render,
    safe_name,
    span_label,
    template_keys,
    template_parts,
)
from stemgui.export.rates import check_rate

if TYPE_CHECKING:
    from stemgui.export.exporter import ExportRequest
    from stemgui.stems.stemset import StemSet


def stem_names(request: ExportRequest, sources: Sequence[str]) -> list[str]:
    """The names of the files ``request`` writes for a separation into ``sources``, in order.

    Raises:
        ExportError: a requested stem is not among ``sources``, or nothing is requested; for a
            Stems file, see ``stem_file.stem_names``.
    """
    from stemgui.export import stem_file

    sources = list(sources)
    if stem_file.is_stem_file(request.fmt):
        return stem_file.stem_names(request, sources)

    def check(name: str) -> None:
        if name not in sources:
            raise ExportError(
                request.folder, f"there is no stem {name!r}; the stems are {', '.join(sources)}"
            )

    if request.two_stems is not None:
        check(request.two_stems)
        names = [request.two_stems, f"no_{request.two_stems}"]
    else:
        names = list(sources if request.stems is None else dict.fromkeys(request.stems))
        for name in names:
            check(name)
    if request.mix_gains is not None:
        names.append(request.mix_name)
    if not names:
        raise ExportError(request.folder, "nothing to export: choose at least one stem or the mix")
    return names


def reached(folder: Path) -> Path:
    """``folder`` as the system reaches it once it is made: the ``..`` in its part that does
    not exist yet taken away by name (that part holds no link), so that ``a/../b`` makes and
    names ``b`` alone (made a part at a time, it made an empty ``a`` too). In the part that
    exists a ``..`` after a link goes where the link leads, and stays."""
    there = next((p for p in (folder, *folder.parents) if os.path.lexists(p)), None)
    if there is None:
        return folder
    return there / os.path.normpath(folder.relative_to(there))


def plan(
    request: ExportRequest, sources: Sequence[str], track: str | Path, model_name: str
) -> list[tuple[str, Path]]:
    """Every (stem name, target path) of the request, checked, before any audio exists.

    The command line calls this before separating, so that a name clash or an existing file
    is reported before minutes of work rather than after.

    Raises:
        ExportError: bad template, unknown stem, two stems on one path, a folder to write
            in that cannot be written or entered, or (unless
            ``request.overwrite`` or ``request.skip_existing``) targets that exist already,
            all of them listed.
    """
    template_parts(request.template, request.folder)
    check_extension(request.template, request.fmt.extension, request.folder)
    check_rate(request.samplerate, request.fmt, request.folder)
    track_name = track.stem if isinstance(track, Path) else str(track)
    _check_heard(request, track)
    # not the whole song's files: a name of its own, the song's name and the part
    label = part_label(request)
    folder = reached(request.folder)
    targets = [
        (
            name,
            render(
                request.template,
                folder,
                track=track_name,
                stem=name,
                model=model_name,
                ext=request.fmt.extension,
                track_label=label,
            ),
        )
        for name in stem_names(request, sources)
    ]
    seen: dict[str, str] = {}  # case-folded: Windows and macOS names ignore case
    for name, path in targets:
        # the nearest part of the path that exists must be a folder to make the rest in
        there = next((p for p in path.parents if os.path.lexists(p)), None)
        if there is not None and not there.is_dir():
            if not there.exists():  # a link to nothing: a drive not connected, say
                raise ExportError(
                    there,
                    f"is a link to {os.readlink(there)}, which is not there (a drive not "
                    "connected?); connect it or choose another folder",
                )
            raise ExportError(
                there, "is a file where the export needs a folder; choose another folder"
            )
        if there is not None:  # first: a folder's name too long made is_dir raise OSError
            _check_length(path, there)
            if not (request.skip_existing and os.path.lexists(path)):  # a file kept is not written
                _check_writable(there)
        # found now, not after every stem of a long song is written; os.path's test: in a
        # folder that cannot be entered (another user's), Path.is_dir raised PermissionError
        if os.path.isdir(path):
            raise ExportError(path, "is a folder; choose another folder or file name")
        key = str(path).casefold()
        if key in seen:
            raise ExportError(path, _clash(request.template, seen[key], name, path))
        seen[key] = name
    if not (request.overwrite or request.skip_existing):
        # a link to nothing too: found now, not by the rename after every file is written
        existing = [path for _name, path in targets if os.path.lexists(path)]
        if len(existing) == 1:
            raise ExportError(
                existing[0], "exists already; choose another folder or allow overwriting"
            )
        if existing:
            listed = ", ".join(str(p) for p in existing)
            raise ExportError(
                request.folder,
                f"{len(existing)} files exist already ({listed}); choose another folder or "
                "allow overwriting",
            )
    return targets


def _clash(template: str, first: str, second: str, path: Path) -> str:
    """Why ``template`` gives the stems ``first`` and ``second`` one file, ``path``, and what
    to do."""
    words = f"the template {template!r} gives stems {first!r} and {second!r} the same file"
    if "stem" not in template_keys(template):
        return words + "; put {stem} in it"
    if first.casefold() == second.casefold():
        return words + ": their names differ only in capitals, which Windows and macOS ignore"
    if safe_name(second, extension=False) not in str(path):
        return (
            words + f": a name is cut to {MAX_NAME_BYTES} bytes, and the stem was cut off with "
            "it; shorten the template's text before {stem}"
        )
    return words + f", {path.name!r}: names are made safe for every disk (no / : * ? and such)"


def _check_heard(request: ExportRequest, track: str | Path) -> None:
    """Refuse a mix as heard in which every stem is muted (or at the slider's bottom): its file
    would be silence, and nothing would say why.

    Raises:
        ExportError: about the song (its path, or the folder naming it).
    """
    gains = request.mix_gains
    gains = getattr(gains, "gains", gains)  # a MixerState, or its factors
    if gains is None or len(gains) == 0 or any(gains):
        return
    song = track if isinstance(track, Path) else request.folder
    whose = "" if isinstance(track, Path) else f" of {track}"
    raise ExportError(
        song,
        f"the mix{whose} as heard is silent: every stem is muted or turned all the way down; "
        "unmute or turn up a stem, or export without the mix",
    )


def _check_writable(there: Path) -> None:
    """Refuse ``there``, the nearest folder that exists of a file to write, if no file can be
    made in it: not writable or not to be entered (another user's folder, a read-only disk), so
    that it is said before the song is separated, not by the write after.

    Raises:
        ExportError: naming the folder, and what to do.
    """
    if not os.access(there, os.W_OK | os.X_OK):
        raise ExportError(
            there, "the folder is not writable; choose another folder or change its permissions"
        )


def _check_length(path: Path, there: Path) -> None:
    """Refuse ``path`` if the file system of ``there``, its nearest folder that exists, cannot
    hold it (a name over 143 bytes on eCryptfs, a path over 4095 bytes on Linux), so that it
    is said before the song is separated, not after.

    Raises:
        ExportError: naming the file, the name or path too long, and what to do.
    """
    from stemgui.audio.atomic import file_system_limits, part_path_for

    name_max, path_max = file_system_limits(there)
    for name in path.relative_to(there).parts:
        size = len(os.fsencode(name))
        if size > name_max:
            raise ExportError(
                path,
                f"the name {name!r} is too long for the disk it goes on ({size} bytes; it takes "
                f"{name_max}); choose a shorter file name template or another folder",
            )
    longest = max(len(os.fsencode(p)) for p in (path, part_path_for(path)))
    if path_max is not None and longest > path_max:
        raise ExportError(
            path,
            f"the path is too long ({longest} bytes with its temporary name; the system takes "
            f"{path_max}); choose a folder nearer the top or a shorter file name template",
        )


def part_label(request: ExportRequest) -> str:
    """What the files hold when not the whole song as it is: the span of it ("1m02.50s-1m18.00s")
    and the pace ("90% +2st"), for their names and titles; "" for the whole song."""
    parts = [] if request.span is None else [span_label(*request.span)]
    if request.pace is not None and not request.pace.normal:
        parts.append(request.pace.label)
    return " ".join(parts)


def part_frames(stemset: StemSet, span: tuple[float, float] | None) -> tuple[int, int]:
    """(first frame, frames) of the part ``span`` of ``stemset`` (start, stop in seconds, as
    ``ExportRequest.span``; None: the whole song), at the stems' rate and within them; frames
    0 or less: nothing of the song."""
    if span is None:
        return 0, stemset.frames
    first = min(max(round(span[0] * stemset.samplerate), 0), stemset.frames)
    return first, min(round(span[1] * stemset.samplerate), stemset.frames) - first
