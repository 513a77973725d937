"""Mixer laws (solo/mute truth table, dB law), mix_block against numpy, render_mix."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from stemgui.stems.mixer import (
    MAX_DB,
    MIN_DB,
    ORIGINAL,
    MixerState,
    StemControl,
    audible,
    db_to_linear,
    mix_block,
    render_mix,
)
from stemgui.stems.stemset import StemSet

NAMES = ("drums", "bass", "vocals")


def _stems(frames=2000, channels=2, sources=3, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((sources, channels, frames)).astype(np.float32)
    return StemSet([f"s{i}" for i in range(sources)], 44100, data, **kwargs)


# --- laws ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=6)))
def test_solo_mute_truth_table(flags):
    """Every combination of solo and mute over 3 stems, against the law written out by hand."""
    solos, mutes = flags[:3], flags[3:]
    mixer = MixerState(NAMES)
    for name, solo, mute in zip(NAMES, solos, mutes):
        mixer.set_solo(name, solo)
        mixer.set_mute(name, mute)
    any_solo = solos[0] or solos[1] or solos[2]
    expected = []
    for solo, mute in zip(solos, mutes):
        if mute:
            expected.append(False)
        elif any_solo:
            expected.append(solo)
        else:
            expected.append(True)
    assert tuple(mixer.is_audible(n) for n in NAMES) == tuple(expected)
    assert mixer.gains == tuple(1.0 if e else 0.0 for e in expected)


def test_truth_table_spot_checks():
    c = StemControl
    assert audible([c(), c(), c()]) == (True, True, True)
    assert audible([c(solo=True), c(), c()]) == (True, False, False)
    assert audible([c(solo=True, mute=True), c(), c()]) == (False, False, False)
    assert audible([c(mute=True), c(solo=True), c(solo=True)]) == (False, True, True)


@pytest.mark.parametrize(
    "db, factor",
    [(0.0, 1.0), (-6.0, 0.501187), (-20.0, 0.1), (6.0, 1.995262), (-40.0, 0.01), (12.0, 3.981072)],
)
def test_db_law(db, factor):
    assert db_to_linear(db) == pytest.approx(factor, rel=1e-6)


@pytest.mark.parametrize("db", [-np.inf, MIN_DB, MIN_DB - 1.0, -1000.0])
def test_minimum_and_minus_infinity_are_silent(db):
    assert db_to_linear(db) == 0.0


@pytest.mark.parametrize("db", [np.nan, np.inf, MAX_DB + 0.1])
def test_bad_gains_are_refused(db):
    with pytest.raises(ValueError):
        db_to_linear(db)
    with pytest.raises(ValueError):
        MixerState(NAMES).set_gain_db("bass", db)


def test_gains_fold_stem_and_master():
    mixer = MixerState(NAMES)
    mixer.set_gain_db("drums", -20.0)
    mixer.set_gain_db("bass", -np.inf)
    mixer.set_master_db(-6.0)
    drums, bass, vocals = mixer.gains
    assert drums == pytest.approx(0.1 * 0.501187, rel=1e-5)
    assert bass == 0.0
    assert vocals == pytest.approx(0.501187, rel=1e-5)
    mixer.reset()
    assert mixer.gains == (1.0, 1.0, 1.0)


def test_snapshot_is_an_immutable_tuple_replaced_on_change():
    mixer = MixerState(NAMES)
    before, version = mixer.gains, mixer.version
    assert isinstance(before, tuple)
    mixer.set_mute("vocals")
    assert mixer.gains is not before and before == (1.0, 1.0, 1.0)  # the old one is untouched
    assert mixer.gains == (1.0, 1.0, 0.0) and mixer.version == version + 1


def test_unknown_stem_is_a_key_error():
    with pytest.raises(KeyError, match="drums, bass, vocals"):
        MixerState(NAMES).set_solo("piano")


def test_concurrent_edits_leave_a_consistent_snapshot():
    mixer = MixerState(NAMES)

    def toggle(name):
        for i in range(200):
            mixer.set_mute(name, i % 2 == 0)

    threads = [threading.Thread(target=toggle, args=(n,)) for n in NAMES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each thread's last edit un-mutes its stem (i = 199 is odd).
    assert mixer.gains == (1.0, 1.0, 1.0)
    assert mixer.version == 600


# --- mix_block ----------------------------------------------------------------------------


def _reference(stems, start, frames, gains):
    """(frames, channels): the plain numpy sum, silence past frames_ready."""
    out = np.zeros((frames, stems.channels), np.float64)
    stop = min(start + frames, stems.frames_ready)
    if stop > start:
        block = stems.data[:, :, start:stop].astype(np.float64)
        out[: stop - start] = np.einsum("s,scf->fc", np.asarray(gains, np.float64), block)
    return out


@pytest.mark.parametrize(
    "gains", [(1.0, 1.0, 1.0), (0.5, 0.0, 2.0), (0.0, 0.0, 0.0), (0.0, 0.3, 0.0), (0.1, 0.2, 0.7)]
)
@pytest.mark.parametrize("start, frames", [(0, 512), (100, 333), (1900, 512), (2000, 64), (0, 0)])
def test_mix_block_equals_numpy_sum(gains, start, frames):
    stems = _stems()
    out = np.full((frames, 2), 7.0, np.float32)  # garbage that must be overwritten
    mix_block(stems, start, frames, gains, out)
    np.testing.assert_allclose(out, _reference(stems, start, frames, gains), rtol=1e-6, atol=1e-6)


def test_mix_block_with_a_small_scratch_and_a_larger_out():
    stems = _stems()
    out = np.full((1000, 2), 7.0, np.float32)
    scratch = np.empty((2, 7), np.float32)  # pieces of 7 frames
    gains = (0.25, 1.5, -1.0)
    mix_block(stems, 50, 900, gains, out, scratch=scratch)
    np.testing.assert_allclose(out[:900], _reference(stems, 50, 900, gains), rtol=1e-6, atol=1e-6)
    assert np.all(out[900:] == 7.0)  # past `frames`: untouched


def test_mix_block_writes_in_place_without_rebinding():
    stems = _stems()
    out = np.zeros((256, 2), np.float32)
    ptr = out.__array_interface__["data"][0]
    mix_block(stems, 0, 256, (1.0, 1.0, 1.0), out, scratch=np.empty((2, 256), np.float32))
    assert out.__array_interface__["data"][0] == ptr and out.any()


def test_frames_beyond_frames_ready_are_silent():
    stems = _stems(frames_ready=1000)
    out = np.full((512, 2), 7.0, np.float32)
    mix_block(stems, 800, 512, (1.0, 1.0, 1.0), out)
    np.testing.assert_allclose(out[:200], stems.data[:, :, 800:1000].sum(0).T, rtol=1e-6, atol=1e-6)
    assert not out[200:].any()
    mix_block(stems, 1200, 512, (1.0, 1.0, 1.0), out)
    assert not out.any()


def test_mix_block_accepts_a_mixer_state():
    stems = _stems()
    mixer = MixerState(stems.names)
    mixer.set_solo("s1")
    out = np.empty((100, 2), np.float32)
    mix_block(stems, 0, 100, mixer, out)
    np.testing.assert_array_equal(out, stems.data[1, :, :100].T)


def test_mix_block_refuses_a_wrong_buffer():
    stems = _stems()
    with pytest.raises(ValueError):
        mix_block(stems, 0, 100, (1.0, 1.0, 1.0), np.empty((50, 2), np.float32))
    with pytest.raises(ValueError):
        mix_block(stems, 0, 100, (1.0, 1.0, 1.0), np.empty((100, 1), np.float32))
    with pytest.raises(ValueError):
        mix_block(stems, 0, 100, (1.0, 1.0), np.empty((100, 2), np.float32))


@pytest.mark.parametrize("scratch", [None, np.empty((1, 7), np.float32)])
def test_mix_block_ramps_each_gain_in_a_straight_line(scratch):
    """gains_from: frame i of stem s at gains_from[s] + (gains[s] - gains_from[s]) * (i + 1) /
    frames, the last frame at gains[s] (what the player does at a change of gain)."""
    stems = _stems()
    start, frames = 300, 100
    before, after = (1.0, 0.0, 0.5), (0.0, 0.0, 2.0)  # muted, silent throughout, raised
    out = np.full((frames, 2), 7.0, np.float32)
    mix_block(stems, start, frames, after, out, scratch=scratch, gains_from=before)
    w = np.arange(1, frames + 1) / frames
    ramps = np.asarray(before)[:, None] + (np.subtract(after, before)[:, None]) * w  # (s, f)
    block = stems.data[:, :, start : start + frames].astype(np.float64)
    np.testing.assert_allclose(out, np.einsum("sf,scf->fc", ramps, block), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[-1], _reference(stems, start + frames - 1, 1, after)[0])
    with pytest.raises(ValueError):
        mix_block(stems, start, frames, after, out, gains_from=(1.0, 1.0))


def test_mix_block_ramping_from_the_same_gains_is_the_plain_mix():
    stems = _stems()
    gains = (0.25, 1.5, -1.0)
    out = np.empty((512, 2), np.float32)
    mix_block(stems, 10, 512, gains, out, gains_from=gains)
    np.testing.assert_array_equal(out, render_mix(stems, gains, start=10, stop=522).T)


def test_muted_stems_are_not_read():
    """NaN in a silent stem stays out of the mix: a gain of 0 skips the stem."""
    stems = _stems()
    stems.data[0] = np.nan
    out = np.empty((100, 2), np.float32)
    mix_block(stems, 0, 100, (0.0, 1.0, 1.0), out)
    assert np.isfinite(out).all()


# --- render_mix ---------------------------------------------------------------------------


@pytest.mark.parametrize("block_frames", [64, 1000, 1 << 16])
def test_render_mix_is_what_the_player_hears(block_frames):
    stems = _stems(frames=3001)
    mixer = MixerState(stems.names)
    mixer.set_gain_db("s0", -6.0)
    mixer.set_mute("s2")
    mixer.set_master_db(-3.0)
    rendered = render_mix(stems, mixer.gains, block_frames=block_frames)
    assert rendered.shape == (2, 3001) and rendered.dtype == np.float32
    expected = _reference(stems, 0, 3001, mixer.gains).T
    np.testing.assert_allclose(rendered, expected, rtol=1e-6, atol=1e-6)
    played = np.empty((3001, 2), np.float32)
    mix_block(stems, 0, 3001, mixer.gains, played)
    np.testing.assert_array_equal(rendered, played.T)


def test_render_mix_of_a_range():
    stems = _stems()
    rendered = render_mix(stems, (1.0, 0.0, 0.0), start=500, stop=700)
    np.testing.assert_array_equal(rendered, stems.data[0, :, 500:700])


# --- the original mix as a channel ----------------------------------------------------------


def test_original_channel_is_heard_only_when_soloed():
    stemset = _stems(frames=500, mix=np.full((2, 500), 0.5, np.float32))
    mixer = MixerState(stemset.names, original=True)
    assert mixer.names == (*stemset.names, ORIGINAL) and mixer.stems == stemset.names
    assert mixer.gains == (1.0, 1.0, 1.0, 0.0)  # untouched: the stems, not the original
    assert not mixer.is_audible(ORIGINAL)
    np.testing.assert_allclose(render_mix(stemset, mixer), stemset.data.sum(0), atol=1e-6)

    mixer.set_solo(ORIGINAL)  # A/B: only the song as it was
    mixer.set_master_db(-6.0)
    half = db_to_linear(-6.0)
    assert mixer.gains == (0.0, 0.0, 0.0, pytest.approx(half))
    np.testing.assert_allclose(render_mix(stemset, mixer), 0.5 * half, rtol=1e-6)

    mixer.set_solo("s2")  # a stem over the original
    expected = (stemset.data[2] + 0.5) * half
    np.testing.assert_allclose(render_mix(stemset, mixer), expected, rtol=1e-5, atol=1e-6)
    mixer.set_mute(ORIGINAL)  # muted wins over soloed, here too
    assert mixer.gains == (0.0, 0.0, pytest.approx(half), 0.0)
    mixer.set_mute(ORIGINAL, False)
    mixer.set_gain_db(ORIGINAL, -60.0)
    assert mixer.gains[-1] == 0.0
    mixer.reset()
    assert mixer.gains == (1.0, 1.0, 1.0, 0.0)


def test_original_gain_without_a_mix_is_silence_and_extra_gains_are_refused():
    stemset = _stems(frames=300)  # no mix
    out = np.ones((300, 2), np.float32)
    mix_block(stemset, 0, 300, (0.0, 0.0, 0.0, 1.0), out)
    assert not out.any()
    with pytest.raises(ValueError, match="5 gains for 3 stems"):
        mix_block(stemset, 0, 300, (1.0,) * 5, out)


def test_controls_carry_over_to_the_channels_both_mixers_have():
    four = MixerState(("drums", "bass", "other", "vocals"), original=True)
    four.set_gain_db("vocals", -4)
    four.set_solo("vocals")
    four.set_mute("drums")
    four.set_gain_db(ORIGINAL, -6)
    four.set_mute(ORIGINAL)  # as a session saved when its row had an M
    two = MixerState(("vocals", "no_vocals"), original=True)
    two.take_controls(four.strips())
    assert two.control("vocals") == StemControl(gain_db=-4.0, solo=True, mute=False)
    assert two.control("no_vocals") == StemControl()  # drums' mute is not its business
    assert two.control(ORIGINAL) == StemControl(gain_db=-6.0)  # unmuted: the app has no M for it
    assert two.gains[:2] == pytest.approx((10 ** (-4 / 20), 0.0))  # vocals soloed
