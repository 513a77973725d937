"""The app's settings, declared once: name, type, default and the values allowed.

``Settings`` reads and writes them through a ``QSettings`` (the platform's usual place, or an
ini file given by the tests). A damaged settings file never stops the app: when ``Settings`` is
made it checks the file (unreadable, truncated, not text) and every declared setting (wrong type,
outside its choices or limits, not a number, invalid); each bad value is logged once, removed
from the store and read as its default, and ``problems`` lists what happened in plain words for
the window to show once. Window geometry is kept apart, in ``WindowState``, under its own group:
resetting the settings leaves it alone.

Quality presets map to the ``Separator``'s (segment, overlap, shifts).
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from stemgui.ui.session_entry import check_session
from stemgui.ui.theme import THEMES

logger = logging.getLogger(__name__)

T = TypeVar("T")

ORGANIZATION = "stemgui"
APPLICATION = "stemgui"


@dataclass(frozen=True)
class Quality:
    """What a quality preset asks of the ``Separator``."""

    label: str
    segment: float | None  # seconds; None: the model's own
    overlap: float
    shifts: int


QUALITY_PRESETS: dict[str, Quality] = {
    "fast": Quality("Fast", None, 0.1, 0),
    "balanced": Quality("Balanced", None, 0.25, 0),
    "best": Quality("Best (slow)", None, 0.25, 2),
}


def preset_named(segment: float | None, overlap: float, shifts: int) -> str:
    """The key of the quality preset that asks for these ``Separator`` arguments, or ""."""
    for key, preset in QUALITY_PRESETS.items():
        if (preset.segment, preset.overlap, preset.shifts) == (segment, overlap, shifts):
            return key
    return ""


TWO_STEM_MODES = {"off": "All stems", "vocals": "Vocals / instrumental"}

EXPORT_FORMATS = {
    "wav16": "WAV 16-bit",
    "wav24": "WAV 24-bit",
    "wav32f": "WAV 32-bit float",
    "flac16": "FLAC 16-bit",
    "flac24": "FLAC 24-bit",
    "mp3": "MP3",
    "stem": "Stems file for DJ software (.stem.mp4)",  # one file per song: export_stem_file
}


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: its key in the store, its type, its default and what values it allows.

    ``choices``: the allowed values; ``limits``: (low, high) of a number; ``valid``: raises
    ValueError, in words, for a value of the right type that cannot be used; ``damaged``: what
    a damaged value means to the user, ``{file}`` the settings file ("": the generic words).
    """

    key: str
    type: type
    default: T
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    limits: tuple[float, float] | None = None
    valid: Callable[[Any], None] | None = None
    damaged: str = ""

    def check(self, value: Any) -> T:
        """``value`` converted to the setting's type; ValueError when it does not fit.

        A string from the ini file converts to a number or a bool; nothing converts to a string
        (a list or bytes stored under a text setting is refused, not turned into its repr).
        """
        if self.type is bool:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            elif not isinstance(value, bool):
                raise ValueError(f"{value!r} is not true or false")
        elif self.type is str:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not text")
        elif self.type in (int, float):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError(f"{value!r} is not a number")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{value!r} is not a finite number")
            if self.type is int and not number.is_integer():
                raise ValueError(f"{value!r} is not a whole number")
            value = self.type(number)
        else:
            value = self.type(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, self.choices))}")
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            raise ValueError(f"{value!r} is outside [{self.limits[0]:g}, {self.limits[1]:g}]")
        if self.valid is not None:
            self.valid(value)
        return value


def _device_name(value: str) -> None:
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
        raise ValueError(f"{value!r} is not a device name (auto, cpu, cuda, cuda:N or mps)")


# Every setting of the app, in one place.
MODEL = Setting("separation/model", str, "", doc="model name in the store, or a model file path")
DEVICE = Setting(
    "separation/device", str, "auto", doc="auto, cpu, cuda:N or mps", valid=_device_name
)
QUALITY = Setting("separation/quality", str, "balanced", tuple(QUALITY_PRESETS))
TWO_STEMS = Setting("separation/two_stems", str, "off", tuple(TWO_STEM_MODES))
EXPORT_FOLDER = Setting("export/folder", str, "", doc="empty: beside each song")
EXPORT_FORMAT = Setting("export/format", str, "wav16", tuple(EXPORT_FORMATS))
MP3_BITRATE = Setting("export/mp3_bitrate", int, 320, (128, 192, 256, 320))
EXPORT_TEMPLATE = Setting("export/template", str, "{model}/{track}/{stem}.{ext}")
EXPORT_RATE = Setting(
    "export/samplerate",
    str,
    "song",
    ("song", "stems"),
    doc="the files' rate: the song's or model's",
)
MASTER_DB = Setting("playback/master_db", float, 0.0, limits=(-60.0, 12.0))  # mixer MIN/MAX_DB
SNAP_TO_BEATS = Setting("playback/snap_to_beats", bool, True, doc="loops dragged snap to beats")
CLICK = Setting("playback/click", bool, False, doc="a metronome click on the beats")
OUTPUT_DEVICE = Setting("playback/output_device", str, "", doc="its label; empty: the default")
SPEED_TRAINER = Setting(
    "playback/speed_trainer", bool, False, doc="a loop played slower speeds up each time round"
)
THEME = Setting("appearance/theme", str, "system", tuple(THEMES))
KEEP_STEMS = Setting("cache/keep_stems", bool, True, doc="keep separated stems between sessions")
STEM_CACHE_GB = Setting("cache/size_gb", int, 4, limits=(1, 1000), doc="stem cache size limit")
SESSION = Setting(
    "session/songs",
    str,
    "[]",
    doc="the queue at the last close, with the mixes",
    valid=check_session,
    damaged="The last session's queue could not be read from the settings file {file}; the queue "
    "starts empty. Open the songs again: the stems separated before come from the stem cache.",
)

