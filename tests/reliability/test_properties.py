"""Property-based tests (hypothesis) that the room tests do not already have.

Chunker: tests/separation/test_chunking.py::test_chunker_property checks the pure chunk plan and
blend (identity chunks blend back to the input); here the whole ``Separator`` (normalisation,
padding, shifts, a memory-mapped ``out``) is checked with an identity network on arbitrary
lengths, segments, overlaps and shifts. Mixer: tests/stems/test_mixer.py has the 3-stem truth
table and fixed examples; here the solo/mute/gain laws hold for any number of stems and any
controls, and the mix does not depend on how it is cut into blocks.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stemgui.separation.separator import Separator
from stemgui.stems.mixer import (
    MAX_DB,
    MIN_DB,
    StemControl,
    audible,
    db_to_linear,
    linear_gains,
    mix_block,
    render_mix,
)
from stemgui.stems.stemset import StemSet
from tests.separation.separator_nets import IdentityNet, PaddedIdentityNet, song

# -- chunker through the Separator ------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    frames=st.integers(0, 700),
    segment=st.floats(0.1, 3.0),
    overlap=st.floats(0.0, 0.9),
    shifts=st.integers(0, 2),
    padded=st.booleans(),
    seed=st.integers(0, 3),
)
def test_identity_in_identity_out(frames, segment, overlap, shifts, padded, seed):
    net = (PaddedIdentityNet if padded else IdentityNet)(segment=segment)
    separator = Separator(net, device="cpu", overlap=overlap, shifts=shifts, seed=seed)
    buffer = song(frames, seed=seed)
    out = np.full((2, 2, frames), np.nan, np.float32)  # must be overwritten everywhere
    result = separator.separate(buffer, out=out)
    assert result is out
    for stem in result:
        np.testing.assert_allclose(stem, buffer, atol=1e-5)


# -- mixer laws --------------------------------------------------------------------------------

control = st.builds(
    StemControl,
    gain_db=st.one_of(st.floats(MIN_DB - 20, MAX_DB), st.just(-math.inf)),
    solo=st.booleans(),
    mute=st.booleans(),
)
controls_list = st.lists(control, min_size=1, max_size=6)


def _stems(count: int, frames: int = 300, seed: int = 0) -> StemSet:
    """``count`` stereo stems of noise, every frame ready."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((count, 2, frames)).astype(np.float32)
    return StemSet([f"s{i}" for i in range(count)], 44100, data)


@settings(max_examples=150, deadline=None)
@given(controls=controls_list, master=st.floats(MIN_DB - 5, MAX_DB))
def test_gain_law(controls, master):
    """Each stem's factor: 0 if not heard, else its dB gain times the master's; the mix is the
    weighted sum of the stems."""
    gains = linear_gains(controls, master)
    heard = audible(controls)
    for c, h, g in zip(controls, heard, gains):
        expected = db_to_linear(c.gain_db) * db_to_linear(master) if h else 0.0
        assert g == expected
    stems = _stems(len(controls))
    expected_mix = np.tensordot(np.asarray(gains, np.float64), stems.data, axes=1)
    np.testing.assert_allclose(render_mix(stems, gains), expected_mix, rtol=1e-5, atol=1e-5)


@settings(max_examples=150, deadline=None)
@given(controls=controls_list)
def test_solo_and_mute_laws(controls):
    heard = audible(controls)
    solos = [c.solo for c in controls]
    for c, h in zip(controls, heard):
        if c.mute:
            assert not h  # mute wins over everything
        elif any(solos):
            assert h == c.solo  # with any solo, exactly the soloed unmuted stems
        else:
            assert h  # nothing soloed: every unmuted stem
    # soloing every stem is the same as soloing none
    all_solo = [StemControl(c.gain_db, True, c.mute) for c in controls]
    no_solo = [StemControl(c.gain_db, False, c.mute) for c in controls]
    assert audible(all_solo) == audible(no_solo)
    # muting everything is silence
    assert not any(audible([StemControl(c.gain_db, c.solo, True) for c in controls]))


@settings(max_examples=60, deadline=None)
@given(
    controls=controls_list,
    cuts=st.lists(st.integers(0, 300), max_size=6),
    ready=st.integers(0, 300),
)
def test_mix_does_not_depend_on_the_blocks(controls, cuts, ready):
    """Playing in any block sizes gives the one-piece render, and silence after frames_ready."""
    full = _stems(len(controls), seed=len(cuts))
    gains = linear_gains(controls)
    whole = render_mix(full, gains)
    whole[:, ready:] = 0.0
    stems = StemSet(full.names, full.samplerate, full.data, frames_ready=ready)
    edges = sorted({0, 300, *cuts})
    played = np.empty((300, 2), np.float32)
    for a, b in itertools.pairwise(edges):
        mix_block(stems, a, b - a, gains, played[a:b])
    np.testing.assert_allclose(played.T, whole, rtol=1e-6, atol=1e-6)
