"""The app's output through the real PortAudio in real time, on a JACK server's dummy driver
(``tests/playback/jack_dummy``): the playhead heard lags the frames sent by what the device
holds, never more; nothing counts as a stall while the song plays; pause, seek and stop hold."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from stemgui.playback.sounddevice_output import AudioDeviceError, open_output
from stemgui.playback.transport import PlayState, Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.alsa_null import WAIT_S, callbacks_on, wait_until
from tests.playback.jack_dummy import PERIOD, jack_server

RATE = 44100
FRAMES = RATE  # a second of song


@pytest.fixture()
def jack(monkeypatch, device_list):
    """Starts a JACK server at the rate given; stops it after the test."""
    servers = []

    def start(rate: int = RATE):
        servers.append(jack_server(monkeypatch, rate))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def song(rate: int = RATE):
    """(stems, mixer, transport) of a second of three noise stems at ``rate``."""
    data = (0.05 * np.random.default_rng(2).standard_normal((3, 2, rate))).astype(np.float32)
    stems = StemSet(("drums", "bass", "vocals"), rate, data)
    return stems, MixerState(stems.names), Transport(stems.frames, rate)


def test_the_playhead_heard_lags_the_frames_sent_by_at_most_the_devices_buffer(jack):
    server = jack()
    stems, mixer, transport = song()
    transport.play()
    output = open_output(stems, mixer, transport, device=server.device, name="system")
    lags, leads = [], []
    deadline = time.monotonic() + WAIT_S
    while transport.ends == 0:
        assert time.monotonic() < deadline, "the song never ended"
        sent = transport.position
        heard = output.heard_position()
        if heard is not None and transport.position == sent < FRAMES:  # no callback between
            lags.append(sent - heard)
            leads.append(round((output._block_time - output._now) * RATE))  # DAC time ahead
        assert output.poll() is None  # a second of callbacks in real time: no stall, no loss
        time.sleep(0.005)
    output.close()

    assert output.error is None and transport.position == 0
    assert output._callbacks >= FRAMES // PERIOD  # the device asked for the whole song
    assert len(lags) >= 20
    lead = max(leads)
    assert lead > 0  # JACK says when its blocks play: after the block being rendered now
    # behind what was sent by the device's lead and the block on its way, never ahead of it
    assert min(lags) >= 0 and max(lags) <= lead + 2 * PERIOD
    assert np.median(lags) > 0


def test_pause_seek_and_stop_hold_while_the_device_runs_in_real_time(jack):
    server = jack()
    stems, mixer, transport = song()
    transport.play()
    output = open_output(stems, mixer, transport, device=server.device, name="system")
    wait_until(lambda: transport.position >= FRAMES // 4, "a quarter of the song")
    transport.pause()
    callbacks_on(output, 6)  # the pause reached the device, and its lead played out
    held = transport.position
    assert FRAMES // 4 <= held < FRAMES
    callbacks_on(output, 6)
    assert transport.position == held
    assert output.heard_position() is None  # silence at the speakers
    transport.seek(FRAMES - RATE // 10)
    transport.play()
    wait_until(lambda: transport.ends == 1, "the song's end after a seek")
    assert (transport.state, transport.position) == (PlayState.STOPPED, 0)
    transport.play()
    wait_until(lambda: transport.position >= RATE // 10, "playing again from the start")
    transport.stop()
    callbacks_on(output, 6)
    assert (transport.state, transport.position) == (PlayState.STOPPED, 0)
    assert output.poll() is None
    output.close()


def test_a_device_at_another_rate_says_so_and_what_to_do(jack):
    server = jack(48000)  # JACK's rate is the server's: often 48 kHz
    stems, mixer, transport = song()  # the stems are at 44.1 kHz
    with pytest.raises(AudioDeviceError) as raised:
        open_output(stems, mixer, transport, device=server.device, name="system")
    assert str(raised.value) == (
        "The audio output device system plays at 48000 Hz, not at the stems' 44100 Hz. Set it "
        "to 44100 Hz (in the system's sound settings, or in its sound server's: JACK, "
        "PipeWire), or choose another in Playback ▸ Output device."
    )


LEFT_BEHIND = """
import sys
import sounddevice as sd
from stemgui.playback.output_devices import list_outputs
from stemgui.playback.sounddevice_output import import_sounddevice

import_sounddevice()  # as the app does first
print([device.label for device in list_outputs(sd)], flush=True)  # PortAudio joins the server
for step in sys.stdin:  # the server stopped; started again
    print(step.strip(), len(list_outputs(sd)), flush=True)  # the menu opens: listed afresh?
"""


def test_a_jack_server_that_stops_while_the_app_runs_does_not_abort_it(jack):
    server = jack()
    app = subprocess.Popen(
        [sys.executable, "-c", LEFT_BEHIND],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert app.stdout.readline().strip() == "['system']"  # the app's PortAudio joined it

    def then(step: str) -> None:
        app.stdin.write(f"{step}\n")
        app.stdin.flush()
        assert app.stdout.readline().startswith(step), f"the app died: {app.stderr.read()}"

    server.close()  # jackd stopped (or crashed)
    then("stopped")  # terminating PortAudio then aborted the process (SIGABRT)
    jack()  # one started again: PortAudio still holds the one gone
    then("restarted")
    app.stdin.close()
    assert app.wait(WAIT_S) == 0, app.stderr.read()  # sounddevice terminated it at exit too
