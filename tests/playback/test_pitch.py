"""Playing in another key at the same pace (``Transposer``): every note the right number of
semitones off, as loud, the song at its pace (or the speed's), nothing above the new Nyquist
folded back, and no click in or out of a transposition (0 semitones at speed 1 passes the
renderer's samples untouched: ``test_stretch_sound``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.playback.stretch_rig import CHORD, RATE, SECONDS, T, peaks, play, player

NOTES = [220, 330, 554.37]


@pytest.mark.parametrize(
    ("semitones", "speed"), [(2, 1.0), (-3, 1.0), (6, 1.0), (-6, 1.0), (2, 0.75)]
)
def test_every_note_moves_by_the_semitones_and_the_song_keeps_its_pace(semitones, speed):
    output, transport = player()
    output.transposer.semitones, output.transposer.speed = semitones, speed
    transport.play()
    frames = 3 * RATE
    heard = play(output, frames)[:, 0]
    steady = heard[RATE // 2 :]
    ratio = 2 ** (semitones / 12)
    assert peaks(steady) == pytest.approx([f * ratio for f in NOTES], rel=0.004)  # 7 cents
    song_at = (np.arange(steady.size) + RATE // 2) * speed
    level = (1.0 - 0.3 * song_at / RATE / SECONDS) * np.sqrt((0.2**2 + 0.15**2 + 0.1**2) / 2)
    rms = np.sqrt(np.mean(steady.astype(np.float64) ** 2))
    assert 20 * np.log10(rms / np.sqrt(np.mean(level**2))) == pytest.approx(0.0, abs=0.5)
    stretcher = output.stretcher
    buffered = (stretcher.size + 2 * stretcher.search + stretcher.hop) * 1.5 + 512
    assert 0 <= transport.position - frames * speed <= buffered


@pytest.mark.parametrize(("semitones", "speed"), [(-6, 1.5), (-5, 2.0), (6, 0.25)])
def test_the_fastest_and_slowest_speeds_keep_their_pace_in_any_key(semitones, speed):
    """150 % a tritone down stretches the song by 2.12, past the 2 a speed may be; a quarter
    speed a tritone up by 0.18: the song still moves at the speed (it went at 141 % and 35 %).
    Its strongest note within 10 cents: at twice the pace, in the song's key too, the windows
    lie far apart and follow it less closely."""
    output, transport = player()
    output.transposer.semitones, output.transposer.speed = semitones, speed
    transport.play()
    frames = 2 * RATE
    heard = play(output, frames)[RATE // 2 :, 0]
    assert peaks(heard, 1) == pytest.approx([220 * 2 ** (semitones / 12)], rel=0.006)
    stretcher = output.stretcher
    buffered = (stretcher.size + 2 * stretcher.search + stretcher.hop) * 1.5 + 512
    assert 0 <= transport.position - frames * speed <= buffered


def test_going_up_nothing_above_the_new_nyquist_folds_back():
    """An 18 kHz tone up a tritone would be 25.5 kHz: above 22.05 kHz it must vanish, not come
    back down as an 18.7 kHz tone."""
    tone = (0.5 * np.sin(2 * np.pi * 18000 * T)).astype(np.float32)
    output, transport = player(tone)
    output.transposer.semitones = 6
    transport.play()
    heard = play(output, RATE)[RATE // 2 :, 0]
    assert 20 * np.log10(np.sqrt(np.mean(heard**2)) / (0.5 / np.sqrt(2))) < -40


@pytest.mark.parametrize("semitones", [3, -4])
def test_into_and_out_of_a_transposition_without_a_click(semitones):
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    ratio = 2 ** (semitones / 12)
    natural = float(np.abs(np.diff(tone)).max()) * max(1.0, ratio)
    output, transport = player(tone)
    transport.play()
    blocks = [play(output, RATE // 2)]
    output.transposer.semitones = semitones
    blocks.append(play(output, RATE // 2))
    output.transposer.semitones = 0
    blocks.append(play(output, RATE // 2))
    joined = np.concatenate(blocks)[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural
    assert peaks(blocks[1][RATE // 4 :, 0], 1) == pytest.approx([220 * ratio], rel=0.004)
    assert peaks(blocks[2][RATE // 4 :, 0], 1) == pytest.approx([220], rel=0.004)
    assert not output.stretcher.active or output.stretcher.speed == 1.0


@pytest.mark.parametrize(
    ("semitones", "speed", "block"), [(4, 1.0, 512), (6, 0.25, 2048), (-6, 2.0, 64), (3, 0.5, 7)]
)
def test_the_heard_song_frames_are_said_block_after_block_each_once(semitones, speed, block):
    """What the chain says it plays (the click and the playhead go by it) follows on run after
    run, every block of output saying its part, at the song's pace times the speed. The
    transposer said a run from the stretcher's half window around each block, its count taken
    for frames of output: the song said leapt by up to 134 ms, back by up to 25 ms, and at 25 %
    +6 five blocks in six said nothing."""
    output, transport = player(CHORD)
    output.transposer.semitones, output.transposer.speed = semitones, speed
    transport.play()
    runs = []
    out = np.zeros((block, 2), np.float32)
    blocks = 2 * RATE // block
    for b in range(blocks):
        output.clicker.render(out, lambda o, s, c, b=b: runs.append((b * block + o, s, c)))
    on = [s == s0 + c0 for (_, s0, c0), (_, s, _) in itertools.pairwise(runs)]
    assert all(on)  # each run on from the last: no song said twice, none left out
    said = {o // block for o, _, _ in runs}
    assert said >= set(range(2 * max(1, 2048 // block), blocks))  # past the first windows
    # the song moves at the speed: a steady lead (the first half window at the song's pace),
    # give or take where the windows are cut
    lead = [s - o * speed for o, s, _ in runs if o > RATE // 2]
    assert max(lead) - min(lead) <= 2 * output.stretcher.search
