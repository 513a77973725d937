"""The Demucs building blocks against the reference ``demucs`` package (DConv, BLSTM, LocalState:
the reference block perturbed, its weights loaded into ours, the outputs compared in float32 on
CPU) and by known answers (LayerScale, center_trim, rescale_module). The whole network is in
test_net_demucs.py."""

from __future__ import annotations

import pytest
import torch
from demucs import demucs as ref

from stemgui.separation.nets import blocks
from tests.separation.oracle import copy_weights, max_abs_diff, perturb_parameters

pytestmark = pytest.mark.usefixtures("_one_torch_thread")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(attn=True),
        dict(lstm=True),
        dict(attn=True, lstm=True, norm=False, gelu=False),
        dict(depth=-3, compress=2, kernel=5),
        dict(depth=3, init=0.3, heads=2, ndecay=2, attn=True),
    ],
    ids=["default", "attn", "lstm", "attn_lstm_nonorm_relu", "undilated", "heads2"],
)
def test_dconv_matches_reference(kwargs):
    torch.manual_seed(0)
    theirs = ref.DConv(32, **kwargs)
    perturb_parameters(theirs)
    ours = blocks.DConv(32, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(theirs, ours)
    x = torch.randn(2, 32, 450)  # longer than the BLSTM window (200): windowed path
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    assert (expected - x).abs().max() > 1e-2  # the branches do something
    assert max_abs_diff(expected, got) <= 1e-5


def test_dconv_undilated_when_depth_negative():
    dconv = blocks.DConv(16, depth=-3)
    assert len(dconv.layers) == 3
    assert [branch[0].dilation for branch in dconv.layers] == [(1,), (1,), (1,)]
    dilated = blocks.DConv(16, depth=3)
    assert [branch[0].dilation for branch in dilated.layers] == [(1,), (2,), (4,)]


@pytest.mark.parametrize("length", [50, 200, 201, 399, 1000])
@pytest.mark.parametrize("skip", [False, True])
def test_blstm_matches_reference(length, skip):
    torch.manual_seed(0)
    theirs = ref.BLSTM(12, layers=2, max_steps=200, skip=skip)
    ours = blocks.BLSTM(12, layers=2, max_steps=200, skip=skip)
    copy_weights(theirs, ours)
    x = torch.randn(3, 12, length)
    with torch.no_grad():
        assert max_abs_diff(theirs(x), ours(x)) <= 1e-6


def test_blstm_rejects_window_not_multiple_of_four():
    with pytest.raises(ValueError, match="multiple of 4"):
        blocks.BLSTM(8, max_steps=202)


@pytest.mark.parametrize("nfreqs", [0, 3])
def test_local_state_matches_reference(nfreqs):
    torch.manual_seed(0)
    theirs = ref.LocalState(16, heads=4, nfreqs=nfreqs, ndecay=4)
    perturb_parameters(theirs)
    ours = blocks.LocalState(16, heads=4, nfreqs=nfreqs, ndecay=4)
    copy_weights(theirs, ours)
    x = torch.randn(2, 16, 97)
    with torch.no_grad():
        assert max_abs_diff(theirs(x), ours(x)) <= 1e-5


def test_local_state_decay_init():
    state = blocks.LocalState(8, heads=2, ndecay=3)
    assert state.query_decay.out_channels == 6
    assert torch.all(state.query_decay.bias == -2)


def test_layer_scale_channel_first_and_last():
    scale = blocks.LayerScale(3, init=0.5)
    x = torch.ones(2, 3, 4)
    assert torch.equal(scale(x), torch.full((2, 3, 4), 0.5))
    last = blocks.LayerScale(3, init=2.0, channel_last=True)
    assert torch.equal(last(torch.ones(5, 2, 3)), torch.full((5, 2, 3), 2.0))


def test_center_trim_known_answers():
    x = torch.arange(10)
    assert blocks.center_trim(x, 6).tolist() == [2, 3, 4, 5, 6, 7]
    assert blocks.center_trim(x, 7).tolist() == [1, 2, 3, 4, 5, 6, 7]  # extra sample off the right
    assert blocks.center_trim(x, torch.zeros(3, 10)).tolist() == list(range(10))
    with pytest.raises(ValueError, match="longer"):
        blocks.center_trim(x, 11)


def test_rescale_module_known_std():
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(16, 32, 5)
    before = conv.weight.std().item()
    blocks.rescale_module(torch.nn.Sequential(conv, torch.nn.ReLU()), reference=0.1)
    # The weight is divided by sqrt(std / ref): the new std is sqrt(std * ref).
    assert conv.weight.std().item() == pytest.approx((before * 0.1) ** 0.5, rel=1e-5)
