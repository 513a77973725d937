"""A stem's file written ahead of its drag that fails (``StemDrags.write_ahead``): the drag says
why, as a failed drag does, and does not write it again on the window's thread, which a long
stem held up for half a second, only to fail the same."""

from __future__ import annotations

import threading

from stemgui.errors import ExportError
from tests.ui.drag_rig import drag_row, dropped

_WHY = "the disk is full; free some space, or choose another drag folder"


def test_a_stem_that_failed_written_ahead_is_said_not_written_again_on_the_window_s_thread(
    qtbot, panel, tmp_path, monkeypatch
):
    import stemgui.audio.stream as stream

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    writes: list[str] = []  # the thread of each write of the stem

    def write_blocks(target, *args, **kwargs):
        writes.append(threading.current_thread().name)
        raise ExportError(target, _WHY)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    errors: list[str] = []
    panel.error.connect(errors.append)
    panel.track = "My Song"
    drag_row(qtbot, panel.rows["bass"])
    path = tmp_path / "cache" / "stemgui" / "drag" / "My Song - bass.wav"
    assert errors == [f"{path}: {_WHY}"]  # the file named, and what to do
    assert writes == ["stemgui-drag-ahead"] and drops == []
