"""A stem dragged at a pace is stretched into a spool in the temporary folder on a daemon
thread (``StemDrags._write_aside``): the app quitting mid-write removes it as it ends
(``app.main``: ``remove_own_spools``), and where it is left all the same (Windows, a crash),
the next start removes it, whatever folders it finds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stemgui.spool import SPOOL_PREFIX
from stemgui.ui import settings as S
from tests.ui.song_window import null_window

_QUIT_MID_WRITE = """
import os, tempfile, threading, time
import numpy as np
from stemgui.export.pace import Pace
from stemgui.stems.stemset import StemSet
from stemgui.ui.drag_out import DragFiles
from stemgui.ui.drag_part import DragPart

data = np.zeros((4, 2, 120 * 8000), np.float32)  # two minutes: seconds to stretch
stems = StemSet(("drums", "bass", "other", "vocals"), 8000, data, mix=data.sum(axis=0))
write = lambda: DragFiles().file(stems, "My Song", "bass", None, part=DragPart(pace=Pace(0.8)))
threading.Thread(target=write, name="stemgui-drag", daemon=True).start()
temporary = tempfile.gettempdir()
spooled = lambda n: n.startswith("stemgui-spool-") and os.path.isfile(
    os.path.join(temporary, n, "stems.f32")
)
while not any(map(spooled, os.listdir(temporary))):
    time.sleep(0.01)
"""  # and quits once the spool's file is there (its folder comes first), the thread writing


def _spools(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{SPOOL_PREFIX}*"))


def _quit_mid_write(tmp_path: Path, then: str = "") -> Path:
    """The temporary folder of a process that quit while a stem at a pace was written on its
    daemon thread, having run ``then`` as it ended."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = _QUIT_MID_WRITE + then
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    return temporary


def test_a_paced_drag_s_spool_is_removed_as_the_app_ends(tmp_path):
    """The spool still filled by its thread (mapped, being written) goes with the process."""
    then = "from stemgui.spool import remove_own_spools\nassert len(remove_own_spools()) == 1\n"
    assert _spools(_quit_mid_write(tmp_path, then)) == []


def test_a_paced_drag_s_spool_left_at_quit_is_removed_at_the_next_start(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """The spool (a 4-minute song at 80 %: 400 MB, in RAM where /tmp is a tmpfs), left at
    quit, was removed at the next start only if the export folder or the drag folder was there
    to be cleaned: after the user cache was cleared, never."""
    temporary, cache = _quit_mid_write(tmp_path), tmp_path / "cache"
    (left,) = _spools(temporary)  # left at quit (not removed: Windows refuses, a crash)
    assert (left / "stems.f32").is_file()
    shutil.rmtree(cache)  # the user cache cleared meanwhile: no drag folder
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    win = null_window(qtbot, settings_store, [])
    win.settings.set(S.EXPORT_FOLDER, str(tmp_path / "no exports yet"))
    win.start_cleanup().join()
    assert _spools(temporary) == []
    win.close()
