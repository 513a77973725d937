"""A click on a stem row's name, the button let go with no drag, leaves nothing in the drag
folder: the file written ahead from the press (``StemDrags.write_ahead``) is stopped, or
deleted once written, unless an earlier drag handed that same file out."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt

from tests.ui.drag_rig import drag_row, dropped


def _click(qtbot, row, written: Path | None = None) -> None:
    """Press on ``row``'s name and let go where it was pressed; ``written``: that file is
    written ahead, its thread ended, before letting go."""
    start = row.label.geometry().center()
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=start)
    if written is not None:
        qtbot.waitUntil(lambda: not _writing_ahead(), timeout=20_000)
        assert written.is_file()
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton, pos=start)


def _writing_ahead() -> bool:
    return any(thread.name == "stemgui-drag-ahead" for thread in threading.enumerate())


def _drag_folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "stemgui" / "drag"


def test_a_click_after_the_stem_was_written_ahead_deletes_it(qtbot, panel, tmp_path, monkeypatch):
    """A click wrote the whole stem, kept a week: 1.27 GB a stem of a 60-minute song."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    panel.track = "My Song"
    path = _drag_folder(tmp_path) / "My Song - bass.wav"
    _click(qtbot, panel.rows["bass"], written=path)
    assert not path.exists()  # at once: the next drag takes its name
    qtbot.waitUntil(lambda: list(_drag_folder(tmp_path).iterdir()) == [], timeout=20_000)
    assert drops == []


def test_a_click_while_the_stem_is_written_ahead_stops_the_write(
    qtbot, panel, tmp_path, monkeypatch
):
    """Let go before the file is written: its write stops, nothing of it stays, and a drag
    after it writes the stem whole."""
    import stemgui.audio.stream as stream
    from stemgui.errors import ExportCancelled

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    held, ended = threading.Event(), []
    real = stream.write_blocks

    def write_blocks(*args, **kwargs):
        held.wait(timeout=10)  # until the button is let go
        try:
            path = real(*args, **kwargs)
        except BaseException as error:
            ended.append(type(error))
            raise
        ended.append("written")
        return path

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    panel.track = "My Song"
    _click(qtbot, panel.rows["bass"])
    held.set()
    qtbot.waitUntil(lambda: ended != [], timeout=20_000)
    assert ended == [ExportCancelled]
    assert list(_drag_folder(tmp_path).iterdir()) == []  # no temporary file either
    drag_row(qtbot, panel.rows["bass"])
    assert drops == [[_drag_folder(tmp_path) / "My Song - bass.wav"]]
    samples, _rate = sf.read(drops[0][0], dtype="float32", always_2d=True)
    np.testing.assert_array_equal(samples.T, panel.stemset.stem("bass"))


def test_a_click_keeps_the_file_an_earlier_drag_handed_out(qtbot, panel, tmp_path, monkeypatch):
    """The DAW the stem was dropped on may play it where it lies."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    panel.track = "My Song"
    drag_row(qtbot, panel.rows["bass"])
    ((path,),) = drops
    _click(qtbot, panel.rows["bass"])
    assert path.is_file() and list(_drag_folder(tmp_path).iterdir()) == [path]
