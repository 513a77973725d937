"""What the app kept of a song that ``stemgui-separate`` is given: its stems, and their tempo and
key, in the app's stem cache (``stemgui.stemcache``), where it separated the song with this model
and these options.

Stems kept there are written out as they are (``KeptStems.reusable``): the song is not
separated again, and its files are byte for byte those a fresh separation would write (the
same stems, the song's own rate and length kept with them). The files are tagged with the tempo
and key kept there, the user's corrections of them included (doubled or halved, the grid moved,
tapped, the key set: ``stemgui.stems.analysis``), as the app's exports are; a song the app
never separated this way is separated and tagged with those estimated from its new stems.

The command line writes no stems into that cache: it looks up the entry the app's worker would
(``stemgui.ui.worker_cache``), keyed by the song's bytes, the model's identity
(``model_identity``) and the options that change the stems (segment, overlap, shifts; not the
device), and reads it (``StemCache.get``: the entry counts as used, and one found damaged is
deleted and the song separated, as in the app). Where the app never kept stems (no cache
folder) nothing is hashed and no folder is made. ``--no-cache`` makes no ``KeptStems``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("stemgui.cli")  # its INFO lines reach the console

_UNKNOWN = object()  # the model's identity, not worked out yet


class KeptStems:
    """The entries of the app's stem cache for songs separated with the model ``spec`` names
    (a store name, a model file, or "" for the default, as ``load_model`` takes it) and
    ``options`` (segment, overlap, shifts: the stem cache key's)."""

    def __init__(self, spec: str, options: Mapping[str, Any]) -> None:
        # the app's file chooser names a model file by its full path, and the identity with it
        self.spec = os.path.abspath(spec) if spec and os.path.isfile(spec) else spec
        self.options = dict(options)
        self._identity: Any = _UNKNOWN
        self._cache: Any = None

    def look_up(self, track: Path) -> Any:
        """The app's entry (``CachedStems``, memory-mapped) of ``track``'s bytes for this model
        and these options, or None."""
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
        except OSError as error:  # decoding says what is wrong with it
            logger.debug("%s cannot be hashed for the stem cache: %s", track, error)
            return None
        return self._cache.get(StemCache.key(song, self._identity, self.options))

    @staticmethod
    def reusable(hit: Any, sources: Sequence[str], samplerate: int, channels: int) -> bool:
        """Whether the entry ``hit`` holds the stems that a separation with a model of these
        ``sources``, ``samplerate`` and ``channels`` would give, with the song's own rate and
        length (``--samplerate song``, and a file at the song's rate, take them from there);
        one without them (kept by an earlier version) is separated again."""
        return (
            list(hit.names) == list(sources)
            and hit.samplerate == samplerate
            and hit.stems.shape[1] == channels
            and hit.song is not None
        )

    @staticmethod
    def analysis(track: Path, stemset: Any, hit: Any) -> Any:
        """The ``Analysis`` of ``track``, whose full stems are ``stemset``: the one the app
        kept in ``hit`` (its entry) with the user's corrections, else ``analyse`` of
        ``stemset`` (``hit`` None)."""
        from stemgui.stems.analysis import analyse, kept_analysis

        if hit is None:
            return analyse(stemset, track)
        analysis = kept_analysis(hit.info, stemset, track)
        logger.info(
            "%s: tagged with the tempo and key kept in the app's stem cache: %s",
            track,
            analysis.describe(),
        )
        return analysis
