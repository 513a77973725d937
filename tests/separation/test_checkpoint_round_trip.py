"""Our checkpoint format: round trips (fp16, bags, diffq, a real network) and atomic saves."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from stemgui.separation import checkpoint
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import load_model, read_checkpoint, save_model
from stemgui.separation.hashing import file_sha256
from tests.separation.model_files_helpers import TinyNet, make_tiny, tiny_htdemucs

pytestmark = pytest.mark.usefixtures("_tiny")


@pytest.fixture
def mix() -> torch.Tensor:
    """(batch=2, channels=2, time=64)"""
    return torch.randn(2, 2, 64, generator=torch.Generator().manual_seed(1))


def test_round_trip_gives_identical_outputs_and_metadata(tmp_path, mix):
    model = make_tiny(seed=3, segment=Fraction(39, 5), gain=0.5)
    path = tmp_path / "tiny.stemgui"
    digest = save_model(model, path, provenance={"commit": "abc", "epochs": [1, 2]})
    assert digest == file_sha256(path)

    loaded = load_model(path)
    assert isinstance(loaded, TinyNet)
    assert not loaded.training
    assert loaded.conv.weight.dtype == torch.float32
    assert loaded.segment == Fraction(39, 5)
    assert loaded.gain == 0.5
    with torch.no_grad():
        assert torch.equal(loaded(mix), model(mix))

    payload = read_checkpoint(path)
    assert payload["provenance"] == {"commit": "abc", "epochs": [1, 2]}
    assert payload["software"]["torch"] == torch.__version__
    assert payload["models"][0]["architecture"] == "TinyNet"
    assert payload["models"][0]["segment"] == pytest.approx(7.8)


def test_half_precision_halves_the_tensors_and_loads_as_float32(tmp_path, mix):
    model = make_tiny(seed=4, sources=[f"s{i}" for i in range(64)])  # weights to show
    full, half = tmp_path / "full.stemgui", tmp_path / "half.stemgui"
    save_model(model, full)
    save_model(model, half, half=True)
    tensor_bytes = sum(t.numel() * 4 for t in model.state_dict().values() if t.is_floating_point())
    assert full.stat().st_size - half.stat().st_size > 0.45 * tensor_bytes
    loaded = load_model(half)
    assert loaded.conv.weight.dtype == torch.float32
    assert torch.equal(loaded.conv.weight, model.conv.weight.half().float())
    assert loaded.calls.dtype == torch.long
    with torch.no_grad():
        torch.testing.assert_close(loaded(mix), model(mix), rtol=2e-3, atol=2e-3)


def test_half_precision_refuses_values_beyond_float16(tmp_path):
    model = make_tiny()
    with torch.no_grad():
        model.conv.weight[0, 0, 0] = 1e6
    with pytest.raises(ValueError, match="float16"):
        save_model(model, tmp_path / "big.stemgui", half=True)
    assert list(tmp_path.iterdir()) == []


def test_bag_round_trip(tmp_path, mix):
    members = [make_tiny(seed=s) for s in (1, 2)]
    weights = [[1.0, 0.0, 1.0, 0.5], [0.0, 1.0, 1.0, 0.5]]
    bag = BagOfModels(members, weights, segment=3.5)
    path = tmp_path / "bag.stemgui"
    save_model(bag, path, half=False)
    loaded = load_model(path)
    assert isinstance(loaded, BagOfModels)
    assert loaded.weights == weights
    assert loaded.segment == 3.5
    assert len(loaded.models) == 2
    with torch.no_grad():
        assert torch.equal(loaded(mix), bag(mix))


def test_save_refuses_what_it_cannot_describe(tmp_path):
    model = make_tiny()
    with pytest.raises(ValueError, match="provenance"):
        save_model(model, tmp_path / "a.stemgui", provenance={"tensor": torch.ones(1)})
    del model._init_kwargs
    with pytest.raises(ValueError, match="_init_kwargs"):
        save_model(model, tmp_path / "b.stemgui")
    with pytest.raises(KeyError):
        save_model(torch.nn.Linear(2, 2), tmp_path / "c.stemgui")
    assert list(tmp_path.iterdir()) == []


def test_save_is_atomic_and_replaces(tmp_path, monkeypatch, mix):
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(seed=1), path)
    first = path.read_bytes()

    def failing_save(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_model(make_tiny(seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.stemgui"]

    save_model(make_tiny(seed=2), path)
    with torch.no_grad():
        assert torch.equal(load_model(path)(mix), make_tiny(seed=2)(mix))


def test_the_same_model_makes_the_same_file_whatever_its_name(tmp_path):
    first, second = tmp_path / "a.stemgui", tmp_path / "other-name.stemgui"
    provenance = {"steps": 3}
    assert save_model(make_tiny(seed=1), first, provenance=provenance) == save_model(
        make_tiny(seed=1), second, provenance=provenance
    )
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("quantizer", ["DiffQuantizer", "UniformQuantizer"])
def test_diffq_quantized_model_round_trip(tmp_path, mix, quantizer):
    """A quantized file is smaller and loads (without diffq) to what diffq itself restores."""
    diffq = pytest.importorskip("diffq", reason="diffq (test oracle) is not installed")
    many = [f"s{i}" for i in range(4096)]
    model = make_tiny(seed=5, sources=many)  # conv weight 8192 x 2: quantized
    options = {"group_size": 8} if quantizer == "DiffQuantizer" else {"bits": 6}
    q = getattr(diffq, quantizer)(model, min_size=1e-4, **options)
    if quantizer == "DiffQuantizer":
        with torch.no_grad():
            for qparam in q._qparams:
                qparam.logit.normal_(-3, 1, generator=torch.Generator().manual_seed(0))
        widths = {b.item() for qp in q._qparams for b in q._get_bits(qp.logit).round()}
        assert len(widths) >= 3  # several packed bit widths
    packed, plain = tmp_path / "q.stemgui", tmp_path / "plain.stemgui"
    save_model(model, packed, quantizer=q)
    state = q.get_quantized_state()
    q.detach()
    save_model(model, plain)
    saved = plain.stat().st_size - packed.stat().st_size  # the weight under 60 % of its bytes
    assert saved > 0.4 * model.conv.weight.numel() * 4

    expected = make_tiny(seed=9, sources=many)
    diffq.restore_quantized_state(expected, state)
    loaded = load_model(packed)
    for key, value in expected.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert not torch.equal(loaded.conv.weight, model.conv.weight)
    x = torch.randn(1, 2, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), expected(x))

    with pytest.raises(ValueError, match="not made for this model"):
        save_model(make_tiny(), tmp_path / "x.stemgui", quantizer=q)
    with pytest.raises(ValueError, match="bag"):
        save_model(BagOfModels([model]), tmp_path / "y.stemgui", quantizer=q)


def test_real_network_round_trip(tmp_path):
    model = tiny_htdemucs()
    path = tmp_path / "ht.stemgui"
    save_model(model, path)
    loaded = load_model(path)
    x = torch.randn(1, 2, 4000)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
