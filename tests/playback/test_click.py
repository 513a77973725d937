"""The metronome click (``Clicker``): one click on every beat of the grid where it is heard, at
any speed, once each time round a loop, never clipping, and nothing at all when off."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.click import Clicker
from stemgui.playback.null_output import NullOutput
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet

RATE = 44100
FIRST, BEAT = 1000.0, 22050.0  # 120 BPM, the first beat 1000 frames in


def silent_song(seconds: float = 8.0, level: float = 0.0) -> tuple[NullOutput, Transport]:
    data = np.full((2, 2, int(seconds * RATE)), level, np.float32)
    stems = StemSet(("vocals", "other"), RATE, data)
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, MixerState(stems.names), transport, blocksize=512)
    output.clicker.beats = lambda: (FIRST, BEAT)
    return output, transport


def onsets(signal: np.ndarray, quiet: int = 1000) -> list[int]:
    """Where each click starts: a sample past silence after at least ``quiet`` silent ones."""
    loud = np.flatnonzero(np.abs(signal) > 1e-4)
    return [int(i) for k, i in enumerate(loud) if k == 0 or i - loud[k - 1] > quiet]


def play(output: NullOutput, frames: int) -> np.ndarray:
    return np.concatenate([output.pump(512).copy() for _ in range(frames // 512)])[:, 0]


def test_a_click_starts_on_every_beat_to_the_frame():
    output, transport = silent_song()
    output.clicker.on = True
    transport.play()
    heard = play(output, 3 * RATE)
    # (its first sample is sin 0: heard from the frame after the beat)
    assert onsets(heard) == [round(FIRST + k * BEAT) + 1 for k in range(6)]
    assert float(np.abs(heard).max()) == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("speed", [0.5, 0.75])
def test_slower_the_clicks_are_as_far_apart_as_the_beats_are_heard(speed):
    output, transport = silent_song()
    output.clicker.on = True
    output.transposer.speed = speed
    transport.play()
    heard = play(output, 4 * RATE)
    found = onsets(heard)
    expected = [(FIRST + k * BEAT) / speed for k in range(len(found))]
    assert len(found) == int((4 * RATE * speed - FIRST) / BEAT) + 1  # each beat once
    assert np.allclose(found, expected, atol=0.03 * RATE)  # to a window of the stretcher


def test_each_time_round_a_loop_once_more():
    output, transport = silent_song()
    output.clicker.on = True
    transport.set_loop(0, 2 * int(BEAT))  # two beats: at 1000 and 23050
    transport.play()
    heard = play(output, 3 * 2 * int(BEAT))
    loop = 2 * int(BEAT)
    assert onsets(heard) == [
        round(FIRST + k * BEAT) + 1 + lap * loop for lap in range(3) for k in (0, 1)
    ]


@pytest.mark.parametrize("fraction", [0.4, 0.6])
def test_a_loop_from_a_beat_rounded_to_its_frame_clicks_as_it_starts(fraction):
    """A loop from the beat at 1000.6 starts on frame 1001 (the nearest): that beat lay
    before it, so the first lap had no click on its first beat, and each later one had it
    on the previous lap's last frame (its beat again, at 45100.6)."""
    output, transport = silent_song()
    output.clicker.beats = lambda: (FIRST + fraction, BEAT)
    output.clicker.on = True
    start, loop = round(FIRST + fraction), 2 * int(BEAT)
    transport.set_loop(start, start + loop)
    transport.seek(start)
    transport.play()
    heard = play(output, 3 * loop)
    assert onsets(heard) == [1 + k * int(BEAT) + lap * loop for lap in range(3) for k in (0, 1)]


@pytest.mark.parametrize("seconds", [0.03, 0.05, 0.099])
@pytest.mark.parametrize(("speed", "semitones"), [(1.0, 0), (0.5, 0), (0.25, 6), (1.5, -3)])
def test_a_loop_shorter_than_100_ms_clicks_each_time_round(seconds, speed, semitones):
    """A run that began within 100 ms of where the last ended was taken for the song going on:
    a loop around a beat shorter than that clicked the first time round only."""
    output, transport = silent_song()
    output.clicker.on = True
    output.transposer.speed, output.transposer.semitones = speed, semitones
    loop = round(seconds * RATE)
    start = int(FIRST + BEAT) - loop // 3  # the second beat inside
    transport.set_loop(start, start + loop)
    transport.seek(start)
    transport.play()
    laps = 12
    found = onsets(play(output, round(laps * loop / speed) + 512), quiet=200)
    assert len(found) in (laps, laps + 1)  # once a lap (and the next lap's, begun)
    if speed == 1.0:  # to the frame
        assert found == [loop // 3 + 1 + lap * loop for lap in range(len(found))]
    else:  # to the give of the stretcher's windows
        np.testing.assert_allclose(np.diff(found[1:]), loop / speed, atol=0.03 * RATE)


def test_off_or_without_a_grid_the_output_is_untouched():
    output, transport = silent_song(level=0.2)
    reference, again = silent_song(level=0.2)
    transport.play()
    again.play()
    output.clicker.beats = lambda: None
    output.clicker.on = True  # no grid: nothing to click
    np.testing.assert_array_equal(play(output, RATE), play(reference, RATE))


def test_the_click_over_a_loud_song_never_clips():
    output, transport = silent_song(level=0.49)  # two stems: 0.98, past the limiter's knee
    output.clicker.on = True
    transport.play()
    heard = play(output, 2 * RATE)
    assert float(np.abs(heard).max()) <= 1.0


def test_a_clicker_on_its_own_reports_the_chain_s_runs():
    output, transport = silent_song()
    clicker = Clicker(output.transposer, RATE, lambda: (FIRST, BEAT))
    clicker.on = True
    transport.play()
    runs = []
    clicker.render(np.zeros((512, 2), np.float32), lambda *run: runs.append(run))
    assert runs == [(0, 0, 512)]


@pytest.mark.parametrize(
    ("speed", "semitones", "block"),
    [(0.75, 6, 2048), (0.5, 6, 4096), (0.25, 6, 4096), (0.5, -3, 4096), (1.5, -6, 2048)],
)
def test_transposed_each_beat_clicks_once_in_blocks_of_any_size(speed, semitones, block):
    """The transposer said the song frame of a block from the stretcher's half window around
    it, its count taken for frames of output: in blocks of 2048 at 75 % +6 the song it said
    leapt up to 134 ms and 4 of 5 clicks were lost (a leap over 100 ms counts as a seek)."""
    output, transport = silent_song()
    output.clicker.on = True
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    heard = np.concatenate([output.pump(block).copy() for _ in range(4 * RATE // block)])[:, 0]
    found = onsets(heard)
    apart = BEAT / speed  # the beats as heard; the first half window plays at the song's pace
    assert len(found) >= 2 and heard.size - found[-1] < apart
    np.testing.assert_allclose(np.diff(found[1:]), apart, atol=3)
