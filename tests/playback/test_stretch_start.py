"""Where the first beat after Play, or after a seek, is heard at another speed
(``Stretcher._start``): where the speed puts it, as every beat after it is, and said so; a pad
under the beats plays on up to it."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from tests.playback.stretch_rig import RATE, play, player
from tests.playback.test_stretch_beats import PAD_DB, pad_under_beats
from tests.playback.test_stretch_notes import clicks_heard

BEAT = RATE // 2  # 120 BPM


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.75, 1.5])
@pytest.mark.parametrize("before", [0.002, 0.01, 0.02, 0.04])
@pytest.mark.parametrize("under", ["", "pad"])
@pytest.mark.parametrize("sought", [False, True], ids=["from a stop", "sought"])
def test_the_first_beat_after_play_plays_where_the_pace_puts_it(speed, before, under, sought):
    """Play started ``before`` seconds ahead of a beat, from a stop or as it played: the first
    half window played the song as it came, and the first window's second half went on at
    100 % too, so a beat in them was heard ``before`` after Play, not ``before`` over the
    speed: up to 120 ms early at 25 % (40 ms at 50 %, 13 ms at 75 %; 13 ms late at 150 %),
    the beats after it on time. Over silence, or a pad 40 dB under the beats."""
    start = BEAT - round(before * RATE)
    sought_from = 3 * BEAT + BEAT // 4 if sought else None  # (between beats: the cut is quiet)
    onsets, _, runs = clicks_heard(speed, BEAT, start, BEAT, under, sought_from)
    assert onsets.size == 1  # the beat, once,
    assert abs(onsets[0] - (BEAT - start) / speed) <= RATE / 1000  # where it is due (1 ms),
    said = [
        song + (onsets[0] - at) * count / (following - at)
        for (at, song, count), (following, _, _) in pairwise(runs)
        if at <= onsets[0] < following
    ]
    assert said and abs(said[0] - BEAT) <= RATE / 1000  # and the runs say it plays there


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("before", [0.02, 0.04])
@pytest.mark.parametrize("hz", [55.0, 146.83, 220.0])
def test_a_pad_under_the_beats_plays_on_up_to_the_first_beat_after_play(speed, before, hz):
    """On time, the windows before that beat lie before where play started: silence there,
    the pad (-45 dBFS: A1, D3, A3) fell silent up to the beat (and 28 dB under its level just
    before it at 25 %). The quiet before the beat, mirrored, stands for the song before: the
    pad plays on, within 3 dB 10 ms at a time (mirrored with the renderer's fade-in at Play
    in it, it dipped up to 13 dB)."""
    output, transport = player(pad_under_beats(hz, 2 * RATE))
    output.transposer.speed = speed
    transport.seek(BEAT - round(before * RATE))
    transport.play()
    heard = play(output, round((before + 0.05) * RATE / speed))[:, 0].astype(np.float64)
    onset = int(np.argmax(np.abs(heard) > 0.05))
    assert abs(onset - before * RATE / speed) <= RATE / 1000  # the beat, on time
    step, fade = RATE // 100, RATE // 200  # 10 ms at a time, after Play's fade-in (5 ms)
    energy = np.concatenate([[0.0], np.cumsum(heard[fade:onset] ** 2)])
    rms = np.sqrt((energy[step:] - energy[:-step]) / step)
    assert 20 * np.log10(rms.min()) - PAD_DB >= -3.0
