"""The app's settings, declared once: name, type, default and the values allowed.

``Settings`` reads and writes them through a ``QSettings`` (the platform's usual place, or an
ini file given by the tests); a stored value of the wrong type or outside its choices is logged
and replaced by the default, so a damaged settings file never stops the app. Window geometry is
kept apart, in ``WindowState``, under its own group: resetting the settings leaves it alone.

Quality presets map to the ``Separator``'s (segment, overlap, shifts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

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

TWO_STEM_MODES = {"off": "All stems", "vocals": "Vocals / instrumental"}

EXPORT_FORMATS = {
    "wav16": "WAV 16-bit",
    "wav24": "WAV 24-bit",
    "wav32f": "WAV 32-bit float",
    "flac16": "FLAC 16-bit",
    "flac24": "FLAC 24-bit",
    "mp3": "MP3",
}


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: its key in the store, its type, its default and (optionally) its choices."""

    key: str
    type: type
    default: T
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def check(self, value: Any) -> T:
        """``value`` converted to the setting's type; ValueError when it does not fit."""
        if self.type is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false"):
                    raise ValueError(f"{self.key}: {value!r} is not true or false")
                value = value.lower() == "true"
            elif not isinstance(value, bool):
                raise ValueError(f"{self.key}: {value!r} is not true or false")
        else:
            value = self.type(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{self.key}: {value!r} is not one of {self.choices}")
        return value


# Every setting of the app, in one place.
MODEL = Setting("separation/model", str, "", doc="model name in the store, or a model file path")
DEVICE = Setting("separation/device", str, "auto", doc="auto, cpu, cuda:N or mps")
QUALITY = Setting("separation/quality", str, "balanced", tuple(QUALITY_PRESETS))
TWO_STEMS = Setting("separation/two_stems", str, "off", tuple(TWO_STEM_MODES))
EXPORT_FOLDER = Setting("export/folder", str, "", doc="empty: beside each song")
EXPORT_FORMAT = Setting("export/format", str, "wav16", tuple(EXPORT_FORMATS))
MP3_BITRATE = Setting("export/mp3_bitrate", int, 320, (128, 192, 256, 320))
EXPORT_TEMPLATE = Setting("export/template", str, "{model}/{track}/{stem}.{ext}")
MASTER_DB = Setting("playback/master_db", float, 0.0)

ALL_SETTINGS: tuple[Setting, ...] = (
    MODEL,
    DEVICE,
    QUALITY,
    TWO_STEMS,
    EXPORT_FOLDER,
    EXPORT_FORMAT,
    MP3_BITRATE,
    EXPORT_TEMPLATE,
    MASTER_DB,
)


def default_store() -> QSettings:
    """The platform's settings store for stemgui."""
    return QSettings(ORGANIZATION, APPLICATION)


class Settings:
    """Typed access to the declared settings.

    Args:
        store: where they live; default the platform's store. Tests pass an ini-file QSettings.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else default_store()

    def get(self, setting: Setting[T]) -> T:
        raw = self.store.value(setting.key, None)
        if raw is None:
            return setting.default
        try:
            return setting.check(raw)
        except (TypeError, ValueError) as error:
            logger.warning(
                "setting %s: %s; using the default %r", setting.key, error, setting.default
            )
            return setting.default

    def set(self, setting: Setting[T], value: T) -> None:
        """Store ``value`` (ValueError if it does not fit the setting)."""
        self.store.setValue(setting.key, setting.check(value))

    def reset(self) -> None:
        """Every declared setting back to its default (window geometry is kept)."""
        for setting in ALL_SETTINGS:
            self.store.remove(setting.key)

    def quality(self) -> Quality:
        return QUALITY_PRESETS[self.get(QUALITY)]

    def separation_key(self) -> tuple:
        """What decides a separation's result: model, device, quality."""
        return (self.get(MODEL), self.get(DEVICE), self.get(QUALITY))


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
