"""File names of exported stems: templates such as ``{model}/{track}/{stem}.{ext}`` (a Stems
file's ``{ext}`` is ``stem.mp4``).

A template is a relative path whose parts may use the keys ``{track}`` (the song's name without
extension), ``{stem}``, ``{model}`` and ``{ext}`` (``wav``, ``flac``, ``mp3``). ``/`` (or ``\\``)
separates folders. Rendering checks the template (no other keys, no absolute path, no ``..``) and
makes every folder and file name safe on Windows, macOS and Linux: reserved characters become
``_``, trailing dots and spaces go, a leading dot (a hidden file) becomes ``_``, reserved device
names (``CON``, ``NUL``, ``COM1``...) get a ``_``, overlong names are shortened (in a file name,
the track's name gives way to the stem and extension). Letters outside ASCII are kept.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from stemgui.errors import ExportError

TEMPLATE_KEYS = ("track", "stem", "model", "ext")
DEFAULT_TEMPLATE = "{model}/{track}/{stem}.{ext}"

# Characters Windows refuses in a name, path separators of every system, control characters,
# and the bytes of a name that are not UTF-8 (Python's surrogates for them: "caf\udce9" of a
# Latin-1 "café"), which no text (a tag, a UTF-8 name) can hold.
_RESERVED_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
    | {"COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"}
)
# Most file systems allow 255 bytes (ext4), 255 characters (APFS, NTFS) per name: stay below both.
MAX_NAME_BYTES = 240
_SEPARATORS = re.compile(r"[/\\]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_name(
    name: str, replacement: str = "_", *, extension: bool = True, max_bytes: int = MAX_NAME_BYTES
) -> str:
    """``name`` made usable as one file or folder name on Windows, macOS and Linux.

    Unicode is normalised to NFC and kept; reserved characters (``<>:"/\\|?*``, control
    characters and a file name's bytes that are not UTF-8) become ``replacement``; leading and
    trailing spaces and trailing dots are removed; a leading dot becomes ``replacement``;
    Windows device names get ``replacement`` appended to their base; an empty result, ``.`` and
    ``..`` become ``replacement``. Names longer than ``max_bytes`` in UTF-8 are shortened,
    keeping a short extension if ``extension``: pass False for a folder or a song's name, whose
    last dot starts no extension ("Song 1m02.50s-1m18.40s" would keep ".40s" and lose the rest);
    a smaller ``max_bytes`` leaves room for what a name gets added (``name-<hash>.stemgui``).
    """
    name = unicodedata.normalize("NFC", name)
    name = _RESERVED_CHARACTERS.sub(replacement, name)
    name = name.strip(" ").rstrip(". ")
    if name in ("", ".", ".."):
        return replacement
    if name.startswith("."):  # hidden on Linux and macOS: " .hidden.wav"'s stems out of sight
        name = replacement + name[1:]
    base, dot, end = name.partition(".")
    if base.rstrip(" ").upper() in _WINDOWS_DEVICES:
        name = base.rstrip(" ") + replacement + dot + end
    return _shorten(name, extension, max_bytes)


def _shorten(name: str, extension: bool, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, end = name.rpartition(".")
    if not extension or not dot or len(end) > 16 or not stem:
        stem, end = name, ""
    else:
        end = "." + end
    return _cut(stem, max_bytes - len(end.encode("utf-8"))) + end


def _cut(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` bytes of UTF-8, never inside a character, without
    trailing dots or spaces (Windows drops them)."""
    cut = text.encode("utf-8")[: max(size, 0)].decode("utf-8", errors="ignore").rstrip(". ")
    return cut or "_"


def span_label(start: float, stop: float) -> str:
    """A part of a song in a file name: "1m02.50s-1m18.00s" (no colon: Windows refuses it).
    To the hundredth, so that two loops set by hand hardly ever share a name."""

    def at(seconds: float) -> str:
        minutes, rest = divmod(round(seconds, 2), 60)
        return f"{int(minutes)}m{rest:05.2f}s"

    return f"{at(start)}-{at(stop)}"


def template_parts(template: str, folder: Path | str = ".") -> list[str]:
    """Split a template into its folder and file parts after checking it.

    Raises:
        ExportError: (about ``folder``) for an empty or malformed template, an unknown key, a
            format spec or conversion, an absolute path or a ``..`` part.
    """

    def fail(reason: str) -> ExportError:
        return ExportError(folder, f"file name template {template!r}: {reason}")

    if not template.strip():
        raise fail("it is empty; use for example " + repr(DEFAULT_TEMPLATE))
    if template.startswith(("/", "\\")) or _DRIVE.match(template):
        raise fail("it must be relative to the output folder")
    parts = _named_parts(template)
    if ".." in parts:
        raise fail("'..' would write outside the output folder")
    if not parts:
        raise fail("it names no file")
    if any(not part.strip(" .") for part in parts):
        raise fail("a folder or file in it has no name (only spaces or dots); remove it")
    for part in parts:
        try:
            fields = list(string.Formatter().parse(part))
        except ValueError as error:
            raise fail(f"{error}; write {{{{ and }}}} for literal braces") from error
        for _literal, field, spec, conversion in fields:
            if field is None:
                continue
            if field not in TEMPLATE_KEYS:
                raise fail(
                    f"unknown key {{{field}}}; the keys are "
                    + ", ".join("{" + k + "}" for k in TEMPLATE_KEYS)
                )
            if spec or conversion:
                raise fail(f"write {{{field}}} without a format or conversion")
    return parts


def _named_parts(template: str) -> list[str]:
    """The folder and file parts of ``template``, those with no name ("a//b", "./a", "a/")
    left out."""
    return [p for p in _SEPARATORS.split(template) if p not in ("", ".")]


def template_keys(template: str) -> set[str]:
    """The keys a (checked) file name template fills in; ``{{stem}}`` is the text ``{stem}``."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(template) if field}


AUDIO_EXTENSIONS = ("wav", "flac", "mp3")  # what an export writes


def check_extension(template: str, extension: str, folder: Path | str = ".") -> None:
    """Refuse a template whose file names do not end in ``.{ext}`` or ``.<extension>``
    (``{stem}.wav`` with mp3 chosen, ``{stem}.ogg``, ``{stem}``): the files would hold one
    format under another's name, or none, and players and DAWs choose a decoder by it.

    Raises:
        ExportError: (about ``folder``) naming both and what to do.
    """
    name = (_named_parts(template) or [""])[-1]  # "{stem}.{ext}/" names {stem}.{ext}
    if name.lower() in (".{ext}", f".{extension}"):  # written as "_wav", a name with none
        raise ExportError(
            folder,
            f"file name template {template!r} has nothing before the extension: name the "
            "files, as in {stem}.{ext}",
        )
    if name.endswith(".{ext}") or name.lower().endswith(f".{extension}"):
        return
    written = name.rpartition(".")[2] if "." in name else ""
    ending = f"ends in .{written}" if written and "{" not in written else "has no extension"
    raise ExportError(
        folder,
        f"file name template {template!r} {ending} but the files are {extension}: end it "
        "in .{ext}"
        + (", or choose the format that matches" if written in AUDIO_EXTENSIONS else ""),
    )


def template_pattern(template: str, stems: Sequence[str]) -> re.Pattern[str]:
    """The paths (relative to the output folder, "/" between parts) that ``template`` writes,
    for any track and model and the given ``stems``, in any of the written formats, of the
    whole song or a part of it or at a pace (which a template without ``{track}`` names in the
    file's name, "vocals 80%.wav": see ``render``). Each ``{track}`` and ``{stem}`` is a group
    of its own, ``track0``, ``track1``… and ``stem0``…, in the template's order.

    Raises:
        ExportError: for a bad template (see ``template_parts``).
    """
    from stemgui.audio.encode import KINDS
    from stemgui.audio.stem_mp4 import StemFileFormat

    extensions = (*KINDS, StemFileFormat.extension)  # a Stems file: "{stem}" is "stems"
    fields = {
        "track": r"[^/]+",
        "model": r"[^/]+",
        "stem": "(?:" + "|".join(re.escape(s) for s in stems) + ")",
        "ext": "(?:" + "|".join(map(re.escape, extensions)) + ")",
    }
    groups = dict.fromkeys(("track", "stem"), 0)

    def field_pattern(field: str) -> str:
        if field not in groups:
            return fields[field]
        groups[field] += 1
        return f"(?P<{field}{groups[field] - 1}>{fields[field]})"

    def pattern(text: str) -> str:
        return "".join(
            re.escape(literal) + (field_pattern(field) if field else "")
            for literal, field, _spec, _conversion in string.Formatter().parse(text)
        )

    parts = template_parts(template)
    pieces = [pattern(part) for part in parts]
    if not any(
        field == "track" for part in parts for _, field, _, _ in string.Formatter().parse(part)
    ):
        base, dot, end = parts[-1].rpartition(".")  # the label goes before the extension
        label = r"(?: [^/]+)?"
        pieces[-1] = (
            pattern(base) + label + re.escape(dot) + pattern(end) if dot else pieces[-1] + label
        )
    return re.compile("/".join(pieces))


def render(
    template: str,
    folder: Path | str,
    *,
    track: str,
    stem: str,
    model: str,
    ext: str,
    track_label: str = "",
) -> Path:
    """The path under ``folder`` that ``template`` gives for these values.

    Every value and every resulting folder or file name is passed through ``safe_name``, so a
    value can never add a folder level or climb out of ``folder``. A name too long is made to
    fit by shortening the track's name in it, never the stem or extension after it (two stems
    would share a file). ``track_label`` follows the track's name after a space (the part of
    the song exported, "1m02.50s-1m18.40s"), kept whole too: two parts of one song never share
    a name. A template without ``{track}`` gets it in its file name, before the extension
    ("{stem}.{ext}": "vocals 1m02.50s-1m18.40s.wav"), not the whole song's names.

    Raises:
        ExportError: for a bad template (see ``template_parts``) or a file name that comes out
            empty (for example a template ``{stem}`` whose stem name is empty).
    """
    folder = Path(folder)
    parts = template_parts(template, folder)
    song = safe_name(track, extension=False) if track else ""

    def track_in(room: int) -> str:
        """The track's value in at most ``room`` bytes of UTF-8: the song's name cut, not the
        label."""
        if not song:
            return track_label
        if not track_label:
            return _cut(song, room)
        return f"{_cut(song, room - len(track_label.encode('utf-8')) - 1)} {track_label}"

    values = {
        "track": track_in(MAX_NAME_BYTES),
        "stem": safe_name(stem, extension=False) if stem else "",
        "model": safe_name(model, extension=False) if model else "",
        "ext": safe_name(ext, extension=False) if ext else "",
    }
    # no {track}: the part of the song goes in the file name, or its files are the whole song's
    labelled = track_label and not any(
        key == "track" for part in parts for _, key, _, _ in string.Formatter().parse(part)
    )
    rendered = []
    for index, part in enumerate(parts):
        text = part.format(**values)
        if labelled and index == len(parts) - 1:
            text = _with_label(text, track_label)
        over = len(text.encode("utf-8")) - MAX_NAME_BYTES
        uses = [key for _literal, key, _spec, _conversion in string.Formatter().parse(part)]
        if over > 0 and song and "track" in uses:  # "{track}_{stem}.{ext}": the track gives way
            room = len(values["track"].encode("utf-8")) - math.ceil(over / uses.count("track"))
            text = part.format(**{**values, "track": track_in(room)})
        if not text.strip(" ."):
            raise ExportError(
                folder,
                f"file name template {template!r} gives a folder or file with no name (for "
                f"{values['track']!r}, stem {values['stem']!r}); fill in or remove that part",
            )
        rendered.append(safe_name(text, extension=index == len(parts) - 1))  # folders: none
    return folder.joinpath(*rendered)


def _with_label(name: str, label: str) -> str:
    """``label`` after ``name``'s base, before its extension, kept whole: "vocals.wav" and
    "1m02.50s-1m18.40s" give "vocals 1m02.50s-1m18.40s.wav"; the base is cut if need be."""
    base, dot, end = name.rpartition(".")
    if not dot or not base.strip(" ."):
        base, end = name, ""
    else:
        end = "." + end
    room = MAX_NAME_BYTES - len(f" {label}{end}".encode())
    return f"{_cut(base, room)} {label}{end}"
