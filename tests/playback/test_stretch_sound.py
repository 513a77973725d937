"""Playing slower or faster with the pitch kept (``Stretcher``, WSOLA): the same notes, as
loud, without clicks, the song's pace changed by the speed, speed 1 untouched, and back at
speed 1 on from the frame heard (pause, seek and the mixer: ``test_stretch_controls.py``;
loops and the song's end: ``test_stretch.py``; where notes begin and end:
``test_stretch_notes.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.renderer import BlockRenderer
from stemgui.playback.stretch import Stretcher
from tests.playback.stretch_rig import RATE, SECONDS, T, peaks, play, player


def test_at_speed_one_in_the_song_s_key_the_renderer_s_samples_come_through_untouched():
    output, transport = player()
    transport.play()
    heard = play(output, RATE)
    fresh, again = player()
    again.play()
    reference = np.zeros_like(heard)
    BlockRenderer(fresh.stemset, fresh.mixer, again).render(reference)
    np.testing.assert_array_equal(heard, reference)
    assert not output.stretcher.active


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.25, 1.5])
def test_the_notes_keep_their_pitch_and_loudness_and_the_song_its_pace_times_speed(speed):
    output, transport = player()
    output.transposer.speed = speed
    transport.play()
    frames = 3 * RATE
    heard = play(output, frames)[:, 0]
    steady = heard[RATE // 2 :]  # past the first windows
    # within 7 cents: the windows follow the strongest note, the others' overlaps add sidebands
    assert peaks(steady) == pytest.approx([220, 330, 554.37], rel=0.004)
    # as loud as the song where it is heard: the windows add up in phase, not beating
    song_at = (np.arange(steady.size) + RATE // 2) * speed
    level = (1.0 - 0.3 * song_at / RATE / SECONDS) * np.sqrt((0.2**2 + 0.15**2 + 0.1**2) / 2)
    rms = np.sqrt(np.mean(steady.astype(np.float64) ** 2))
    assert 20 * np.log10(rms / np.sqrt(np.mean(level**2))) == pytest.approx(0.0, abs=0.5)
    # the transport is where the song is: ahead of the output only by what is buffered
    buffered = output.stretcher.size + 2 * output.stretcher.search + output.stretcher.hop
    assert 0 <= transport.position - frames * speed <= buffered + 512


@pytest.mark.parametrize("speed", [0.5, 0.8, 1.25])
def test_no_click_where_windows_meet(speed):
    """A pure tone's largest step from one sample to the next stays the tone's own."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    natural = float(np.abs(np.diff(tone)).max())
    output, transport = player(tone)
    output.transposer.speed = speed
    transport.play()
    heard = play(output, 2 * RATE)[:, 0]
    assert float(np.abs(np.diff(heard)).max()) < 1.1 * natural


def test_each_half_window_says_which_song_frame_it_plays():
    output, transport = player()
    stretcher = Stretcher(output.renderer, 2, RATE)
    stretcher.speed = 0.5
    transport.play()
    runs = []
    out = np.zeros((512, 2), np.float32)
    for block in range(200):
        stretcher.render(
            out, lambda offset, song, count, b=block: runs.append((b * 512 + offset, song))
        )
    (first_out, first_song), (last_out, last_song) = runs[1], runs[-1]
    # the song moves half as fast as the output, to a window
    assert (last_song - first_song) == pytest.approx(
        0.5 * (last_out - first_out), abs=stretcher.size
    )
    songs = [song for _, song in runs]
    assert songs == sorted(songs)


def slowed_tone():
    """A 220 Hz tone played for a second at half speed: (its largest step from one sample to
    the next, the output, its transport, what it played)."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    output, transport = player(tone)
    output.transposer.speed = 0.5
    transport.play()
    return float(np.abs(np.diff(tone)).max()), output, transport, play(output, RATE)


def test_back_at_speed_one_playback_goes_on_from_the_frame_heard_without_a_click():
    natural, output, transport, before = slowed_tone()
    ahead = transport.position  # the transport ran ahead of the windows being heard
    output.transposer.speed = 1.0
    after = play(output, RATE // 2)
    assert not output.stretcher.active
    # went back to about half a second of song (a second at half speed), not on from "ahead"
    assert abs((transport.position - RATE // 2) - RATE // 2) < output.stretcher.size + 512
    assert transport.position < ahead + RATE // 2
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural


@pytest.mark.parametrize("how", ["seek", "stop and play"])
def test_a_seek_as_the_speed_goes_back_to_one_is_not_undone_and_makes_no_click(how):
    natural, output, transport, before = slowed_tone()
    output.transposer.speed = 1.0  # the windows still buffered play out first, then the hand-over
    if how == "seek":
        transport.seek(3 * RATE + 77)
    else:
        transport.stop()
        transport.play()
    sought = transport.position
    after = play(output, 10 * 512)
    assert not output.stretcher.active
    assert sought <= transport.position <= sought + 10 * 512  # not back where it played slowly
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural
