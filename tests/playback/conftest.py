"""Fixtures of the output tests (tests/playback/output_rig.py has their song and fakes)."""

from __future__ import annotations

import sys

import pytest

from stemgui.playback import sounddevice_output
from tests.playback.output_rig import FakeStream, fake_sounddevice, make_rig


@pytest.fixture()
def rig():
    return make_rig()


@pytest.fixture()
def device_list(monkeypatch):
    """A device list of each test's own: an output a test leaves open keeps no other test from
    initialising PortAudio again."""
    monkeypatch.setattr(sounddevice_output, "_devices", sounddevice_output._DeviceList())


@pytest.fixture()
def fake_stream(monkeypatch, device_list):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(FakeStream))
