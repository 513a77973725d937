"""The separation worker alone with an on-disk stem cache: cancelled while it hashes the song,
a named pipe refused before hashing, shutdown during a store, a model file replaced under its
name loaded again, and the cache turned off while a song is recognised."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from stemgui.separation.model_identity import forget_digests
from stemgui.stemcache import StemCache
from stemgui.ui.separation_options import SeparationOptions, default_separator_factory
from stemgui.ui.worker import SeparationWorker
from tests.fakes import CancelAfter
from tests.pipes import without_waiting
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.stem_cache_rig import CountingFactory


def test_cancel_while_hashing_the_song(qtbot, tiny_options, tmp_path):
    song = tmp_path / "big.wav"
    song.write_bytes(bytes(5 << 20))  # five 1 MiB blocks to hash
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    ended: list[tuple[str, int]] = []
    worker.finished.connect(lambda job, *_: ended.append(("finished", job)))
    worker.failed.connect(lambda job, _: ended.append(("failed", job)))
    worker.cancelled.connect(lambda job: ended.append(("cancelled", job)))
    forget_digests()
    cancel = CancelAfter(3)  # the worker's first check, then the first two blocks
    worker.run(7, str(song), tiny_options, cancel)
    assert ended == [("cancelled", 7)]
    assert cancel.checks == 3 and factory.calls == 0
    assert StemCache(tmp_path / "stemcache").keys() == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_queued_by_itself_is_refused_before_hashing_or_loading(
    qtbot, tiny_options, tmp_path, monkeypatch
):
    """A named pipe dropped or opened by itself was hashed for the stem cache and the model
    loaded (a download, for an official one) before decoding refused it: it is refused first,
    in decoding's words."""
    from stemgui.separation import model_identity

    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    hashed: list[Path] = []
    digest = model_identity.file_digest
    monkeypatch.setattr(
        model_identity, "file_digest", lambda path, cancel=None: hashed.append(path) or digest(path)
    )
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    ended: list[tuple[int, str, bool]] = []
    worker.failed.connect(lambda job, message, retry: ended.append((job, message, retry)))
    without_waiting(lambda: worker.run(7, pipe, tiny_options, threading.Event()), pipe)
    said = (
        f"{pipe}: is not a regular file (a named pipe, a socket or a device); choose an audio file"
    )
    qtbot.waitUntil(lambda: ended != [], timeout=TIMEOUT_MS)  # from the worker's thread
    assert ended == [(7, said, False)]  # no retry: only another file can help
    assert hashed == [] and factory.calls == 0


def test_shutdown_stops_a_store_in_progress(qtbot, tiny_options, songs, tmp_path):
    worker = SeparationWorker(stem_cache=StemCache(tmp_path / "stemcache"))
    worker.stopping.set()  # shutdown came while the job finished
    done = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append(stemset))
    worker.run(1, str(songs[0]), tiny_options, threading.Event())
    assert len(done) == 1 and done[0].complete
    assert StemCache(tmp_path / "stemcache").keys() == []


def test_a_model_file_replaced_in_place_separates_with_its_new_weights(
    qtbot, tiny_options, songs, tmp_path
):
    """Retrained and exported again under the same name: the next song must not get the old
    weights' stems, under the new file's identity in the cache."""
    import shutil

    import torch

    from stemgui.separation.checkpoint import save_model
    from tests.ui.conftest import RATE, UiTinyNet

    model = tmp_path / "mine.stemgui"
    shutil.copy(tiny_options.model, model)
    options = SeparationOptions(model=str(model), device="cpu")
    factory = CountingFactory()
    worker = SeparationWorker(factory, stem_cache=StemCache(tmp_path / "stemcache"))
    done = []
    worker.finished.connect(lambda job, stemset, waveforms: done.append(np.array(stemset.data)))
    worker.run(1, str(songs[0]), options, threading.Event())
    worker.run(2, str(songs[1]), options, threading.Event())
    assert factory.calls == 1  # the same file: loaded once
    torch.manual_seed(123)
    save_model(UiTinyNet(samplerate=RATE, segment=0.25, gain=5.0), model)
    worker.run(3, str(songs[1]), options, threading.Event())
    assert factory.calls == 2
    fresh = SeparationWorker(default_separator_factory)  # a new app, no cache
    fresh.finished.connect(lambda job, stemset, waveforms: done.append(np.array(stemset.data)))
    fresh.run(4, str(songs[1]), options, threading.Event())
    np.testing.assert_allclose(done[2], done[3], atol=1e-6)
    assert not np.allclose(done[1], done[2], atol=1e-3)  # the two models do differ


def test_a_store_model_replaced_under_its_name_is_loaded_again(
    qtbot, tiny_options, songs, tmp_path
):
    """A model in the store (chosen by its name, not a path) retrained and saved again: the
    worker kept the old weights, and the cache stored their stems under the new file."""
    import shutil

    import torch

    from stemgui.separation.checkpoint import save_model
    from stemgui.separation.store import ModelStore
    from tests.ui.conftest import RATE, UiTinyNet

    store = ModelStore()
    store.user_dir.mkdir(parents=True, exist_ok=True)
    model = store.user_dir / "mine.stemgui"
    shutil.copy(tiny_options.model, model)
    assert "mine" in [entry.name for entry in store.list_models()]
    options = SeparationOptions(model="mine", device="cpu")
    factory = CountingFactory()
    worker = SeparationWorker(factory)  # no stem cache: the worker's own reuse is the point
    worker.run(1, str(songs[0]), options, threading.Event())
    worker.run(2, str(songs[1]), options, threading.Event())
    assert factory.calls == 1  # the same files: loaded once
    torch.manual_seed(7)
    save_model(UiTinyNet(samplerate=RATE, segment=0.25, gain=5.0), model)
    worker.run(3, str(songs[1]), options, threading.Event())
    assert factory.calls == 2


def test_keep_stems_turned_off_while_a_song_is_recognised_does_not_fail_it(
    qtbot, tiny_options, songs, tmp_path, caplog
):
    worker = SeparationWorker(stem_cache=StemCache(tmp_path / "stemcache"))

    class TurnsOff(threading.Event):
        """The user unticks File ▸ Keep separated stems while the song is hashed (the checks
        after the worker's first)."""

        checks = 0

        def is_set(self) -> bool:
            self.checks += 1
            if self.checks > 1:
                worker.stem_cache = None
            return super().is_set()

    ended = []
    worker.finished.connect(lambda job, stemset, waveforms: ended.append("finished"))
    worker.failed.connect(lambda job, reason: ended.append(reason))
    forget_digests()
    with caplog.at_level(logging.WARNING):
        worker.run(1, str(songs[0]), tiny_options, TurnsOff())
    assert ended == ["finished"]
    assert "storing the stems in the cache failed" not in caplog.text  # not kept, quietly
    assert StemCache(tmp_path / "stemcache").keys() == []
