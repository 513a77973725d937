"""A stem dragged at a pace is written in one pass with the other stems at that pace
(``DragFiles.file``): another stem's file failing after the dragged stem's own was written
leaves the drag as it is, the failure said in the status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from stemgui.export.pace import Pace
from stemgui.ui.drag_part import DragPart
from tests.ui.drag_rig import dropped
from tests.ui.song_window import done_job, null_window

FULL = (
    "could not be written: the disk is full; free some space or export it to another folder "
    "with File ▸ Export stems…"
)


def test_a_paced_drag_drops_its_file_when_another_stem_s_fails(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """The drums failing after the bass was written refused the bass's drag, its file ready."""
    import stemgui.audio.stream as stream
    from stemgui.errors import EncodeError

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    drops = dropped(monkeypatch)
    monkeypatch.setattr(
        QApplication, "mouseButtons", staticmethod(lambda: Qt.MouseButton.LeftButton)
    )
    real = stream.write_blocks

    def write_blocks(target, *args, **kwargs):
        if Path(target).name.endswith(" - drums.wav"):
            raise EncodeError(target, FULL)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(stream, "write_blocks", write_blocks)
    win = null_window(qtbot, settings_store, [])
    monkeypatch.setattr(win.exports, "drag_part", lambda: DragPart(pace=Pace(0.8)))
    done_job(win, tmp_path)
    win.stems.drag_out("bass")
    qtbot.waitUntil(lambda: win.stems.drags.writing is None, timeout=20_000)
    folder = tmp_path / "cache" / "stemgui" / "drag"
    # the button still held: dragged
    assert drops == [[folder / "My Song 80% - bass.wav"]] and drops[0][0].is_file()
    assert win.statusBar().currentMessage() == (
        "My Song 80% - bass.wav is written; the other stems at its pace are not: "
        f"{folder / 'My Song 80% - drums.wav'}: {FULL}"
    )
    assert win.message == "" and not win.banner.isVisibleTo(win)  # no failure: no banner
    win.close()
