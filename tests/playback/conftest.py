"""Fixtures of the output tests (tests/playback/output_rig.py has their song and fakes)."""

from __future__ import annotations

import sys

import pytest

from tests.playback.output_rig import FakeStream, fake_sounddevice, make_rig


@pytest.fixture()
def rig():
    return make_rig()


@pytest.fixture()
def fake_stream(monkeypatch, device_list):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(FakeStream))
