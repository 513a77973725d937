"""Shared fixtures: offscreen Qt, a small torch thread count, per-test user folders, a working
folder of the test's own, and the isolated command-line run with the tiny known-answer model of
the command-line and reliability tests."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    """Keep torch on the machine's two cores and out of the way of other processes."""
    try:
        import torch
    except ImportError:
        yield
        return
    torch.set_num_threads(2)
    yield


@pytest.fixture(autouse=True)
def _own_user_folders(tmp_path_factory, monkeypatch):
    """The user cache, data, config and state folders (stem cache, scratch stems, downloaded
    models, the settings of an app started without a store of its own, as a test's subprocess
    is, the log) of each test are fresh: no test reads what an earlier run or the real user
    left there, or writes over the real user's settings or into their log."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))


@pytest.fixture()
def device_list(monkeypatch):
    """A device list of each test's own (``sounddevice_output._devices``): an output a test
    leaves open keeps no other test from initialising PortAudio again."""
    from stemgui.playback import sounddevice_output

    monkeypatch.setattr(sounddevice_output, "_devices", sounddevice_output._DeviceList())


@pytest.fixture()
def device_clock(device_list, monkeypatch):
    """The clock by which the devices are listed afresh at most every ``FRESH_S``
    (``output_devices``), standing still until the test moves it on."""
    from stemgui.playback import sounddevice_output
    from tests.fakes import FakeClock

    fake = FakeClock()
    monkeypatch.setattr(sounddevice_output._devices, "clock", fake)
    return fake


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """The test's working folder is its ``tmp_path``: relative names are made there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _event_loops_still_run():
    """Fail the test in which ``QCoreApplication.exit`` was called outside ``app.exec()``.

    Qt then marks the main thread as quitting until the next ``app.exec()``: every later event
    loop (each ``qtbot.wait``, ``waitUntil``, ``waitSignal``) returns at once without delivering
    a thing, and later tests time out far from the cause (a window's queue stood in "loading
    model" while its worker had finished). A timer of an earlier test that outlived it did this.
    """
    yield
    import sys

    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    app = QCoreApplication.instance()
    if app is None:
        return
    loop = QEventLoop()
    tick = QTimer(singleShot=True, interval=0)
    tick.timeout.connect(loop.quit)
    tick.start()
    ran = loop.exec() == 0
    tick.stop()
    if ran:
        return
    end = QTimer(singleShot=True, interval=0)  # app.exec() clears the quitting mark
    end.timeout.connect(lambda: app.exit(0))
    end.start()
    app.exec()
    pytest.fail(
        "QCoreApplication.exit() was called outside app.exec() during this test (a timer "
        "left by an earlier test?): the event loops of later tests would end at once"
    )


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A command-line run kept in ``tmp_path`` (``tests.reliability.helpers.isolate``): log
    file, model store folders and cwd there, the tiny known-answer model registered."""
    from tests.reliability.helpers import isolate

    yield from isolate(tmp_path, monkeypatch)


@pytest.fixture
def model_file(isolated) -> Path:
    """The tiny known-answer model's file in the isolated run's folder
    (``tests.reliability.helpers.save_tiny_model``)."""
    from tests.reliability.helpers import save_tiny_model

    return save_tiny_model(isolated)
