"""A drag whose stem was not written ahead from a press (``StemDrags.write_ahead``: a drag
started by code, or before the write ahead ended) waits for it written on a thread, the
window's events processed meanwhile, not written on the window's thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests.ui.drag_rig import dropped


@pytest.fixture
def gated(monkeypatch, tmp_path) -> tuple[threading.Event, list[bool]]:
    """(the gate each stem's write waits at, whether each write ran on the window's thread)."""
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    gate, on_window = threading.Event(), []
    real = stream.write_blocks

    def write_blocks(*args, **kwargs):
        on_window.append(threading.current_thread() is threading.main_thread())
        gate.wait(timeout=5)  # on the window's thread (the bug): nothing lets it go
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    return gate, on_window


def test_a_drag_with_no_press_writes_its_stem_off_the_window_thread(
    qtbot, panel, gated, monkeypatch
):
    """Written on the window's thread, a 4-minute stem held the window still 0.21 s as its
    drag started, at every drag not pressed long enough before."""
    gate, on_window = gated
    drops = dropped(monkeypatch)
    ran = []
    QTimer.singleShot(0, lambda: ran.append(len(drops)) or gate.set())
    panel.track = "My Song"
    panel.drag_out("bass")
    assert on_window == [False] and ran == [0]  # the window's events ran before the drop
    ((path,),) = drops
    assert path.name == "My Song - bass.wav"
    samples, _rate = sf.read(path, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("bass"))


def test_a_button_let_go_while_the_drag_waits_starts_no_drag(qtbot, panel, gated, monkeypatch):
    """A drag started once its button was let go drops where the pointer is: on this window,
    which takes dropped files as songs to separate."""
    gate, _on_window = gated
    drops = dropped(monkeypatch)
    buttons = [Qt.MouseButton.LeftButton]
    monkeypatch.setattr(QApplication, "mouseButtons", staticmethod(lambda: buttons[0]))
    said = []
    panel.said.connect(lambda text, ms: said.append(text))

    def let_go():
        buttons[0] = Qt.MouseButton.NoButton
        gate.set()

    QTimer.singleShot(0, let_go)
    panel.track = "My Song"
    panel.drag_out("bass")
    assert drops == []
    assert said == ["My Song - bass.wav is written: drag Bass again to drop it"]
    buttons[0] = Qt.MouseButton.LeftButton
    panel.drag_out("bass")  # dropped at once: written
    assert [path.name for (path,) in drops] == ["My Song - bass.wav"]


def test_another_song_shown_while_the_drag_waits_starts_no_drag(
    qtbot, panel, gated, monkeypatch, tmp_path
):
    """The last song's stem dropped as the song on screen changed under the hand."""
    from stemgui.stems.mixer import MixerState
    from tests.ui.song_window import NAMES, make_stemset

    gate, _on_window = gated
    drops = dropped(monkeypatch)

    def other_song():
        panel.show_song(make_stemset(), MixerState(NAMES), track="Other Song")
        gate.set()

    QTimer.singleShot(0, other_song)
    panel.track = "My Song"
    panel.drag_out("bass")
    assert drops == []
    for thread in threading.enumerate():
        if thread.name in ("stemgui-drag-ahead", "stemgui-drag-discard"):
            thread.join()
    folder = tmp_path / "cache" / "stemgui" / "drag"
    assert list(folder.glob("My Song*")) == []  # the write let go of: nothing of it left
