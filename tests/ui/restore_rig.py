"""What the restore tests share: a new app run's queue controller over a stem cache, counting the
model loads and model identities it asks for."""

from __future__ import annotations

from pathlib import Path

from stemgui.separation.model_identity import forget_digests
from stemgui.stemcache import StemCache
from stemgui.ui.controller import QueueController
from stemgui.ui.separation_options import (
    SeparationOptions,
    default_model_identity,
    default_separator_factory,
)


class Counting:
    """Wraps the worker's model factory or identity, counting its calls."""

    def __init__(self, function) -> None:
        self.function, self.calls = function, 0

    def __call__(self, *args):
        self.calls += 1
        return self.function(*args)


def start(root: Path, options: SeparationOptions, blocker=None):
    """A new app run: no file hashes known; counting model loads and model identities."""
    forget_digests()
    factory, identity = Counting(default_separator_factory), Counting(default_model_identity)
    ctl = QueueController(
        lambda: options,
        factory,
        scratch_dir=root.parent / "scratch",
        stem_cache=StemCache(root),
        model_identity=identity,
        blocker=blocker,
    )
    return ctl, factory, identity


def kept_session(qtbot, settings, song: Path, options: SeparationOptions, root: Path):
    """An app run that separates ``song`` with ``options``, keeps its stems in the stem cache
    at ``root`` and saves the session in ``settings`` at the close: the song's job."""
    from stemgui.ui import session
    from tests.ui.conftest import TIMEOUT_MS

    ctl, _, _ = start(root, options)
    try:
        (job,) = ctl.add([song])
        qtbot.waitUntil(lambda: job.kept is not None, timeout=TIMEOUT_MS)
        session.save(settings, ctl.model.jobs)
    finally:
        ctl.shutdown()
    return job