ALL_SETTINGS: tuple[Setting, ...] = (
    MODEL,
    DEVICE,
    QUALITY,
    TWO_STEMS,
    EXPORT_FOLDER,
    EXPORT_FORMAT,
    MP3_BITRATE,
    EXPORT_TEMPLATE,
    EXPORT_RATE,
    MASTER_DB,
    SNAP_TO_BEATS,
    CLICK,
    OUTPUT_DEVICE,
    SPEED_TRAINER,
    THEME,
    KEEP_STEMS,
    STEM_CACHE_GB,
    SESSION,
)


def default_store() -> QSettings:
    """The platform's settings store for stemgui."""
    return QSettings(ORGANIZATION, APPLICATION)


class Settings:
    """Typed access to the declared settings.

    Args:
        store: where they live; default the platform's store. Tests pass an ini-file QSettings.

    ``problems``: what was wrong with the stored settings, in plain words, one line each (empty
    when all is well); every bad value found reads as its default from then on.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else default_store()
        self._problems: dict[str, str] = {}
        self._check_file()
        for setting in ALL_SETTINGS:
            self.get(setting)

    @property
    def problems(self) -> list[str]:
        return list(self._problems.values())

    def get(self, setting: Setting[T]) -> T:
        raw = self.store.value(setting.key, None)
        if raw is None:
            if self.store.contains(setting.key):  # a value Qt could not make sense of
                self._bad(setting, "its stored value cannot be read")
            return setting.default
        try:
            return setting.check(raw)
        except (TypeError, ValueError) as error:
            self._bad(setting, str(error))
            return setting.default

    def _bad(self, setting: Setting, reason: str) -> None:
        """Log a bad stored value once and remove it, so that it reads as the default."""
        if setting.key not in self._problems:
            said = setting.damaged.format(file=self.store.fileName())
            self._problems[setting.key] = said or (
                f"The setting {setting.key} was damaged ({reason}) and is back to its default."
            )
            logger.warning(
                "setting %s in %s: %s; using the default %r",
                setting.key,
                self.store.fileName(),
                reason,
                setting.default,
            )
        if self.store.status() is not QSettings.Status.AccessError:
            self.store.remove(setting.key)

    def _check_file(self) -> None:
        """Note a settings file that cannot be read or is damaged (its readable part is used),
        or that cannot be written (every choice would be lost at the close without a word)."""
        name = self.store.fileName()
        status = self.store.status()
        rewrite = status is not QSettings.Status.AccessError
        if not rewrite:
            reason = "could not be read; using the default settings"
        elif status is QSettings.Status.FormatError:
            reason = (
                "is damaged (truncated or not a settings file); what could be read is kept, "
                "the rest is back to the defaults"
            )
        elif _is_ini(self.store) and not _looks_like_text(Path(name)):
            reason = "is damaged (it is not text); using the default settings"
        elif not self.store.isWritable():
            rewrite = False
            reason = (
                "cannot be written (it or its folder is read-only): the settings chosen now and "
                "the queue are not kept for the next start; make it writable"
            )
        else:
            return
        self._problems[""] = f"The settings file {name} {reason}."
        logger.warning("settings file %s %s (%s)", name, reason, status.name)
        if rewrite:
            self._rewrite()

    def _rewrite(self) -> None:
        """Write the readable part of a damaged file back cleanly (the junk goes)."""
        kept = {key: self.store.value(key) for key in self.store.allKeys()}
        self.store.clear()
        for key, value in kept.items():
            self.store.setValue(key, value)
        self.store.sync()
        path = Path(self.store.fileName())
        if _is_ini(self.store) and not _looks_like_text(path):  # nothing readable: Qt kept it
            try:
                path.write_bytes(b"")
            except OSError as error:
                logger.warning("could not clear the damaged settings file %s: %s", path, error)

    def set(self, setting: Setting[T], value: T) -> None:
        """Store ``value`` (ValueError if it does not fit the setting)."""
        self.store.setValue(setting.key, setting.check(value))

    def reset(self) -> None:
        """Every declared setting back to its default (window geometry is kept)."""
        for setting in ALL_SETTINGS:
            self.store.remove(setting.key)

    def quality(self) -> Quality:
        return QUALITY_PRESETS[self.get(QUALITY)]


def _is_ini(store: QSettings) -> bool:
    """Whether ``store`` is an ini file (always on Linux; on request on Windows and macOS)."""
    native_ini = not sys.platform.startswith(("win", "darwin"))
    return store.format() is QSettings.Format.IniFormat or (
        native_ini and store.format() is QSettings.Format.NativeFormat
    )


def _looks_like_text(path: Path) -> bool:
    """False for a file holding NUL bytes or invalid UTF-8 (binary junk Qt reads as empty)."""
    try:
        data = path.read_bytes()
    except OSError:  # missing (no settings yet) or vanished: nothing to warn about here
        return True
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class WindowState:
    """Window geometry and layout, apart from the settings (group ``window``)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else default_store()

    def save(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry", None)
        return value if isinstance(value, QByteArray) else None

    def state(self) -> QByteArray | None:
        value = self.store.value("window/state", None)
        return value if isinstance(value, QByteArray) else None
