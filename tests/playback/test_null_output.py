"""NullOutput: the callback every output shares, pumped by hand or by its thread."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from stemgui.playback import null_output
from stemgui.playback.null_output import NullOutput
from stemgui.playback.transport import PlayState, Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.output_rig import FADE, FRAMES, faded_in, mix_of


def test_pumping_advances_the_position_exactly(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    blocks = [output.pump(n) for n in (256, 100, 1, 999)]
    assert transport.position == 256 + 100 + 1 + 999
    played = np.concatenate(blocks)
    np.testing.assert_allclose(played, faded_in(mix_of(stems, 0, 1356)), rtol=1e-5, atol=1e-6)


def test_paused_or_stopped_pumps_silence_and_holds(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    assert not output.pump(128).any() and transport.position == 0
    transport.play()
    output.pump(128)
    transport.pause()
    assert output.pump(FADE).any()  # what played fades out
    assert not output.pump(128).any() and transport.position == 128


def test_seek_while_playing_plays_from_the_new_place(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    output.pump(300)
    transport.seek(4000)
    rise = (np.arange(1, FADE + 1) / FADE)[:, None]
    cross = mix_of(stems, 300, 300 + FADE) * (1 - rise) + mix_of(stems, 4000, 4000 + FADE) * rise
    expected = np.concatenate([cross, mix_of(stems, 4000 + FADE, 4200)])
    np.testing.assert_allclose(output.pump(200), expected, rtol=1e-5, atol=1e-6)
    assert transport.position == 4200


def test_loop_wrap_inside_one_callback_block(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.set_loop(1000, 1100)
    transport.seek(1060)
    transport.play()
    block = output.pump(64)
    rise = (np.arange(1, FADE + 1) / FADE)[:, None]
    cross = mix_of(stems, 1100, 1100 + FADE) * (1 - rise) + mix_of(stems, 1000, 1000 + FADE) * rise
    expected = np.concatenate(
        [faded_in(mix_of(stems, 1060, 1100)), cross, mix_of(stems, 1000 + FADE, 1024)]
    )
    np.testing.assert_allclose(block, expected, rtol=1e-5, atol=1e-6)
    assert transport.position == 1024


def test_end_of_song_gives_silence_and_stops(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.seek(FRAMES - 10)
    transport.play()
    block = output.pump(64)
    np.testing.assert_allclose(
        block[:10], faded_in(mix_of(stems, FRAMES - 10, FRAMES)), rtol=1e-5, atol=1e-6
    )
    assert not block[10:].any()  # past the end: nothing to fade out
    assert transport.state is PlayState.STOPPED and transport.position == 0


def test_mixer_changes_ramp_in_on_the_next_block(rig):
    """A change of gains goes in a straight line from the old to the new over FADE frames
    (a step would click), then the new gains hold."""
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    transport.play()
    output.pump(100)
    mixer.set_solo("bass")
    mixer.set_gain_db("bass", -20.0)
    block = output.pump(100)
    for i in range(FADE):
        w = (i + 1) / FADE
        gains = (1.0 - w, 1.0 + (0.1 - 1.0) * w, 1.0 - w)
        np.testing.assert_allclose(block[i], mix_of(stems, 100 + i, 101 + i, gains)[0], rtol=1e-5)
    np.testing.assert_allclose(
        block[FADE:], mix_of(stems, 100 + FADE, 200, (0.0, 0.1, 0.0)), rtol=1e-5, atol=1e-6
    )


def test_frames_not_yet_separated_play_as_silence():
    data = np.full((2, 1, 1000), 0.25, np.float32)
    stems = StemSet(("a", "b"), 1000, data, frames_ready=600)
    transport = Transport(stems.frames, stems.samplerate)
    output = NullOutput(stems, MixerState(stems.names), transport)
    transport.seek(500)
    transport.play()
    block = output.pump(200)
    np.testing.assert_allclose(block[:FADE, 0], 0.5 * np.arange(1, FADE + 1) / FADE)  # fade-in
    assert np.all(block[FADE:100] == 0.5) and not block[100:].any()
    assert transport.position == 700  # time goes on through the silence


def test_pump_into_a_given_buffer(rig):
    stems, mixer, transport = rig
    output = NullOutput(stems, mixer, transport)
    buffer = np.full((512, 2), 9.0, np.float32)
    transport.play()
    block = output.pump(100, out=buffer)
    assert np.shares_memory(block, buffer) and block.shape == (100, 2)
    assert np.all(buffer[100:] == 9.0)


def test_the_thread_drives_the_callback(rig):
    stems, mixer, transport = rig
    seen = []
    got_blocks = threading.Event()

    def sink(block):
        seen.append(block.copy())
        if len(seen) >= 3:
            got_blocks.set()

    transport.play()
    with NullOutput(stems, mixer, transport, blocksize=64, speed=100.0, sink=sink) as output:
        output.start()
        assert got_blocks.wait(10.0)
    position = transport.position
    assert position >= 3 * 64 and position % 64 == 0
    assert output.error is None
    np.testing.assert_allclose(seen[0], faded_in(mix_of(stems, 0, 64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cost", [0.4, 1.5])
def test_the_thread_keeps_time_whatever_a_block_takes(rig, monkeypatch, cost):
    """A block every blocksize / samplerate / speed s, the render's own time included (it
    waited a whole period after each render: 31 times real time where 50 was asked); a render
    slower than that goes on at once, and the lag is not made up in a burst."""
    stems, mixer, transport = rig
    clock = [0.0]
    monkeypatch.setattr(null_output, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    output = NullOutput(stems, mixer, transport, blocksize=64, speed=50.0)
    period = 64 / stems.samplerate / 50.0
    output.sink = lambda block: clock.__setitem__(0, clock[0] + cost * period)
    waits: list[float] = []

    class Stop:
        def is_set(self) -> bool:
            return len(waits) == 20

        def wait(self, seconds: float) -> None:
            waits.append(seconds)
            clock[0] += max(seconds, 0.0)

    output._stop = Stop()
    transport.play()
    output._run()
    assert clock[0] == pytest.approx(20 * max(cost, 1.0) * period)
    assert transport.position == 20 * 64


# --- SoundDeviceOutput with a fake sounddevice ---------------------------------------------


def test_the_callback_body_allocates_nothing_large(rig):
    """Blocks of 4096 frames x 2 channels (32 KiB): no temporary of that size per callback."""
    import tracemalloc

    stems, mixer, transport = rig
    mixer.set_gain_db("bass", -6.0)
    output = NullOutput(stems, mixer, transport)
    out = np.empty((4096, 2), np.float32)
    transport.set_loop(0, FRAMES)
    transport.play()
    output.pump(4096, out=out)  # warm up
    tracemalloc.start()
    try:
        for _ in range(20):
            output.pump(4096, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024
