"""The callback body: no clicks at mixer changes and cuts (ramps, fades), no clipping."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import FADE_SECONDS, LIMIT_KNEE, BlockRenderer, soft_limit
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import ORIGINAL, MixerState, render_mix
from stemgui.stems.stemset import StemSet

RATE = 44100
FADE = round(FADE_SECONDS * RATE)  # 220 frames
AT = 1037  # where things happen: not on a block edge
T = np.arange(2 * RATE) / RATE
SINE = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
NATURAL = float(np.abs(np.diff(SINE)).max())  # 0.0157: the sine's own largest step


@pytest.fixture()
def p():
    """A player of a 220 Hz sine at 0.5 in the first of four stems, the others silent."""
    data = np.zeros((4, 2, SINE.size), np.float32)
    data[0] = SINE
    stems = StemSet(("vocals", "drums", "bass", "other"), RATE, data)
    mixer = MixerState(stems.names)
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, mixer, transport)
    return SimpleNamespace(stems=stems, mixer=mixer, transport=transport, output=output)


def _largest_step(*blocks):
    return float(np.abs(np.diff(np.concatenate(blocks)[:, 0])).max())


def _around(p, action, before=AT, after=1000):
    """Play ``before`` frames, do ``action``, play ``after`` more: (before, after) blocks."""
    p.transport.play()
    a = p.output.pump(before).copy()
    action()
    return a, p.output.pump(after).copy()


@pytest.mark.parametrize(
    "action",
    [
        lambda m, t: m.set_mute("vocals"),
        lambda m, t: m.set_solo("drums"),
        lambda m, t: m.set_gain_db("vocals", -60.0),
        lambda m, t: m.set_gain_db("vocals", -6.0),
        lambda m, t: t.pause(),
        lambda m, t: t.stop(),
        lambda m, t: t.seek(t.position + RATE // 880),  # a quarter period on: sin -> cos
        lambda m, t: t.seek(t.position + RATE // 440),  # half a period: sin -> -sin
    ],
    ids=["mute", "solo", "gain -60 dB", "gain -6 dB", "pause", "stop", "seek 1/4", "seek 1/2"],
)
def test_no_step_larger_than_the_signal_s_own(p, action):
    """Before the fix: 0.436 at mute, solo, -60 dB, pause and stop, 0.20 at the seek."""
    a, b = _around(p, lambda: action(p.mixer, p.transport))
    assert _largest_step(a, b) < 1.25 * NATURAL


def test_a_gain_raised_ramps_up(p):
    """0 -> +12 dB stepped by 1.33; ramped, no step exceeds the louder sine's own."""
    a, b = _around(p, lambda: p.mixer.set_gain_db("vocals", 12.0))
    assert _largest_step(a, b) < 1.25 * NATURAL * 10 ** (12 / 20)


def test_a_mute_ramps_down_in_a_straight_line(p):
    _, b = _around(p, lambda: p.mixer.set_mute("vocals"))
    ramp = 1.0 - np.arange(1, FADE + 1) / FADE
    np.testing.assert_allclose(b[:FADE, 0], SINE[AT : AT + FADE] * ramp, atol=1e-6)
    assert not b[FADE:].any()  # then exactly silent
    assert p.transport.position == AT + 1000


def test_a_gain_change_arrives_at_the_new_gain_exactly(p):
    _, b = _around(p, lambda: p.mixer.set_gain_db("vocals", -6.0))
    half = 10 ** (-6 / 20)
    gains = 1.0 + (half - 1.0) * np.arange(1, FADE + 1) / FADE
    np.testing.assert_allclose(b[:FADE, 0], SINE[AT : AT + FADE] * gains, atol=1e-6)
    np.testing.assert_allclose(b[FADE:, 1], SINE[AT + FADE : AT + 1000] * half, atol=1e-6)


def test_a_slider_dragged_block_by_block_makes_no_zipper(p):
    """A gain that changes on every 64-frame block (a dragged slider) moves smoothly."""
    p.transport.play()
    blocks = [p.output.pump(AT).copy()]
    for db in np.linspace(0.0, -30.0, 40):
        p.mixer.set_gain_db("vocals", float(db))
        blocks.append(p.output.pump(64).copy())
    assert _largest_step(*blocks) < 1.25 * NATURAL


def test_pause_fades_out_without_moving_the_position(p):
    _, b = _around(p, p.transport.pause)
    ramp = 1.0 - np.arange(1, FADE + 1) / FADE
    np.testing.assert_allclose(b[:FADE, 0], SINE[AT : AT + FADE] * ramp, atol=1e-6)
    assert not b[FADE:].any()
    assert p.transport.position == AT  # play goes on from where it paused
    p.transport.play()
    c = p.output.pump(500)
    np.testing.assert_allclose(c[:FADE, 0], SINE[AT : AT + FADE] * (1.0 - ramp), atol=1e-6)
    np.testing.assert_allclose(c[FADE:, 0], SINE[AT + FADE : AT + 500], atol=1e-6)


