"""Where models come from: the bundled ones, the user's own files, and the official Demucs ones.

``ModelStore`` lists what can be used and turns a name or a path into a loaded model:

- **bundled**: ``resources/models/manifest.json`` lists the files shipped with the app.
- **user**: files in the user data folder (``<user data>/stemgui/models``): our ``.stemgui``
  checkpoints, official ``.th`` files, bag ``.yaml`` files. Named by file stem, without the
  ``-<hash>`` suffix.
- **official**: the Demucs releases known by name (``official_models.OFFICIAL_MODELS``); their
  ``.th`` files are downloaded into ``<user folder>/official`` on request, then imported.

Manifest schema (``resources/models/manifest.json``), version 1:

.. code-block:: json

    {
      "schema": 1,
      "models": [
        {
          "name": "stemgui-4s",                    // required: unique, used in the UI and CLI
          "file": "stemgui-4s-1a2b3c4d.stemgui",   // required: relative to the manifest's folder
          "sha256": "<64 hex digits>",             // required: checked on every load
          "sources": ["drums", "bass", "other", "vocals"],   // optional, shown before loading
          "description": "...",                    // optional, one line for the UI
          "default": true                          // optional: the model used when none is chosen
        }
      ]
    }
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from torch import nn

from stemgui.errors import CancelToken, ModelLoadError
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import SUFFIX
from stemgui.separation.hashing import is_sha256_prefix, verify_sha256
from stemgui.separation.official import (
    OFFICIAL_SUFFIX,
    find_signature,
    load_any,
    load_bag_file,
)
from stemgui.separation.official_models import OFFICIAL_MODELS, OFFICIAL_ROOT_URL, OfficialModel
from stemgui.separation.spec import default_bundled_dir, file_model_name

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = 1
BAG_SUFFIXES = (".yaml", ".yml")
Origin = Literal["bundled", "user", "official"]


@dataclass(frozen=True)
class ModelEntry:
    """One model the store can offer. ``path``: its file (bundled, user) or None (official)."""

    name: str
    origin: Origin
    available: bool
    path: Path | None = None
    description: str = ""
    sources: tuple[str, ...] = ()
    sha256: str | None = None
    default: bool = False


def default_user_dir() -> Path:
    """``<platform user data folder>/stemgui/models``."""
    import platformdirs

    return platformdirs.user_data_path("stemgui", appauthor=False) / "models"


class ModelStore:
    """Names -> models, over the bundled folder, the user folder and the official catalogue."""

    def __init__(
        self,
        bundled_dir: str | Path | None = None,
        user_dir: str | Path | None = None,
        official_root_url: str = OFFICIAL_ROOT_URL,
    ) -> None:
        self.bundled_dir = Path(bundled_dir) if bundled_dir is not None else default_bundled_dir()
        self.user_dir = Path(user_dir) if user_dir is not None else default_user_dir()
        self.official_root_url = official_root_url

    @property
    def official_dir(self) -> Path:
        """Where official ``.th`` files are downloaded."""
        return self.user_dir / "official"

    # --------------------------------------------------------------- listing

    def manifest(self) -> list[dict[str, Any]]:
        """The bundled manifest's model list (empty when there is no manifest).

        Raises:
            ModelLoadError: the manifest is not valid JSON or does not follow the schema; the
                message says what is wrong, the caller what to do (the app and the CLI have
                stemgui reinstalled or a model file chosen, training's export has the manifest
                of its --models-dir corrected).
        """
        path = self.bundled_dir / MANIFEST
        if not path.is_file():
            return []
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(path, f"model manifest is not readable JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("schema") != MANIFEST_SCHEMA:
            raise ModelLoadError(path, f'model manifest must have "schema": {MANIFEST_SCHEMA}')
        models = document.get("models")
        if not isinstance(models, list):
            raise ModelLoadError(path, 'model manifest has no "models" list')
        names = set()
        for entry in models:
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) for k in ("name", "file", "sha256")
            ):
                raise ModelLoadError(path, f"manifest entry needs name, file, sha256: {entry!r}")
            if not is_sha256_prefix(entry["sha256"]):  # else every load said a ValueError
                raise ModelLoadError(
                    path,
                    f"manifest entry {entry['name']!r} has a sha256 of {entry['sha256']!r}, "
                    "not a sha256 (64 hex digits)",
                )
            if entry["file"] in ("", "..") or Path(entry["file"]).name != entry["file"]:
                # export --replace deletes the file an entry names: ../x was outside the folder
                raise ModelLoadError(
                    path,
                    f"manifest entry {entry['name']!r} has a file of {entry['file']!r}, not the "
                    f"name of a file in {self.bundled_dir}",
                )
            if entry["name"] in names:
                raise ModelLoadError(path, f"manifest names {entry['name']!r} twice")
            names.add(entry["name"])
        return models

    def _bundled(self) -> list[ModelEntry]:
        return [
            ModelEntry(
                name=entry["name"],
                origin="bundled",
                available=(self.bundled_dir / entry["file"]).is_file(),
                path=self.bundled_dir / entry["file"],
                description=entry.get("description", ""),
                sources=tuple(entry.get("sources", ())),
                sha256=entry["sha256"],
                default=bool(entry.get("default", False)),
            )
            for entry in self.manifest()
        ]

    def _user(self) -> list[ModelEntry]:
        if not self.user_dir.is_dir():
            return []
        entries = []
        suffixes = (SUFFIX, OFFICIAL_SUFFIX, *BAG_SUFFIXES)
        for path in sorted(self.user_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith("."):
                entries.append(ModelEntry(file_model_name(path), "user", True, path))
        return entries

    def missing_files(self, name: str) -> list[tuple[str, Path]]:
        """For an official model: (url, destination) of each file not downloaded yet."""
        model = OFFICIAL_MODELS[name]
        return [
            (model.url(file, self.official_root_url), self.official_dir / file)
            for file, signature in zip(model.files, model.signatures)
            if find_signature(self.official_dir, signature) is None
        ]

    def to_download(self, name: str) -> list[tuple[str, Path]]:
        """``missing_files(name)``, for a download of them starting now: first the partial
        downloads of earlier versions of the model's files are removed (a file published again
        under a new sha256, which its name carries, left the old one's ``.part`` for good), not
        one another download is writing (``download.drop_partials``)."""
        from stemgui.separation.download import drop_partials

        missing = self.missing_files(name)
        if missing:
            wanted = {file.lower() for model in OFFICIAL_MODELS.values() for file in model.files}
            signatures = {signature.lower() for signature in OFFICIAL_MODELS[name].signatures}

            def stale(file: str) -> bool:  # a file of this model's, of no version published
                file = file.lower()
                return file not in wanted and file.partition("-")[0] in signatures

            drop_partials(self.official_dir, stale, name)
        return missing

    def _official(self) -> list[ModelEntry]:
        return [
            ModelEntry(
                name=model.name,
                origin="official",
                available=not self.missing_files(model.name),
                description=model.description,
                sources=model.sources,
            )
            for model in OFFICIAL_MODELS.values()
        ]

    def list_models(self) -> list[ModelEntry]:
        """Every model: bundled, then the user's, then the official catalogue (downloaded or not).

        A user file that takes a bundled or official name is listed, but the earlier one wins
        when loading by name."""
        return [*self._bundled(), *self._user(), *self._official()]

    def names(self, available_only: bool = True) -> list[str]:
        """Model names in ``list_models`` order, each once; by default only those that load now
        (bundled files present, user files, official models downloaded)."""
        names: list[str] = []
        for entry in self.list_models():
            if (entry.available or not available_only) and entry.name not in names:
                names.append(entry.name)
        return names

    def default_name(self) -> str | None:
        """The model used when none is chosen: the bundled one marked ``default``, else the first
        bundled one, else ``htdemucs`` if downloaded, else the first available; None if none."""
        bundled = [entry for entry in self._bundled() if entry.available]
        candidates = [entry for entry in bundled if entry.default] or bundled
        if candidates:
            return candidates[0].name
        available = self.names()
        if "htdemucs" in available:
            return "htdemucs"
        return available[0] if available else None

    # --------------------------------------------------------------- loading

    def load(self, name_or_path: str | Path) -> nn.Module:
        """Load a model by name (see ``list_models``) or by file path: eval mode, CPU.

        Paths are recognised by being a file or by their suffix: ``.stemgui`` (ours), ``.th``
        (official; sha256 prefix in the name checked), ``.yaml``/``.yml`` (bag, members looked
        up beside it). A folder named like a model (an earlier run's output folder) is not one.
        An official name with one file, no weights and no segment gives the network itself;
        other official names give a ``BagOfModels``.

        Raises:
            ModelLoadError: unknown name, not downloaded, or the file fails to load.
        """
        path = Path(name_or_path)
        known_suffix = path.suffix.lower() in (SUFFIX, OFFICIAL_SUFFIX, *BAG_SUFFIXES)
        # os.path.isfile: Path.is_file raises on a name too long for the disk
        if isinstance(name_or_path, Path) or os.path.isfile(path) or known_suffix:
            return self._load_path(path)
        name = str(name_or_path)
        for entry in (*self._bundled(), *self._user()):
            if entry.name == name:
                if not entry.available:
                    raise ModelLoadError(
                        entry.path,
                        f"bundled model {name} is missing from the installation; reinstall stemgui",
                    )
                return self._load_path(entry.path, sha256=entry.sha256)
        if name in OFFICIAL_MODELS:
            return self._load_official(OFFICIAL_MODELS[name])
        known = ", ".join(sorted({entry.name for entry in self.list_models()}))
        raise ModelLoadError(
            path, f"no model named {name!r} (known: {known}); choose one of those, or a model file"
        )

    def _load_path(self, path: Path, sha256: str | None = None) -> nn.Module:
        if path.suffix.lower() in BAG_SUFFIXES:
            return load_bag_file(path, path.parent)
        return load_any(path, sha256=sha256)

    def _load_official(self, model: OfficialModel) -> nn.Module:
        missing = self.missing_files(model.name)
        if missing:
            files = ", ".join(dest.name for _, dest in missing)
            raise ModelLoadError(
                self.official_dir,
                f"official model {model.name} is not downloaded (missing "
                f"{files}); download it first",
            )
        members = [self._load_downloaded(model, signature) for signature in model.signatures]
        if len(members) == 1 and model.weights is None and model.segment is None:
            return members[0]
        weights = [list(w) for w in model.weights] if model.weights else None
        return BagOfModels(members, weights, model.segment).eval()

    def _load_downloaded(self, model: OfficialModel, signature: str) -> nn.Module:
        """One downloaded file of ``model``; one whose bytes no longer match the sha256 in its
        name is deleted, so that the next download fetches it again (it counted as here)."""
        path = find_signature(self.official_dir, signature)
        try:
            return load_any(path)
        except ModelLoadError:
            try:
                verify_sha256(path)
            except ModelLoadError as damaged:
                try:
                    path.unlink(missing_ok=True)
                except OSError:  # a folder that cannot be written: it says to download it again
                    raise damaged from None
                raise ModelLoadError(
                    path,
                    f"a file of model {model.name} is damaged (its sha256 does not match its "
                    f"name) and was deleted; download {model.name} again",
                ) from None
            raise

    # --------------------------------------------------------------- downloading

    def download(
        self,
        name: str,
        on_progress: Callable[[str, int, int | None], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Path]:
        """Download the missing files of official model ``name``; return the downloaded paths.

        ``on_progress(file, bytes done, bytes total or None)`` is called per block; ``file``
        is the file's name, a bag's with its place among them (``OfficialModel.numbered``).

        Raises:
            KeyError: ``name`` is not an official model.
            DownloadError: see ``download.download_file``.
        """
        from stemgui.separation.download import download_file

        if name not in OFFICIAL_MODELS:
            raise KeyError(
                f"{name!r} is not an official model; known: {', '.join(OFFICIAL_MODELS)}"
            )
        done = []
        for url, dest in self.to_download(name):
            report = None
            if on_progress is not None:
                file = OFFICIAL_MODELS[name].numbered(dest.name)
                report = lambda d, t, file=file: on_progress(file, d, t)  # noqa: E731
            done.append(download_file(url, dest, name=name, on_progress=report, cancel=cancel))
        return done
