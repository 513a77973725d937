"""The separation worker's stem cache steps: a song recognised and answered from the stem cache,
a separated song's stems kept in it.

With a ``StemCache`` the worker first hashes the song (on its thread; cancel is checked between
blocks) and looks up its stems for this model and these options: a hit finishes at once from the
memory-mapped entry without loading the model; a miss separates, reports ``finished``, then
stores the stems (a failure to store is a warning, never a failed job). Either way the worker
says where the song's stems are kept (``restore.Kept``), so that the next start finds them
without the model.

The tempo and key found in the stems are kept with them; ``cached_analysis`` reads them back (for
the worker and for a song answered at start-up, ``restore.answer_kept``), with the user's
corrections of the tempo (``stemgui.ui.tempo_menu``) applied, and ``cached_waveforms`` the
song's cues (``stemgui.ui.cues_menu``) with them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stemgui.errors import SeparationCancelled
from stemgui.ui.restore import Kept, Stamp, model_stamps
from stemgui.ui.separation_options import ModelIdentity, SeparationOptions

if TYPE_CHECKING:
    from stemgui.stems.analysis import Analysis

logger = logging.getLogger(__name__)


class StemCacheSteps:
    """Mixin giving ``SeparationWorker`` (``stemgui.ui.worker``) its stem cache steps.

    The worker has the signals ``started``, ``progress``, ``finished``, ``stored``, ``kept``,
    ``evicted`` and ``not_kept``, its ``stem_cache`` (None: separate every time), the events
    ``stopping`` and ``storing``, the ``_identity`` of a model and ``scratch_file`` (a file for
    stems to keep off the RAM).
    """

    started: Any
    progress: Any
    finished: Any
    stored: Any
    kept: Any
    evicted: Any
    not_kept: Any
    on_screen: Callable[[], str | None]
    stopping: threading.Event
    storing: threading.Event
    _identity: ModelIdentity
    scratch_file: Callable[[int], Path | None]
    disk_cache: Any = None
    """The ``StemCache`` on disk: ``stem_cache`` while stems are kept, and kept while they are
    not, so that a limit set then (``stemgui.ui.stem_cache_size``) goes to the object a store
    still running makes room in; None until one is made."""
    _keeping = False

    @property
    def stem_cache(self) -> Any:
        """The ``StemCache`` songs are looked up in and kept in; None: separate every time
        (File ▸ Keep separated stems between sessions off)."""
        return self.disk_cache if self._keeping else None

    @stem_cache.setter
    def stem_cache(self, cache: Any) -> None:
        if cache is not None:  # None: not kept, the cache on disk stays ``disk_cache``
            self.disk_cache = cache
        self._keeping = cache is not None

    def _look_up(
        self, cache: Any, path: Path, options: SeparationOptions, cancel: threading.Event
    ) -> tuple[str | None, str | None, Any]:
        """(song sha256, model identity, cache hit or None); raises SeparationCancelled.

        An unreadable song gives (None, None, None): decoding it will say what is wrong."""
        from stemgui.separation.model_identity import file_digest
        from stemgui.stemcache import StemCache

        try:
            song_sha = file_digest(path, cancel)
        except OSError as error:
            logger.debug("%s cannot be hashed for the stem cache: %s", path, error)
            return None, None, None
        identity = self._identity(options, cancel)
        if identity is None:
            return song_sha, None, None
        hit = cache.get(StemCache.key(song_sha, identity, options.stem_options()))
        return song_sha, identity, hit

    def _finish_from_cache(
        self, job: int, path: Path, hit: Any, options: SeparationOptions
    ) -> None:
        """Finish ``job`` with the cached stems (memory-mapped), without loading the model."""
        logger.info("%s: reusing the stems separated earlier (stem cache %s)", path, hit.key)
        full = hit.stemset()
        self.started.emit(job, full, hit.model_name)
        notes = two_stem_notes(options, full.names)
        if notes:
            self.progress.emit(job, 1.0, full.frames, notes)
        stemset = two_stems_of(full, options, self.scratch_file)
        self.finished.emit(job, stemset, cached_waveforms(hit, full, stemset, path))

    def _store(
        self,
        job: int,
        path: Path,
        song_sha: str,
        identity: str | None,
        stemset: Any,
        options: SeparationOptions,
        model_name: str,
        stamp: tuple[int, int] | None = None,
        analysis: Analysis | None = None,
    ) -> None:
        """Keep the full stems of a finished job in the cache, with their ``analysis`` (read
        back by ``cached_analysis``); whatever happens, only logs, and says why stems the cache
        refused were not kept (``not_kept``)."""
        from stemgui.stemcache import StemCache
        from stemgui.stems.analysis import Analysis

        cache = self.stem_cache
        if cache is None:  # turned off while the song separated: not kept, as asked
            return
        self.storing.set()
        try:
            if identity is None:  # e.g. an official model downloaded by this very job
                identity = self._identity(options, self.stopping)
            if identity is None:
                return
            key = StemCache.key(song_sha, identity, options.stem_options())
            info = {
                "source": str(path),
                "source_sha256": song_sha,
                "model": model_name,
                "model_identity": identity,
                "options": options.stem_options(),
                **(analysis or Analysis()).to_info(),
            }
            if cache.put(key, stemset, info, cancel=self.stopping, keep=self.on_screen):
                self.stored.emit(job, key)
                self._keep(job, key, stamp, options)
                if cache.evicted:  # the queue may read some of them: the window says so
                    self.evicted.emit(list(cache.evicted))
            elif cache.problem is not None:
                self.not_kept.emit(job, cache.problem)
        except SeparationCancelled:
            logger.info("%s: the stems were not cached (stopping)", path)
        except Exception:  # the job is finished: a cache bug must not touch it
            logger.exception("%s: storing the stems in the cache failed", path)
        finally:
            self.storing.clear()

    def _keep(self, job: int, entry: str, song: Stamp | None, options: SeparationOptions) -> None:
        """Say where the song's stems are kept (``restore.Kept``), for the next start: not for
        a song or a model whose files cannot be stamped (the next start recognises it anew)."""
        model = model_stamps(options.model)
        if song is not None and model is not None:
            self.kept.emit(job, Kept(entry, song, model))


def two_stem_notes(options: SeparationOptions, names: Sequence[str]) -> tuple[str, ...]:
    """The note for a song asked for in two stems of a stem that its model has not (it is
    given all its stems), or none."""
    keep = options.two_stems
    if not keep or keep in names:
        return ()
    return (f"Two stems: this model has no {keep} stem; all its stems are shown",)


def two_stems_of(
    stemset: Any, options: SeparationOptions, scratch_file: Callable[[int], Path | None]
) -> Any:
    """The two stems ``options`` ask for (``two_stem_set``: the stem and the sum of the others),
    made from the full ``stemset`` into ``scratch_file(nbytes)`` (None: in RAM); ``stemset``
    itself when they ask for none, or for a stem its model has not (``two_stem_notes``)."""
    keep = options.two_stems
    if not keep or keep not in stemset.names:
        return stemset
    from stemgui.stems.stemset import two_stem_set

    return two_stem_set(stemset, keep, scratch_file(stemset.data.nbytes // 2))


def cached_waveforms(hit: Any, full: Any, stemset: Any, path: Path) -> Any:
    """The ``StemWaveforms`` of ``stemset`` (the stems shown: the ``full`` ones of a stem cache
    entry ``hit``, or two made from them) with the analysis of the full stems
    (``cached_analysis``) and the song's cues kept in the entry (``Cues.from_info``)."""
    from stemgui.stems.cues import Cues
    from stemgui.stems.waveform import StemWaveforms

    waveforms = StemWaveforms(stemset)
    waveforms.analysis = cached_analysis(hit, full, path)  # of the full stems: drums, if any
    waveforms.cues = Cues.from_info(hit.info)
    return waveforms


def cached_analysis(hit: Any, stemset: Any, path: Path) -> Analysis:
    """The tempo and key kept with a stem cache entry, or, for an entry stored before they
    were (or by older estimates), ``analyse`` of its full ``stemset``; either way with the
    user's corrections of its tempo kept there (``analysis.kept_edit``) applied
    (``analysis.kept_analysis``, which the command line reads them with too)."""
    from stemgui.stems.analysis import kept_analysis

    return kept_analysis(hit.info, stemset, path)