def test_play_from_the_middle_fades_in(p):
    """Before the fix the first sample was 0.5 after silence."""
    p.transport.seek(RATE // 880)  # the sine's crest
    p.transport.play()
    block = p.output.pump(500)
    assert abs(float(block[0, 0])) <= 0.5 / FADE + 1e-6
    assert _largest_step(np.zeros((1, 2), np.float32), block) < 1.25 * NATURAL
    np.testing.assert_allclose(block[FADE:, 0], SINE[RATE // 880 + FADE : RATE // 880 + 500])


def test_a_seek_cross_fades_the_old_place_into_the_new(p):
    to = 30000
    _, b = _around(p, lambda: p.transport.seek(to))
    rise = np.arange(1, FADE + 1) / FADE
    expected = SINE[AT : AT + FADE] * (1.0 - rise) + SINE[to : to + FADE] * rise
    np.testing.assert_allclose(b[:FADE, 0], expected, atol=1e-6)
    np.testing.assert_allclose(b[FADE:, 0], SINE[to + FADE : to + 1000], atol=1e-6)
    assert p.transport.position == to + 1000


def test_a_loop_wrap_cross_fades(p):
    """Before the fix: a step of 0.28 where the loop wrapped."""
    start, end = 1000, 1000 + 37 + 2 * FADE + 50  # a wrap from one phase to another
    p.transport.set_loop(start, end)
    p.transport.seek(start)
    p.transport.play()
    a = p.output.pump(end - start - 10).copy()
    b = p.output.pump(600).copy()
    assert _largest_step(a, b) < 1.25 * NATURAL
    rise = np.arange(1, FADE + 1) / FADE
    expected = SINE[end : end + FADE] * (1.0 - rise) + SINE[start : start + FADE] * rise
    np.testing.assert_allclose(b[10 : 10 + FADE, 0], expected, atol=1e-6)


def test_cuts_closer_than_a_fade_stay_smooth(p):
    """Seek after seek, pause and play again, inside one another's fades."""
    p.transport.play()
    blocks = [p.output.pump(AT).copy()]
    for step in (
        lambda: p.transport.seek(20000),
        lambda: p.transport.seek(3333),
        p.transport.pause,
        p.transport.play,
        lambda: p.transport.seek(9000),
        lambda: p.mixer.set_mute("vocals"),
        lambda: p.mixer.set_mute("vocals", False),
    ):
        step()
        blocks.append(p.output.pump(FADE // 3).copy())
    blocks.append(p.output.pump(1000).copy())
    assert _largest_step(*blocks) < 1.25 * NATURAL


def test_resuming_after_waiting_for_the_separation_fades_in(p):
    stems = StemSet(p.stems.names, RATE, p.stems.data, frames_ready=RATE // 880)  # to the crest
    transport = Transport(stems.frames, RATE, lambda: stems.frames_ready)
    output = NullOutput(stems, p.mixer, transport)
    transport.play()
    output.pump(1000)
    assert transport.waiting
    stems.frames_ready = stems.frames
    block = output.pump(1000)
    assert abs(float(block[0, 0])) <= 0.5 / FADE + 1e-6
    assert _largest_step(block) < 1.25 * NATURAL


def test_gains_changed_while_stopped_apply_at_once(p):
    """Nothing to ramp from while silent: the first block plays the new gains (after the
    start's fade-in), not a ramp from the old ones."""
    p.mixer.set_gain_db("vocals", -6.0)
    p.transport.play()
    block = p.output.pump(500)
    half = 10 ** (-6 / 20)
    np.testing.assert_allclose(block[FADE:, 0], SINE[FADE:500] * half, atol=1e-6)


# --- the limiter --------------------------------------------------------------------------


def test_the_limiter_leaves_everything_below_the_knee_as_it_is():
    block = np.random.default_rng(0).uniform(-LIMIT_KNEE, LIMIT_KNEE, (4096, 2))
    block = block.astype(np.float32)
    block[0] = (LIMIT_KNEE, -LIMIT_KNEE)
    limited = block.copy()
    soft_limit(limited, np.empty((2, 1000), np.float32))
    np.testing.assert_array_equal(limited, block)


def test_the_limiter_bends_louder_samples_below_full_scale():
    x = np.linspace(-100.0, 100.0, 200001, dtype=np.float32)
    y = np.stack([x, -x], axis=1)
    soft_limit(y, np.empty((2, 4096), np.float32))
    assert np.abs(y).max() <= 1.0  # never past full scale, however loud
    assert np.all(np.diff(y[:, 0]) >= 0)  # louder in, never quieter out
    np.testing.assert_array_equal(y[:, 1], -y[:, 0])  # the same both ways
    over = np.abs(x) > LIMIT_KNEE
    assert np.all(np.abs(y[over, 0]) > LIMIT_KNEE) and np.all(np.abs(y[over, 0]) <= np.abs(x[over]))
    # known answer: past the knee by (1 - k) * atanh(1/2), half the way to full scale
    room = 1.0 - LIMIT_KNEE
    z = np.array([[LIMIT_KNEE + room * np.arctanh(0.5)] * 2], np.float32)
    soft_limit(z, np.empty((2, 1), np.float32))
    np.testing.assert_allclose(z, LIMIT_KNEE + room * 0.5, rtol=1e-6)


def test_a_stem_soloed_over_the_original_does_not_clip_the_device():
    """A while vocals are soloed: the vocals twice over the song, a peak of 1.35 and 12,970
    samples over full scale before the limiter. Exports stay as mixed."""
    t = np.arange(RATE) / RATE
    data = np.zeros((4, 2, RATE), np.float32)
    data[0] = 0.45 * np.sign(np.sin(2 * np.pi * 2 * t))  # drums
    data[3] = 0.45 * np.sin(2 * np.pi * 330 * t)  # vocals
    stems = StemSet(("drums", "bass", "other", "vocals"), RATE, data, mix=data.sum(0))
    mixer = MixerState(stems.names, original=True)
    mixer.set_solo("vocals")
    mixer.set_solo(ORIGINAL)
    transport = Transport(stems.frames, RATE)
    transport.play()
    heard = NullOutput(stems, mixer, transport).pump(RATE)
    mixed = render_mix(stems, mixer).T
    assert np.abs(mixed).max() > 1.3  # what the mix is, and what an export writes
    assert np.abs(heard).max() <= 1.0
    quiet = np.abs(mixed) <= LIMIT_KNEE
    quiet[: round(FADE_SECONDS * RATE)] = False  # the start's fade-in
    np.testing.assert_array_equal(heard[quiet], mixed[quiet])


def test_limiting_cuts_and_ramps_allocate_nothing_large(p):
    """A loud block (limited), a loop's wraps (cross-fades) and gain changes (ramps) in every
    callback of 4096 frames x 2 channels: no temporary of the block's size (32 KiB)."""
    import tracemalloc

    p.mixer.set_gain_db("vocals", 12.0)  # 2.0: past full scale
    p.transport.set_loop(1000, 4000)
    p.transport.play()
    out = np.empty((4096, 2), np.float32)
    for i in range(2):  # warm up the paths traced below
        p.mixer.set_gain_db("vocals", 12.0 - i % 2)
        p.output.pump(4096, out=out)
    tracemalloc.start()
    try:
        for i in range(20):
            p.mixer.set_gain_db("vocals", 12.0 - i % 2)
            p.output.pump(4096, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.abs(out).max() <= 1.0
    # Small objects (gains, a click's beat list) wait for the garbage collector: 11.5 KiB over
    # these 20 blocks when the test runs alone. A block-sized temporary would be 32 KiB.
    assert peak < 20 * 1024


def test_the_stems_side_by_side_mixed_as_they_play_are_what_render_plays():
    """What the stretcher lays out in time (``render_stems``, each channel of the mixer alone)
    and mixes as it plays (``mix_stems``): at speed 1 the same as ``render``, through gain
    ramps, solos of the original, a loop's wraps and the limiter."""
    rng = np.random.default_rng(1)
    data = (0.3 * rng.standard_normal((3, 2, RATE))).astype(np.float32)
    stems = StemSet(("drums", "bass", "vocals"), RATE, data, mix=data.sum(0))

    def player():
        mixer = MixerState(stems.names, original=True)
        transport = Transport(stems.frames, RATE)
        transport.set_loop(AT, AT + 3000)
        transport.play()
        return BlockRenderer(stems, mixer, transport)

    whole, side_by_side = player(), player()
    assert side_by_side.width == 4 * 2  # three stems and the original mix
    wide = np.empty((512, side_by_side.width), np.float32)
    for block in range(40):
        for renderer in (whole, side_by_side):
            if block == 5:
                renderer.mixer.set_gain_db("vocals", -12.0)
            if block == 9:
                renderer.mixer.set_solo(ORIGINAL)  # loud: the limiter bends it
            if block == 15:
                renderer.mixer.set_mute("drums")
        expected = np.empty((512, 2), np.float32)
        whole.render(expected)
        heard = np.empty((512, 2), np.float32)
        side_by_side.render_stems(wide)
        side_by_side.mix_stems(wide, heard)
        np.testing.assert_allclose(heard, expected, atol=2e-6)
