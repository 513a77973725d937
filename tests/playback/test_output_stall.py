"""A stream that stops calling back (CoreAudio can leave a removed device's stream so) is lost."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from stemgui.playback.sounddevice_output import open_output
from stemgui.playback.transport import PlayState, Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.fakes import FakeClock
from tests.playback.output_rig import FRAMES, FakeStream, fake_sounddevice

pytestmark = pytest.mark.usefixtures("device_list")


def _run(output, clock, seconds, block=0, every=0.03):
    """Poll every ``every`` s for ``seconds`` s, the stream calling back with ``block`` frames
    each ``block`` ms (1000 frames a second; 0: no callbacks); return the last poll's answer."""
    message, due = None, 0.0
    for _ in range(round(seconds / every)):
        clock.now += every
        due += every
        if block and due >= block / 1000 - 1e-9:
            due -= block / 1000
            output.stream.play(block)
        message = output.poll()
    return message


def test_a_stream_that_stops_calling_back_is_taken_for_lost(rig, fake_stream):
    """CoreAudio can leave a removed device's stream "active" with no callbacks, for good."""
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    output.clock = clock = FakeClock()
    transport.set_loop(0, FRAMES)
    transport.play()
    assert _run(output, clock, 10.0, block=500) is None  # half-second blocks: no stall
    assert _run(output, clock, 10.0, block=30) is None  # healthy: never taken for lost
    position = transport.position
    assert _run(output, clock, 1.95) is None and transport.playing  # the device is removed
    assert "unplugged" in _run(output, clock, 0.1)
    assert transport.state is PlayState.PAUSED and transport.position == position
    assert output.stream.active  # PortAudio never said a word
    output.close()


def test_no_callbacks_are_no_stall_when_none_are_due(rig, fake_stream):
    stems, mixer, transport = rig
    output = open_output(stems, mixer, transport)
    output.clock = clock = FakeClock()
    transport.set_loop(0, FRAMES)
    # Paused or stopped: nothing is expected of the stream.
    assert _run(output, clock, 10.0) is None
    # Playing before the stream's first callback: a slow device gets 5 s to begin.
    transport.play()
    assert _run(output, clock, 4.9) is None
    assert _run(output, clock, 1.0, block=30) is None
    # The computer slept (or the UI hung) between two polls: the watch starts again.
    clock.now += 60.0
    assert _run(output, clock, 1.5) is None and transport.playing
    assert "unplugged" in _run(output, clock, 0.6)
    output.close()


def test_waiting_for_separation_is_no_stall(monkeypatch):
    """The transport holds at the first frame not separated; the callback gives silence."""
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(FakeStream))
    stems = StemSet(("a", "b"), 1000, np.ones((2, 2, 1000), np.float32), frames_ready=100)
    transport = Transport(stems.frames, stems.samplerate, lambda: stems.frames_ready)
    output = open_output(stems, MixerState(stems.names), transport)
    output.clock = clock = FakeClock()
    transport.play()
    output.stream.play(200)  # 100 frames of song, then waits
    assert transport.waiting
    assert _run(output, clock, 10.0) is None
    output.close()


# --- devices plugged in after PortAudio started ------------------------------------------
