"""A stem written ahead of its drag (``StemDrags.write_ahead``) belongs to the song shown as
the mouse was pressed: another song shown since (``StemPanel.clear``) does not wait for it."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from tests.ui.drag_rig import drag_row, dropped


def test_a_drag_of_the_next_song_does_not_wait_for_the_last_songs_write(
    qtbot, panel, tmp_path, monkeypatch
):
    """The writes ahead were kept by stem name alone: bass of the next song, dragged while the
    last song's bass was still being written, waited for that write, then wrote its own."""
    import stemgui.audio.stream as stream
    from stemgui.stems.mixer import MixerState
    from tests.ui.song_window import NAMES, make_stemset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    held, events = threading.Event(), []
    real = stream.write_blocks

    def write_blocks(target, *args, **kwargs):
        if "Old Song" in Path(target).name:  # the last song's write, held until the end
            held.wait(timeout=10)
            events.append("old written")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    drops = dropped(monkeypatch)
    panel.track = "Old Song"
    row = panel.rows["bass"]
    qtbot.mousePress(row, Qt.MouseButton.LeftButton, pos=row.label.geometry().center())
    qtbot.mouseRelease(row, Qt.MouseButton.LeftButton)  # a click: its held write is let go of
    panel.show_song(make_stemset(), MixerState(NAMES), track="New Song")
    try:
        drag_row(qtbot, panel.rows["bass"])
        # dropped while the last song's is held
        assert [path.name for (path,) in drops] == ["New Song - bass.wav"] and events == []
    finally:
        held.set()
    qtbot.waitUntil(lambda: "old written" in events, timeout=20_000)
