"""Loops and the song's end through the stretcher, which reads the song ahead of what is
heard: a loop turned off, on or set goes round as heard, a mute holds through a wrap, a
lap counts as its wrap plays, and the song ends as its last frame plays, at any pace
(the sound itself: ``test_stretch_sound.py``; pause, seek and the mixer:
``test_stretch_controls.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback.null_output import NullOutput
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.stretch_rig import (
    FADE,
    PACES,
    RATE,
    play,
    player,
    ramp_player,
    steady_vocals_player,
)


@pytest.mark.parametrize(("speed", "semitones"), [(0.5, 0), (0.25, 0), (0.25, 6)])
@pytest.mark.parametrize("blocks", [1, 4, 8])
def test_a_stem_muted_as_a_loop_goes_round_stays_muted_through_its_wrap(speed, semitones, blocks):
    """The fade-out at a wrap read ahead (the tail) was mixed as it was read: muted ``blocks``
    blocks after that, the vocals came back at full level around the wrap heard, for up to
    57 ms at 50 % and 178 ms at 25 % (the windows play the tail several times over)."""
    output, transport = steady_vocals_player(speed, semitones)
    transport.set_loop(RATE, RATE + RATE // 2)
    transport.seek(RATE)
    transport.play()
    while transport.wraps < 2:
        output.pump(512)
    play(output, blocks * 512)
    output.mixer.set_mute("vocals")
    ratio = 2 ** (semitones / 12)
    settled = round(FADE / min(1.0, ratio)) + 2 * output.transposer.reach
    assert not play(output, 60 * 512)[settled:, 0].any()


@pytest.mark.parametrize(("speed", "semitones"), PACES)
@pytest.mark.parametrize("on", [False, True])
def test_a_loop_turned_off_or_on_just_before_its_end_is_heard_so(speed, semitones, on):
    """The stretcher had read the song ahead past the loop's end: turned off 20 ms of song
    before it, the loop still went round once at 50 % (and up to 40 ms at 25 %); turned on,
    the song played on past its end once."""
    output, transport = ramp_player(speed, semitones)
    start, end = RATE, 2 * RATE
    transport.set_loop(start, end, enabled=not on)
    transport.seek(end - RATE // 4)
    transport.play()
    runs = []
    out = np.empty((128, 2), np.float32)  # (at 200 % -6 a block of 512 plays 33 ms of song)
    while not runs or runs[-1][0] + runs[-1][1] < end - RATE // 50:
        output.clicker.render(out, lambda offset, song, count: runs.append((song, count)))
    assert runs[-1][0] + runs[-1][1] < end  # just before its end
    transport.set_loop_enabled(on)
    for _ in range(round(RATE / 2 / 128 / speed)):  # half a second of song
        output.clicker.render(out, lambda offset, song, count: runs.append((song, count)))
    wrapped = any(song == start for song, _ in runs)
    assert wrapped == on
    past_the_end = max(song + count for song, count in runs) > end
    assert past_the_end != on


@pytest.mark.parametrize("speed", [0.5, 1.5])
@pytest.mark.parametrize("behind", [1, 100, 400])
def test_a_loop_set_ending_before_the_frame_sent_goes_round_not_on(speed, behind):
    """The stretcher had read the song past the loop's end and sent it past that end too (a
    block rendered as the loop was set, or the frames a transposer holds, after the player
    judged it): it sent the transport back to that frame, past the loop's end, and the song
    played on to its end before going round."""
    output, transport = ramp_player(speed, 0)
    transport.seek(RATE)
    transport.play()
    out = np.empty((256, 2), np.float32)
    for _ in range(round(RATE / 2 / 256)):
        output.render(out)
    sent = output.played_position()
    assert transport.position - sent > 1000  # read ahead, past the loop's end to come
    start, end = sent - RATE // 4, sent - behind
    transport.set_loop(start, end)
    runs = []
    for _ in range(round(RATE / 4 / 256 / speed)):  # a quarter of a second of song
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    assert runs[0][0] == start  # round it at once (after the fade), as the player would
    assert max(song + count for song, count in runs) <= end


def test_play_as_the_song_ends_slowly_plays_it_from_its_start():
    """The transport had stopped at the song's end as the stretcher read it, the end still
    playing: play then went back to the frame heard, near the end, and stopped again."""
    output, transport = player()
    output.transposer.speed = 0.5
    transport.seek(transport.frames - RATE // 10)
    transport.play()
    while transport.ends == 0:
        output.pump(512)
    transport.play()
    play(output, 10 * 512)
    assert transport.playing and 0 < transport.position <= 10 * 512


@pytest.mark.parametrize(("speed", "semitones"), [(1.0, 0), *PACES])
def test_the_song_ends_as_its_last_frame_plays_not_as_it_is_read(speed, semitones):
    """The transport stopped at the song's end as the stretcher read it: the window showed the
    song ended (back at the start, Play) while its last notes still played, 115 ms of them at
    50 % and 245 ms at 25 %. It now stops in the block that plays the song's last frame (one
    block later transposed: the transposer holds a few frames)."""
    output, transport = player()
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.seek(transport.frames - RATE // 4)
    transport.play()
    blocks = []
    while transport.playing:
        blocks.append(output.pump(256).copy())
    assert transport.ends == 1 and transport.position == 0
    assert np.abs(blocks[-2]).max() > 0.01  # the song played up to the block that ended it,
    after = play(output, RATE // 4, 256)  # and is over (a window cut fades out over 5 ms)
    assert not after[2 * FADE :].any()
    transport.play()
    play(output, RATE // 10, 256)
    transport.seek(transport.frames)  # End while playing: nothing left to play, it ends
    play(output, 1024, 256)
    assert transport.ends == 2 and not transport.playing


@pytest.mark.parametrize("block", [64, 512])
def test_a_short_song_stretched_most_plays_to_its_last_frame_before_it_ends(block):
    """At 25 % up 6 semitones (stretched 5.7 times) the windows, cut back where the song goes
    on best, lay no song over a block now and then: the end, read before the song began to
    play, is not taken from such a block, nor from one that lays what is left of it over the
    half window to come."""
    data = (0.1 * np.random.default_rng(2000).standard_normal((2, 2, 2000))).astype(np.float32)
    stems = StemSet(("vocals", "other"), RATE, data, data.sum(axis=0))
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, MixerState(stems.names, original=True), transport)
    output.transposer.speed, output.transposer.semitones = 0.25, 6
    transport.play()
    runs = []
    out = np.empty((block, 2), np.float32)
    while transport.playing:
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    assert max(song + count for song, count in runs) == transport.frames and transport.ends == 1


@pytest.mark.parametrize(("speed", "semitones"), [(1.0, 0), *PACES])
def test_a_lap_counts_when_the_wrap_plays_not_when_it_is_read(speed, semitones):
    """The transport wraps as the stretcher reads the song ahead, 73 ms (at 50 %) before the
    wrap plays: the speed trainer, which stepped up on it, sped up the lap's last notes."""
    output, transport = ramp_player(speed, semitones)
    transport.set_loop(RATE, RATE + RATE // 4)
    transport.seek(RATE + 1000)
    transport.play()
    out = np.empty((256, 2), np.float32)
    runs = []
    for lap in range(1, 4):
        while output.laps < lap:
            assert not any(song == RATE for song, _ in runs)
            runs.clear()
            output.render(out, lambda offset, song, count: runs.append((song, count)))
        assert any(song == RATE for song, _ in runs)  # the block that plays the wrap
        runs.clear()
    assert output.laps == 3


@pytest.mark.parametrize("start", [8000, 12000])
@pytest.mark.parametrize("left", [0, 1500, 3000, 5000])
def test_back_at_speed_one_as_the_song_ends_its_last_frames_are_told_and_it_ends_there(left, start):
    """150 % -> 100 % with the song's end inside the last window: the window played out
    without saying which song frames it played (the last ~500 frames never reached the
    playhead or the click), and the song ended a block after its last frame played."""
    output, transport = player()
    output.transposer.speed = 1.5
    transport.seek(transport.frames - start)
    transport.play()
    out = np.empty((256, 2), np.float32)
    runs = []
    while transport.frames - transport.position > left:
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    output.transposer.speed = 1.0
    played: list[tuple[int, int]] = []
    for _ in range(100):
        played.clear()
        output.render(out, lambda offset, song, count: played.append((song, count)))
        runs += played
        if not transport.playing:
            break
    assert transport.ends == 1
    assert max(song + count for song, count in runs) == transport.frames
    assert any(song + count == transport.frames for song, count in played)  # ends as it plays
