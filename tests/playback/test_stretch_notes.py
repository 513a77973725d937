"""Where the stretcher's notes begin and end (``Stretcher``, WSOLA): a note that stops or
starts after silence heard once, each beat where the speed puts it, short notes held for their
length over the speed."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from stemgui.playback.stretch import MAX_STRETCH, Stretcher
from tests.playback.stretch_rig import RATE, T, assert_ends_once, play, player


@pytest.mark.parametrize("stop", ["silence", "the song's end"])
@pytest.mark.parametrize(
    ("speed", "semitones"), [(0.25, 0), (0.5, 0), (0.5, 3), (0.25, 6), (0.35, 0)]
)
def test_a_tone_that_stops_at_once_ends_once_at_any_pace(stop, speed, semitones):
    """Slower than about half speed, each window cut near where the speed puts it played the
    tone's last notes again after the one before had fallen silent: the tone came back at
    0.21 and 0.26 after it first fell (at 25 %), a stutter 40 ms long."""
    frames = round(0.3 * RATE)
    tone = (0.3 * np.sin(2 * np.pi * 440 * T[:frames])).astype(np.float32)
    signal = np.concatenate([tone, np.zeros(RATE, np.float32)]) if stop == "silence" else tone
    output, transport = player(signal)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    heard = play(output, round(frames / speed) + RATE // 2)[:, 0]
    assert_ends_once(heard, frames / speed, 2 * output.stretcher.size / speed)


@pytest.mark.parametrize(("speed", "semitones"), [(0.25, 0), (0.35, 0), (0.5, 0), (0.5, 6)])
@pytest.mark.parametrize("silence", [0.1, 0.1234, 0.3])
def test_a_tone_after_silence_comes_in_once_at_any_pace(speed, semitones, silence):
    """Slower than about half speed, a window cut near where the speed puts it began silent
    after the one before had brought the tone in: it came in, fell back and came in again (a
    flam: 0.1, 0.01, 0.0, 0.0 and 0.23 at 25 % after 0.1 s of silence, 10 ms at a time)."""
    lead = round(silence * RATE)
    signal = np.zeros(lead + RATE // 2, np.float32)
    signal[lead:] = 0.3 * np.sin(2 * np.pi * 440 * T[: RATE // 2])
    output, transport = player(signal)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    heard = play(output, round((lead + RATE // 4) / speed))[:, 0]
    # where the speed puts it, less what the windows lay the song ahead by, to a window
    hop, stretch = output.stretcher.hop, speed / 2 ** (semitones / 12)
    ahead = hop * (1 - stretch) / speed + 2 * hop
    assert np.argmax(np.abs(heard) > 1e-3) > lead / speed - ahead
    chunk = RATE // 100
    level = np.abs(heard[: heard.size // chunk * chunk]).reshape(-1, chunk).max(axis=1)
    came = int(np.argmax(level > 1e-3))
    whole = came + int(np.argmax(level[came:] > 0.28))
    assert np.all(np.diff(level[came : whole + 1]) > 0)  # only rises,
    assert whole - came <= 3 and level[whole:].min() > 0.28  # to the tone, held


@pytest.mark.parametrize(("speed", "semitones"), [(0.25, 0), (0.5, 0), (0.5, 6), (0.75, -3)])
@pytest.mark.parametrize("where", [0.2, 1.0])  # (at 0 the start fades in)
def test_a_click_in_silence_is_heard_once_at_a_slower_pace(speed, semitones, where):
    """At 25 % a click between silences was heard twice, 50 ms apart: the window after the
    one that played it went back to where the speed put it, and played it again."""
    signal = np.zeros(RATE, np.float32)
    signal[min(round(where * RATE), RATE - 1)] = 0.9  # 1.0: the last frame
    output, transport = player(signal)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    heard = np.abs(play(output, round(1.2 * RATE / speed))[:, 0])
    loud = np.flatnonzero(heard > 0.1)
    assert loud.size and loud[-1] - loud[0] < output.stretcher.hop  # one click


def floor(kind: str, frames: int) -> np.ndarray:
    """(frames,) what a separated stem has under its notes: white noise at -60 or -50 dBFS
    (RMS), a bass line's bleed 40 dB under the hits (a note a half second, 0.006), or a pad
    held at -45 dBFS (RMS; A3)."""
    t = np.arange(frames) / RATE
    if kind == "bleed":
        pitch = 55 * 2 ** (np.floor(2 * t) % 4 * 3 / 12)
        under = 0.006 * np.sin(2 * np.pi * np.cumsum(pitch) / RATE)
    elif kind == "pad":
        under = 10 ** (-45 / 20) * 2**0.5 * np.sin(2 * np.pi * 220 * t)
    else:
        under = 10 ** (int(kind) / 20) * np.random.default_rng(1).standard_normal(frames)
    return under.astype(np.float32)


def clicks_heard(
    speed: float, beat: int, start: int, song: int, under: str = "", sought_from: int | None = None
) -> tuple:
    """Clicks every ``beat`` frames, ``song`` frames of them stretched by ``speed`` from
    ``start`` on, over ``floor(under)`` (digital silence: ""): (the output frames they are
    heard at, the song frames they are at, the runs said: (output frame, song frame, count)).
    ``sought_from``: played from there for 10 blocks first, then sought to ``start``."""
    clicks = np.zeros(start + song + RATE, np.float32)
    for at in range(0, clicks.size, beat):
        clicks[at : at + 64] = 0.6 * np.exp(-np.arange(64) / 16)
    if under:
        clicks += floor(under, clicks.size)
    output, transport = player(clicks)
    stretcher = Stretcher(output.renderer, 2, RATE)
    stretcher.speed = speed
    transport.seek(start if sought_from is None else sought_from)
    transport.play()
    if sought_from is not None:
        for _ in range(10):
            stretcher.render(np.zeros((512, 2), np.float32))
        transport.seek(start)
    runs, blocks = [], []
    for block in range(round(song / speed) // 512):
        out = np.zeros((512, 2), np.float32)
        stretcher.render(
            out, lambda at, song, count, b=block: runs.append((b * 512 + at, song, count))
        )
        blocks.append(out[:, 0])
    loud = np.abs(np.concatenate(blocks)) > 0.05
    onsets = np.flatnonzero(np.diff(loud.astype(np.int8), prepend=0) == 1)
    beats = np.arange(beat * (start // beat + 1), start + song, beat)[: onsets.size]
    return onsets, beats, runs


@pytest.mark.parametrize("speed", [0.25, 0.35, 0.5, 0.75, 1.5])
def test_each_beat_plays_where_the_pace_puts_it_and_is_said_so(speed):
    """Played from a quarter second in, the song frame ``start + t * speed`` plays at ``t`` and
    the runs say so: every beat came early by hop * (1 - speed) / speed (23 ms at 50 %, late
    at 150 %), and more in silence (-34 ms at 50 %), where the song came in at a window's
    middle, not where it was due. Slower than about half speed, the cut that brings a beat in
    where it is due could lie past the search, and one came up to 21 ms early at 25 % (14 ms
    here, 8 ms at 35 %)."""
    beat, start = RATE // 2, RATE // 4  # 120 BPM
    onsets, beats, runs = clicks_heard(speed, beat, start, 2 * RATE)
    assert onsets.size >= 3
    np.testing.assert_allclose(onsets, (beats - start) / speed, atol=RATE / 1000)  # 1 ms
    # each run's song frames laid evenly up to the next one's
    said = [
        song + (onset - at) * count / (following - at)
        for (at, song, count), (following, _, _) in pairwise(runs)
        for onset in onsets
        if at <= onset < following
    ]
    np.testing.assert_allclose(said, beats, atol=RATE / 1000)


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.75, 1.5])
@pytest.mark.parametrize("under", ["-60", "-50", "bleed", "pad"])
def test_each_beat_over_a_stem_s_quiet_floor_plays_once_where_the_pace_puts_it(speed, under):
    """A separated stem is never exactly silent: over noise at -60 or -50 dBFS, a bass line's
    bleed 40 dB under the hits or a pad at -45 dBFS, only digital silence was silence, the
    floor between the beats was taken for a note, and the beats were heard up to 8 times
    each at 25 %, 4 at 50 % and 3 at 75 % (the windows, cut near where the speed puts them,
    played them again), up to 90, 38 and 21 ms off, and at 150 % one in four was lost."""
    beat, start = RATE // 2, RATE // 4
    onsets, beats, _ = clicks_heard(speed, beat, start, 2 * RATE, under)
    assert onsets.size == 4  # the beats in the 2 s, each once,
    np.testing.assert_allclose(onsets, (beats - start) / speed, atol=RATE / 1000)  # on time


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.75])
def test_a_pad_held_under_the_beats_stays_continuous(speed):
    """Where the song stops and starts is relative to the notes around: a pad 40 dB under
    the beats is taken for silence there, and the windows cut in it are cut where the beats
    fall, not where they continue it. It goes on, never falling silent: 5 ms at a time up to
    each hit and from 40 ms after it, never more than 3 dB under its level (-45 dBFS; it
    dipped 5 dB just before the hits at 75 %, where the beat's window joined)."""
    beat, start, frames = RATE // 2, RATE // 4, 2 * RATE
    signal = floor("pad", start + frames + RATE)
    for at in range(0, signal.size, beat):
        signal[at : at + 64] += 0.6 * np.exp(-np.arange(64) / 16)
    output, transport = player(signal)
    output.transposer.speed = speed
    transport.seek(start)
    transport.play()
    heard = play(output, round(frames / speed))[:, 0]
    loud = np.flatnonzero(np.abs(heard) > 0.1)
    step, away = RATE // 200, np.ones(heard.size, bool)
    for at in loud:
        away[max(0, at - RATE // 1000) : at + RATE // 25] = False
    levels = [
        np.sqrt(np.mean(heard[at : at + step] ** 2))
        for at in range(RATE // 10, heard.size - step, step)  # (after Play fades in)
        if away[at : at + step].all()
    ]
    assert len(levels) > 100 and 20 * np.log10(min(levels)) > -48


@pytest.mark.parametrize("speed", [2.0, MAX_STRETCH])
@pytest.mark.parametrize("bpm", [90, 150])
def test_faster_than_one_and_a_half_each_beat_plays_where_the_pace_puts_it(speed, bpm):
    """Faster than 1.5 the song after a silence can be due in a window past what was read
    for its search: unread, it was taken for none to come, the window was cut silent, and
    the next brought the beat in at its middle, late: up to 5 ms at 200 % and 11 ms at 283 %
    (the most the stretcher takes: 200 % down 6 semitones). The beats in the first half
    second of song after Play are left out: the windows take back what the first half
    window, played as it comes, did not skip, a quarter window at a time."""
    beat, start = round(RATE * 60 / bpm), RATE // 4
    onsets, beats, _ = clicks_heard(speed, beat, start, 8 * RATE)
    later = beats - start > RATE // 2
    assert np.count_nonzero(later) >= 10
    np.testing.assert_allclose(onsets[later], (beats[later] - start) / speed, atol=RATE / 500)


def envelope(heard: np.ndarray, width: int) -> np.ndarray:
    """(frames,): the largest |sample| of the last ``width`` frames at each frame."""
    padded = np.concatenate([np.zeros(width - 1, np.float32), np.abs(heard)])
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


@pytest.mark.parametrize("under", ["", "-60", "-50", "pad"])
@pytest.mark.parametrize("speed", [0.25, 0.5])
@pytest.mark.parametrize(("note", "gap"), [(0.05, 0.1), (0.06, 0.06), (0.08, 0.1), (0.08, 0.06)])
def test_short_notes_sound_once_each_for_their_length_over_the_speed(speed, note, gap, under):
    """At 25 % such notes sounded for 40-59 % of that on average (none at all, some), two in
    eight were attacked twice, and they came hundreds of ms off the beat: the windows, cut
    near where the speed aims them, could not be cut inside a note shorter than a window and
    its search, so they followed on at 100 %, ran ahead of the song, waited in the silence
    after, and played the notes before again. (Notes shorter than a half window, 23 ms, play
    at their own length; a gap shorter than a window is not lengthened.)"""
    length, pause, lead = round(note * RATE), round(gap * RATE), RATE // 10
    starts = lead + np.arange(8) * (length + pause)
    signal = np.zeros(starts[-1] + RATE // 2, np.float32)
    for start in starts:
        signal[start : start + length] = 0.3 * np.sin(2 * np.pi * 440 * T[:length])
    if under:
        signal += floor(under, signal.size)
    output, transport = player(signal)
    output.transposer.speed = speed
    transport.play()
    level = envelope(play(output, round(signal.size / speed))[:, 0], RATE // 440 + 1)
    # an onset: the tone at half its level or more, after it had fallen to a tenth or less
    onsets, quiet = [], True
    for at in np.flatnonzero((level > 0.15) | (level < 0.03)):
        if quiet and level[at] > 0.15:
            onsets.append(at)
        quiet = level[at] < 0.03
    assert len(onsets) == starts.size  # each note once,
    np.testing.assert_allclose(onsets, starts / speed, atol=RATE / 1000)  # on time (1 ms),
    sounding = [np.count_nonzero(level[a:b] > 0.15) for a, b in pairwise([*onsets, level.size])]
    np.testing.assert_allclose(sounding, length / speed, rtol=0.2)  # for its length / speed
