"""With no song separating, the status bar names the device in one form: it said "Device:
Automatic (CPU)" at the start (the Device menu's choice) and "Device: CPU" after the first song
(the worker's word); both are "Device: CPU", as "Separating on: CPU" is while separating."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.ui import settings as S
from stemgui.ui.queue import Job
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput

GPU = "GPU 0: NVIDIA RTX 4070 (12 GB, CUDA)"


def _one_song(win: MainWindow, device: str) -> list[str]:
    """What the label says while a song separates on ``device`` (the worker's word once its
    model loaded), and once it ended."""
    said = []
    win.controller._current = Job(Path("song.wav"))
    win.model_status.show_device()
    said.append(win.device_label.text())
    win.model_status.device_in_use(device)
    said.append(win.device_label.text())
    win.controller._current = None
    win.model_status.show_device()
    said.append(win.device_label.text())
    return said


@pytest.mark.parametrize(
    ("chosen", "devices", "idle", "device"),
    [
        ("auto", [("auto", "Automatic (CPU)"), ("cpu", "CPU")], "CPU", "CPU"),
        ("auto", [("auto", f"Automatic ({GPU})"), ("cuda:0", GPU), ("cpu", "CPU")], GPU, GPU),
        ("cpu", [("auto", f"Automatic ({GPU})"), ("cuda:0", GPU), ("cpu", "CPU")], "CPU", "CPU"),
        # a GPU chosen before and gone: the menu's word for it stays, before and after a song
        ("cuda:1", [("auto", "Automatic (CPU)"), ("cpu", "CPU")], "CPU (cuda:1 is missing)", "CPU"),
    ],
)
def test_the_device_is_named_alike_at_the_start_and_after_a_song(
    qtbot, settings_store, chosen, devices, idle, device
):
    settings = S.Settings(settings_store)
    settings.set(S.DEVICE, chosen)
    win = MainWindow(settings, output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.probed([], [], devices)
    assert win.device_label.text() == f"Device: {idle}"
    assert _one_song(win, device) == [
        f"Separating on: {device}",
        f"Separating on: {device}",
        f"Device: {idle}",
    ]
    assert _one_song(win, device)[-1] == f"Device: {idle}"  # and after the next
    win.close()
