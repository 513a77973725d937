"""The status bar names the device a song is separated on in one form: it said "Separating on:
Automatic (CPU)" while the model loaded (the Device menu's choice), then "Separating on: CPU"
(the worker's word), of the same device."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.ui import settings as S
from stemgui.ui.queue import Job
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput

GPU = "GPU 0: NVIDIA RTX 4070 (12 GB, CUDA)"


@pytest.mark.parametrize(
    ("devices", "device"),
    [
        ([("auto", "Automatic (CPU)"), ("cpu", "CPU")], "CPU"),
        ([("auto", f"Automatic ({GPU})"), ("cuda:0", GPU), ("cpu", "CPU")], GPU),
    ],
)
def test_the_device_is_named_alike_before_and_after_the_model_loads(
    qtbot, settings_store, devices, device
):
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.menus.probed([], [], devices)
    assert win.device_label.text() == f"Device: {device}"  # the device itself, idle too
    win.controller._current = Job(Path("song.wav"))  # a song starts: its model loads
    win.model_status.show_device()
    assert win.device_label.text() == f"Separating on: {device}"
    win.model_status.device_in_use(device)  # the worker's word, once the model is loaded
    assert win.device_label.text() == f"Separating on: {device}"
    win.controller._current = None
    win.close()
