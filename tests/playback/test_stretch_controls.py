"""Pause, stop, seek and the mixer through the stretcher, heard within a fade at any pace
and key: silent once paused and at once again on Play, on from the song frame heard,
solo, mute and gain skipping nothing, and a muted stem not steering the windows' cuts."""

from __future__ import annotations

from itertools import pairwise

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
    T,
    peaks,
    play,
    player,
    ramp_player,
    steady_vocals_player,
)


def test_paused_it_falls_silent_and_starts_afresh():
    output, transport = player()
    output.transposer.speed = 0.75
    transport.play()
    play(output, RATE // 2)
    transport.pause()
    tail = play(output, RATE // 2)
    assert not np.any(tail[-RATE // 4 :])  # silent once what was buffered has played
    paused_at = transport.position
    transport.play()
    heard = play(output, RATE)
    assert np.any(heard) and transport.position > paused_at
    assert peaks(heard[RATE // 2 :, 0]) == pytest.approx([220, 330, 554.37], rel=0.004)


@pytest.mark.parametrize("paused_blocks", range(0, 40, 3))
def test_play_after_a_pause_sounds_at_once(paused_blocks):
    """Paused at half speed, the stretcher went on starting afresh on silence, a window and
    its search at a time: Play sounded up to 58 ms late, as that silence played out."""
    output, transport = player(np.full(T.size, 0.5, np.float32))
    output.transposer.speed = 0.5
    transport.play()
    play(output, RATE // 2)
    transport.pause()
    play(output, RATE // 4 + paused_blocks * 512)
    transport.play()
    heard = play(output, 2048)[:, 0]
    assert heard[0] != 0.0 and heard[FADE:].min() > 0.45


@pytest.mark.parametrize("how", ["pause", "stop", "seek"])
@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_pause_stop_and_seek_land_within_a_fade_at_any_pace_without_a_click(how, speed, semitones):
    """What the stretcher held of the song ahead played out first: pause and stop fell
    silent, and a seek was heard, 111 ms late at 50 % and 295 ms at 25 %."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    ratio = 2 ** (semitones / 12)
    natural = float(np.abs(np.diff(tone)).max()) * max(1.0, ratio)
    output, transport = player(tone)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    before = play(output, RATE // 2)
    if how == "pause":
        transport.pause()
    elif how == "stop":
        transport.stop()
    else:
        transport.seek(4 * RATE + 300)  # the tone's phase elsewhere: a cross-fade
    after = play(output, RATE // 4)
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural
    if how != "seek":  # silent after the fade and the transposer's kernel, at the key's ratio
        assert not after[round((FADE + 2 * output.transposer.reach) / min(1.0, ratio)) :].any()


def song_frame_of(heard: np.ndarray) -> float:
    return float((heard.mean() - 0.2) / 0.6 * T.size)


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_play_after_a_pause_goes_on_from_the_song_frame_heard(speed, semitones):
    """The transport had run ahead of what was heard by what the stretcher held: play after
    a pause went on 35 ms of song further on (at 50 % and at 25 %), skipping it."""
    output, transport = ramp_player(speed, semitones)
    transport.play()
    heard = song_frame_of(play(output, RATE // 2)[-64:, 0])
    transport.pause()
    play(output, RATE // 4)
    search = output.stretcher.search  # where a window is cut: WSOLA's own give
    assert abs(transport.position - heard) < search
    transport.play()
    # past the fade-in, in the first half window: the song at its pace, read at the ratio
    ratio = 2 ** (semitones / 12)
    again = song_frame_of(play(output, 1024)[2 * FADE : 2 * FADE + 64, 0])
    assert abs(again - 2 * FADE * ratio - heard) < search


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_a_seek_is_heard_within_a_fade_at_any_pace(speed, semitones):
    output, transport = ramp_player(speed, semitones)
    transport.play()
    play(output, RATE // 2)
    transport.seek(4 * RATE)
    # past the cross-fade, in the first half window: the song at its pace, read at the ratio
    ratio = 2 ** (semitones / 12)
    heard = song_frame_of(play(output, 1024)[2 * FADE : 2 * FADE + 64, 0])
    assert abs(heard - 2 * FADE * ratio - 4 * RATE) < output.stretcher.search


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.25])
def test_a_stem_muted_does_not_steer_where_the_windows_are_cut(speed):
    """A tone with a loud noise stem muted stays a pure tone: matched on every stem, the
    windows were cut where the noise continued best, and the tone's overlaps did not add in
    phase (what is not the tone rose from 45 dB below it to 25 dB)."""
    tone = (0.2 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    data = np.zeros((2, 2, T.size), np.float32)
    data[0] = tone
    data[1] = 0.3 * np.random.default_rng(0).standard_normal((2, T.size))
    stems = StemSet(("bass", "drums"), RATE, data)
    mixer = MixerState(stems.names)
    mixer.set_mute("drums")
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, mixer, transport, blocksize=512)
    output.transposer.speed = speed
    transport.play()
    heard = play(output, 2 * RATE)[RATE // 2 :, 0].astype(np.float64)
    piece = RATE // 20
    t = np.arange(piece) / RATE
    sines = np.stack([np.sin(2 * np.pi * 220 * t), np.cos(2 * np.pi * 220 * t)], axis=1)
    for a in range(0, heard.size - piece, piece):
        y = heard[a : a + piece]
        rest = y - sines @ np.linalg.lstsq(sines, y, rcond=None)[0]
        assert 10 * np.log10(np.mean(rest**2) / np.mean(y**2)) < -35


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_solo_mute_and_gain_are_heard_within_a_fade_at_any_pace_and_skip_nothing(speed, semitones):
    """The gains went in ahead of the stretcher, and what it held of the song ahead played
    out first: a mute was heard 110 ms late at 50 % and 193 ms at 25 %."""
    output, transport = steady_vocals_player(speed, semitones)
    transport.play()
    runs = []

    def hear(frames: int, block: int = 512) -> np.ndarray:
        out = np.empty((frames, 2), np.float32)
        for at in range(0, frames, block):
            output.clicker.render(out[at : at + block], lambda *run: runs.append(run[1:]))
        return out

    hear(RATE // 2)
    ratio = 2 ** (semitones / 12)
    settled = round(FADE / min(1.0, ratio)) + 2 * output.transposer.reach  # under 10 ms
    quieter = 0.3 * 10 ** (-6 / 20)
    for change, level in [
        (lambda mixer: mixer.set_gain_db("vocals", -6.0), quieter),
        (lambda mixer: mixer.set_mute("vocals", True), 0.0),
        (lambda mixer: mixer.set_solo("other", True), 0.0),
        (lambda mixer: mixer.set_mute("vocals", False), 0.0),  # "other" soloed alone
        (lambda mixer: mixer.set_solo("vocals", True), quieter),  # both soloed
        (lambda mixer: mixer.reset(), 0.3),
    ]:
        before = hear(1)  # a last frame as it was
        change(output.mixer)
        left = np.concatenate([before, hear(4096)])[:, 0]
        assert settled < 0.01 * RATE
        np.testing.assert_allclose(left[1 + settled :], level, atol=1e-4)
        assert float(np.abs(np.diff(left)).max()) < 1.5 * 0.3 * max(1.0, ratio) / FADE  # no click
    # the song frames heard run on, each from where the last ended: nothing skipped or heard
    # twice, and as many as the pace plays
    assert all(song == last + count for (last, count), (song, _) in pairwise(runs))
    played = RATE // 2 // 512 * 512 + 6 * (1 + 4096)
    said = runs[-1][0] + runs[-1][1] - runs[0][0]
    assert abs(said - speed * played) < output.stretcher.size * max(1.0, speed / ratio)
