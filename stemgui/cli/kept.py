"""The tempo and key that ``stemgui-separate`` tags a song's files with: those the app keeps with
the song's stems in its stem cache (``stemgui.stemcache``), where it separated the song with
this model and these options, the user's corrections of them included (doubled or halved, the
grid moved, tapped, the key set: ``stemgui.stems.analysis``), as the app's exports are tagged;
else those estimated from the stems just separated.

The command line keeps no stems in that cache: it looks up the entry the app's worker would
(``stemgui.ui.worker_cache``), keyed by the song's bytes, the model's identity
(``model_identity``) and the options that change the stems (segment, overlap, shifts), and
reads what it kept (``StemCache.get``: the entry counts as used, and one found damaged is
deleted, as in the app). Where the app never kept stems (no cache folder) nothing is hashed
and no folder is made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger("stemgui.cli")  # its INFO lines reach the console

_UNKNOWN = object()  # the model's identity, not worked out yet


class KeptAnalyses:
    """The tempo and key of each song separated with the model ``spec`` names (a store name, a
    model file, or "" for the default, as ``load_model`` takes it) and ``options`` (segment,
    overlap, shifts: the stem cache key's)."""

    def __init__(self, spec: str, options: Mapping[str, Any]) -> None:
        # the app's file chooser names a model file by its full path, and the identity with it
        self.spec = os.path.abspath(spec) if spec and os.path.isfile(spec) else spec
        self.options = dict(options)
        self._identity: Any = _UNKNOWN
        self._cache: Any = None

    def analysis(self, track: Path, stemset: Any) -> Any:
        """The ``Analysis`` of ``track``, whose full stems are ``stemset``: the one the app
        kept for it, else ``analyse`` of ``stemset``."""
        from stemgui.stems.analysis import analyse, kept_analysis

        info = self._kept_info(track)
        if info is None:
            return analyse(stemset, track)
        analysis = kept_analysis(info, stemset, track)
        logger.info(
            "%s: tagged with the tempo and key kept in the app's stem cache: %s",
            track,
            analysis.describe(),
        )
        return analysis

    def _kept_info(self, track: Path) -> Mapping[str, Any] | None:
        """The ``entry.json`` of the app's stems of ``track`` for this model and these
        options, or None."""
        from stemgui.separation.model_identity import file_digest, model_identity
        from stemgui.stemcache import StemCache

        if self._cache is None:
            self._cache = StemCache()
        if not os.path.isdir(self._cache.root):  # the app kept no stems: none made here
            return None
        if self._identity is _UNKNOWN:  # once a batch (a model's files are hashed)
            self._identity = model_identity(self.spec)
        if self._identity is None:
            return None
        try:
            song = file_digest(track)
        except OSError as error:  # it was just decoded: gone or changed since
            logger.debug("%s cannot be hashed for the stem cache: %s", track, error)
            return None
        hit = self._cache.get(StemCache.key(song, self._identity, self.options))
        return None if hit is None else dict(hit.info)
