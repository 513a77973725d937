"""Stems dragged out are written on threads (``stemgui.ui.stem_drags``: from the mouse press, and
the last song's write may still run as the next song is dragged): picking a file's name and
recording it as written are one step (``DragFiles``), so two songs never share a file, and the
same stems being written on another thread are waited for, not written twice."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from stemgui.stems.stemset import StemSet
from stemgui.ui.drag_out import DragFiles
from tests.ui.song_window import NAMES, RATE, make_stemset


def _in_threads(*calls) -> list:
    """What each of ``calls`` returned, each run on a thread of its own, all started at once."""
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_songs_of_the_same_name_written_at_once_never_share_a_file(tmp_path, monkeypatch):
    """a/x.wav's bass, still being written as b/x.wav's was dragged: both had picked "x -
    bass.wav" (neither file was there yet), and the second written went to both drags."""
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    both_picked = threading.Barrier(2, timeout=10)  # each writes once both have a name
    real = stream.write_blocks

    def write_blocks(*args, **kwargs):
        both_picked.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    first, second = make_stemset(), make_stemset(3 * RATE)
    files = DragFiles()
    paths = _in_threads(
        lambda: files.file(first, "x", "bass", None), lambda: files.file(second, "x", "bass", None)
    )
    assert sorted(path.name for path in paths) == ["x (2) - bass.wav", "x - bass.wav"]
    for path, stemset in zip(paths, (first, second), strict=True):
        samples, _rate = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(samples.T, stemset.stem("bass"))
    assert files.file(first, "x", "bass", None) == paths[0]  # each as written, dropped again


class _Waiting(threading.Condition):
    """A condition that sets ``waiting`` as a thread starts waiting on it."""

    def __init__(self, waiting: threading.Event) -> None:
        super().__init__()
        self.waiting = waiting

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_the_same_stems_written_on_another_thread_are_waited_for(tmp_path, monkeypatch):
    """A song shown again while its bass was still being written ahead of an earlier drag: the
    second write took "x (2) - bass.wav" for the same stems, a copy of a file on its way."""
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writing, waiting, writes = threading.Event(), threading.Event(), []
    real = stream.write_blocks

    def write_blocks(target, *args, **kwargs):
        writes.append(Path(target).name)
        writing.set()
        assert waiting.wait(timeout=10)  # the other thread waits for this write
        return real(target, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    files = DragFiles()
    files._lock = _Waiting(waiting)
    stemset = make_stemset()
    same = StemSet(NAMES, RATE, stemset.data.copy(), mix=stemset.mix)  # the cache's copy

    def second() -> Path:
        first.start()
        assert writing.wait(timeout=10)  # the first thread is writing, its name picked
        return files.file(same, "x", "bass", None, source="song")

    first = threading.Thread(target=lambda: files.file(stemset, "x", "bass", None, source="song"))
    (path,) = _in_threads(second)
    first.join(timeout=30)
    assert path.name == "x - bass.wav" and writes == ["x - bass.wav"]
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, stemset.stem("bass"))
