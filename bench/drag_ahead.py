"""How long the window stands still as a stem is dragged out as it is (not at a pace), and how
long the hand waits for the drag: with no press before the drag (its file written as it starts),
against written ahead on a thread from the moment the mouse is pressed on the row
(``StemDrags.write_ahead``), the hand taking 0.1–0.3 s to move the drag distance; in the same
run. Never pass/fail. "Holds the window": the longest the window's event loop does not run
meanwhile (a 1 ms timer's ticks): a drag that waits for its file written on a thread with the
window's events processed (``StemDrags._written_ahead``) holds it only for what that takes.

A stem panel offscreen with four stereo stems of noise at 44.1 kHz; a real press and move on the
stem's name (QTest), the drag itself (``QDrag.exec``) returning at once. "the drag's start": the
drag with no press before it (``StemPanel.drag_out``; run this against an older checkout to see
the write on the window's thread); "press": the time the press itself holds the window (reading
the song's tags, starting the thread); "starts … after the move": how long the hand waits for
the drag (what is left of the file's write). Medians of ``--repeats`` drags, each of a stem not
written yet. "click": the button let go where it was pressed, no drag (``StemDrags.let_go``):
the time the release holds the window (stopping the write, or deleting the file written) and
what is left in the drag folder once the write has ended.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/drag_ahead.py [--minutes 1 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")
HAND_SECONDS = (0.1, 0.2, 0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="stemgui-bench-drag-")
    os.environ["XDG_CACHE_HOME"] = cache

    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtGui import QDrag
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from stemgui.stems.mixer import MixerState
    from stemgui.stems.stemset import StemSet
    from stemgui.ui.stemview import StemPanel
    from stemgui.ui.timeline import Timeline

    app = QApplication.instance() or QApplication([])
    QDrag.exec = lambda drag, *actions: Qt.DropAction.CopyAction  # the drop: at once
    import stemgui

    print(f"stemgui from {Path(stemgui.__file__).parent}")
    panel = StemPanel(Timeline())
    panel.resize(900, 600)
    panel.show()
    trial = iter(range(10**6))

    def stalled(call) -> tuple[float, float]:
        """(seconds ``call()`` took, the longest it held the window: went without its event
        loop running, as a 1 ms timer's ticks show; all of it when it runs none)."""
        ticks: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start(1)
        began = time.perf_counter()
        call()
        ended = time.perf_counter()
        timer.stop()
        times = [began, *ticks, ended]
        return ended - began, max(b - a for a, b in itertools.pairwise(times))

    def drag(row, hand: float | None) -> tuple[float, float, float]:
        """(seconds the press held the window, seconds the move past the drag distance
        held it, seconds from that move to the drag's start), a stem not written yet;
        ``hand`` None: no press, the drag alone."""
        panel.track = f"Song {next(trial)}"  # nothing written for it yet
        start = row.label.geometry().center()
        pressed = 0.0
        if hand is None:
            took, held = stalled(lambda: panel.drag_out(row.name))
        else:
            began = time.perf_counter()
            QTest.mousePress(row, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
            pressed = time.perf_counter() - began
            # the hand moving, the window idle in its event loop (``QTest.qWait`` holds
            # Python's lock: no thread of it would run meanwhile)
            loop = QEventLoop()
            QTimer.singleShot(max(round((hand - pressed) * 1000), 0), loop.quit)
            loop.exec()
            moved = start + QPoint(QApplication.startDragDistance() + 5, 0)
            took, held = stalled(lambda: QTest.mouseMove(row, moved))
            QTest.mouseRelease(row, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), moved)
        shutil.rmtree(Path(cache) / "stemgui" / "drag", ignore_errors=True)
        return pressed, held, took

    def click(row, hand: float) -> tuple[float, int]:
        """(seconds the release held the window, bytes left in the drag folder once no
        thread writes there), the button let go ``hand`` seconds after the press."""
        panel.track = f"Song {next(trial)}"
        start = row.label.geometry().center()
        QTest.mousePress(row, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
        loop = QEventLoop()
        QTimer.singleShot(round(hand * 1000), loop.quit)
        loop.exec()
        began = time.perf_counter()
        QTest.mouseRelease(row, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
        held = time.perf_counter() - began
        for thread in threading.enumerate():
            if thread.name in ("stemgui-drag-ahead", "stemgui-drag-discard"):
                thread.join()
        folder = Path(cache) / "stemgui" / "drag"
        left = sum(path.stat().st_size for path in folder.glob("*")) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        return held, left

    for minutes in args.minutes:
        frames = round(minutes * 60 * RATE)
        data = (0.05 * np.random.default_rng(0).standard_normal((4, 2, frames))).astype(np.float32)
        panel.show_song(StemSet(NAMES, RATE, data, mix=data.sum(axis=0)), MixerState(NAMES))
        app.processEvents()
        row = panel.rows["bass"]
        drag(row, None)  # imports and first-time costs out of the figures
        runs = [drag(row, None) for _ in range(args.repeats)]
        base = statistics.median(run[1] for run in runs)
        write = statistics.median(run[2] for run in runs)
        print(
            f"{minutes:g}-minute stem: the drag's start holds the window {base:.3f} s, "
            f"the drag starts {write:.3f} s after the move"
        )
        for hand in HAND_SECONDS:
            runs = [drag(row, hand) for _ in range(args.repeats)]
            press = statistics.median(run[0] for run in runs)
            held = statistics.median(run[1] for run in runs)
            took = statistics.median(run[2] for run in runs)
            print(
                f"  pressed {hand:.1f} s before: press {press:.3f} s, drag start {held:.3f} s; "
                f"starts {took:.3f} s after the move = {took / write:.2f} of it"
            )
        for hand in (0.1, 2 * write + 0.3):  # while it is written, and once it is
            runs = [click(row, hand) for _ in range(args.repeats)]
            held = statistics.median(run[0] for run in runs)
            left = max(run[1] for run in runs)
            print(f"  clicked, let go {hand:.1f} s after the press: {held:.3f} s, {left} B left")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
