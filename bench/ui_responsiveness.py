"""Figures of the window (for bench/): time to first window, drawing a 10-minute song, and the
longest gap of a 10 ms heartbeat on the GUI thread while a song separates.

    QT_QPA_PLATFORM=offscreen python bench/ui_responsiveness.py first|draw|heartbeat SECONDS

Prints figures; asserts nothing (the cores are shared and noisy: compare runs on one machine).
The heartbeat uses an untrained HTDemucs of the official size, so it costs what the real one does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stemgui import memory

memory.reuse_freed_memory()  # as the app does first thing, before numpy and torch

import numpy as np  # noqa: E402 - after the allocator set-up

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FIRST_WINDOW = """
import time; start = time.perf_counter()
import sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from stemgui.ui import settings as S
from stemgui.ui.window import MainWindow
w = MainWindow(S.Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat)), probe=False)
w.show(); app.processEvents()
print(f"{1000 * (time.perf_counter() - start):.0f} {'torch' in sys.modules}")
w.close()
"""


def first_window(runs: int = 3) -> None:
    """Interpreter start to window shown, in a fresh process each run; torch must not be loaded."""
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_WINDOW, str(Path(folder) / "s.ini")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            print(f"first window: {out[0]} ms after start; torch loaded: {out[1]}")
    torch_import = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; t = time.perf_counter(); import torch; "
            "print(round(1000 * (time.perf_counter() - t)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"for comparison, import torch alone: {torch_import} ms")


def draw(minutes: float = 10.0) -> None:
    """Envelopes and rows of a long song, first paint, a playhead move, a zoomed-in repaint."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from stemgui.stems.mixer import MixerState
    from stemgui.stems.stemset import StemSet
    from stemgui.ui.stemview import StemPanel
    from stemgui.ui.timeline import Timeline

    frames = int(minutes * 60 * 44100)
    rng = np.random.default_rng(0)
    data = np.empty((4, 2, frames), np.float32)
    for s in range(4):
        data[s] = rng.standard_normal((2, frames), dtype=np.float32) * 0.1
    stems = StemSet(["drums", "bass", "other", "vocals"], 44100, data, mix=data.sum(axis=0))
    timeline = Timeline()
    panel = StemPanel(timeline)
    panel.resize(1280, 700)
    panel.show()
    app.processEvents()
    t0 = time.perf_counter()
    panel.show_song(stems, MixerState(stems.names), "long")
    timeline.reset(frames, 44100)
    t1 = time.perf_counter()
    app.processEvents()  # lays the rows out and paints them
    for row in panel.rows.values():
        row.view.repaint()
    t2 = time.perf_counter()
    timeline.set_position(44100)
    for row in panel.rows.values():
        row.view.repaint()
    t3 = time.perf_counter()
    timeline.zoom(0.01, frames // 2)
    for row in panel.rows.values():
        row.view.repaint()
    t4 = time.perf_counter()
    print(
        f"{minutes:.0f}-min song: envelopes and rows {1000 * (t1 - t0):.0f} ms (done on the "
        f"worker for a finished song); first paint {1000 * (t2 - t1):.0f} ms; playhead move "
        f"{1000 * (t3 - t2):.1f} ms; zoomed-in repaint {1000 * (t4 - t3):.0f} ms"
    )


def heartbeat(seconds: float = 10.0) -> None:
    """Gaps of a 10 ms QTimer on the GUI thread while the worker separates ``seconds`` of audio."""
    import soundfile as sf
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from stemgui.playback.sounddevice_output import AudioDeviceError
    from stemgui.ui.smoke import throwaway_folder
    from stemgui.ui.window import MainWindow

    def factory(options):
        import torch

        from stemgui.separation.nets.htdemucs import HTDemucs
        from stemgui.separation.separator import Separator

        torch.set_num_threads(2)
        torch.manual_seed(0)
        model = HTDemucs(
            ["drums", "bass", "other", "vocals"],
            bottom_channels=512,
            dconv_mode=3,
            t_layers=5,
            samplerate=44100,
            segment=7.8,
        )
        return Separator(model, device="cpu"), "htdemucs (untrained)"

    def no_output(*args):
        raise AudioDeviceError("no sound card needed here")

    # stem cache off: it would find the song from the last run
    with throwaway_folder("stemgui-heartbeat-") as (settings, folder):
        song = folder / "song.wav"
        noise = np.random.default_rng(0).standard_normal((int(seconds * 44100), 2)) * 0.1
        sf.write(song, noise.astype(np.float32), 44100)
        window = MainWindow(
            settings, separator_factory=factory, output_factory=no_output, probe=False
        )
        window.show()
        gaps: list[float] = []
        state = {"last": 0.0, "start": 0.0}

        def beat() -> None:
            now = time.perf_counter()
            gaps.append(now - state["last"])
            state["last"] = now

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(beat)
        (job,) = window.add_paths([song])

        def watch() -> None:
            if job.state.value == "separating" and not timer.isActive():
                state["start"] = state["last"] = time.perf_counter()
                timer.start()
            if job.state.ended:
                timer.stop()
                took = time.perf_counter() - state["start"]
                g = np.array(gaps) * 1000
                print(
                    f"{job.state.value}: {seconds:.0f} s of audio separated in {took:.1f} s; "
                    f"{g.size} heartbeats, median gap {np.median(g):.1f} ms, "
                    f"99th percentile {np.percentile(g, 99):.1f} ms, longest {g.max():.1f} ms"
                )
                window.close()
                app.quit()
                return
            QTimer.singleShot(20, watch)

        QTimer.singleShot(20, watch)
        app.exec()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("first", "all"):
        first_window()
    if what in ("draw", "all"):
        draw()
    if what in ("heartbeat", "all"):
        heartbeat(float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
