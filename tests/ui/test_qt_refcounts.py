"""The Qt bindings keep Python's reference counts: emitting signals and asking a model for data
do not steal references from True, False or None (PySide6 6.12.0's emit did, and on Python 3.11
a session crashed after a few thousand signals)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from stemgui.ui.queue import QueueModel


class _Emitter(QObject):
    number = Signal(int)
    anything = Signal(object)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_emitting_signals_keeps_reference_counts(qapp):
    emitter, seen = _Emitter(), []
    emitter.number.connect(seen.append)
    emitter.anything.connect(seen.append)
    before = _counts()
    for _ in range(200):
        emitter.number.emit(1)
        emitter.anything.emit(None)
        emitter.anything.emit(())
    seen.clear()
    after = _counts()
    assert all(abs(a - b) < 20 for a, b in zip(after, before)), (before, after)


def test_queue_model_data_keeps_reference_counts(qapp, tmp_path):
    model = QueueModel()
    model.add([tmp_path / "a.wav", tmp_path / "b.wav"])
    before = _counts()
    for _ in range(200):
        for row in range(2):
            for role in range(40):
                model.data(model.index(row), role)
    after = _counts()
    assert all(abs(a - b) < 20 for a, b in zip(after, before)), (before, after)
