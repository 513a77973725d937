"""Official Demucs ``.th`` import: fp16, legacy and diffq states, bag YAML files, the reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import save_model
from stemgui.separation.diffq_state import dequantize_state, unpack_bitpack, unpack_torch_pack
from stemgui.separation.official import (
    find_signature,
    import_official,
    load_bag_file,
    read_bag_file,
)
from tests.separation.model_files_helpers import TinyNet, half_state, make_tiny, write_official
from tests.separation.official_rig import _quantizable_tiny, _RunsCommand

pytestmark = pytest.mark.usefixtures("_tiny")


@pytest.fixture
def mix() -> torch.Tensor:
    """(batch=1, channels=2, time=50)"""
    return torch.randn(1, 2, 50, generator=torch.Generator().manual_seed(7))


def test_fp16_official_file_imports_onto_our_network(tmp_path, demucs_class, mix):
    model = make_tiny(seed=5, segment=Fraction(39, 5))
    kwargs = dict(model._init_kwargs)
    sources = kwargs.pop("sources")
    kwargs["an_old_argument"] = 3  # dropped, as the reference drops unknown arguments
    path = write_official(
        tmp_path / "aaaa1111.th", demucs_class, kwargs, half_state(model), args=[sources]
    )
    imported = import_official(path)
    assert type(imported) is TinyNet  # our registered class, not the file's
    assert imported.segment == Fraction(39, 5)
    assert not imported.training
    assert imported.conv.weight.dtype == torch.float32
    reference = make_tiny(seed=5)
    reference.load_state_dict(half_state(model))
    with torch.no_grad():
        assert torch.equal(imported(mix), reference.float()(mix))


@pytest.mark.filterwarnings("ignore:Couldn't retrieve source code:UserWarning")
def test_legacy_torch_format_imports_and_is_restricted(tmp_path, demucs_class, mix):
    """Files written before torch 1.6 (``_use_new_zipfile_serialization=False``)."""
    model = make_tiny(seed=6)
    package = {
        "klass": demucs_class,
        "args": [],
        "kwargs": dict(model._init_kwargs),
        "state": half_state(model),
        "training_args": {},
    }
    path = tmp_path / "legacy.th"
    torch.save(package, path, _use_new_zipfile_serialization=False)
    imported = import_official(path)
    reference = make_tiny()
    reference.load_state_dict(half_state(model))
    with torch.no_grad():
        assert torch.equal(imported(mix), reference.float()(mix))

    marker = tmp_path / "pwned"
    package["training_args"] = {"x": _RunsCommand(f"touch {marker}")}
    torch.save(package, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelLoadError, match="refusing to load"):
        import_official(path)
    assert not marker.exists()


# ----------------------------------------------------------------------------- bit packing


def _pack_reference(values: list[int], nbits: int, block: int = 32) -> torch.Tensor:
    """The bitpack layout written out bit by bit, independently of the unpacker."""
    per_line = 64 * block
    lines = -(-len(values) // per_line)
    words = [[[0] * block for _ in range(nbits)] for _ in range(lines)]
    for i, value in enumerate(values):
        line, rest = divmod(i, per_line)
        word_bit, index = divmod(rest, block)
        for bit in range(nbits):
            if value >> bit & 1:
                words[line][bit][index] |= 1 << word_bit
    return torch.from_numpy(np.array(words, dtype=np.uint64).view(np.int64))


def test_unpack_bitpack_known_layout():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 2**5, size=64 * 32 + 77).tolist()
    packed = _pack_reference(values, nbits=5)
    assert packed.shape == (2, 5, 32)
    assert unpack_bitpack(packed, len(values)).tolist() == values


def test_unpack_torch_pack_known_layout():
    values = [3, 0, 1, 2, 3, 1, 0, 2, 1, 1, 3]  # 11 values on 2 bits, 16-bit words: 1 group
    packed = torch.zeros(2, 1, dtype=torch.int16)
    for i, value in enumerate(values):
        for bit in range(2):
            if value >> bit & 1:
                packed[bit, 0] |= 1 << i
    assert unpack_torch_pack(packed, len(values)).tolist() == values


# ----------------------------------------------------------------------------- diffq states


@pytest.mark.parametrize(
    "quantizer, options, packed, torch_pack",
    [
        ("DiffQuantizer", {"group_size": 4}, True, False),
        ("DiffQuantizer", {"group_size": 8, "float16": True}, True, False),
        ("DiffQuantizer", {"group_size": 4}, False, False),
        ("DiffQuantizer", {"group_size": 4}, True, True),
        ("UniformQuantizer", {"bits": 5}, True, False),
        ("UniformQuantizer", {"bits": 8}, False, False),
    ],
)
def test_diffq_state_matches_diffq(
    tmp_path, demucs_class, mix, quantizer, options, packed, torch_pack
):
    diffq = pytest.importorskip("diffq", reason="diffq (test oracle) is not installed")
    source = _quantizable_tiny(seed=11)
    q = getattr(diffq, quantizer)(source, min_size=20 * 4 / 2**20, **options)
    if quantizer == "DiffQuantizer":
        with torch.no_grad():  # spread the learnt bit widths over several values
            for qparam in q._qparams:
                qparam.logit.normal_(0, 3, generator=torch.Generator().manual_seed(3))
    state = q.get_quantized_state(packed=packed, torch_pack=torch_pack)
    state["__quantized"] = True
    if quantizer == "DiffQuantizer":
        bits = {b.item() for qp in q._qparams for b in q._get_bits(qp.logit).round()}
        assert len(bits) > 2
    q.detach()

    expected = _quantizable_tiny(seed=99)
    diffq.restore_quantized_state(expected, dict(state))
    ours = dequantize_state(_quantizable_tiny(seed=98), state)
    for key, value in expected.state_dict().items():
        assert torch.equal(ours[key], value), key
    assert not torch.equal(ours["conv.weight"], source.conv.weight)  # really quantized

    kwargs = dict(source._init_kwargs)
    path = write_official(tmp_path / "q.th", demucs_class, kwargs, state)
    imported = import_official(path)
    with torch.no_grad():
        assert torch.equal(imported(mix), expected(mix))


# ----------------------------------------------------------------------------- bags


def test_load_bag_file(tmp_path, demucs_class, mix):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    members = [make_tiny(seed=s) for s in (1, 2)]
    write_official(
        models_dir / "aaaa0001.th",
        demucs_class,
        dict(members[0]._init_kwargs),
        half_state(members[0]),
    )
    digest = save_model(members[1], models_dir / "bbbb0002.stemgui")  # our format, plain name
    assert digest
    (tmp_path / "pair.yaml").write_text(
        "models: ['aaaa0001', 'bbbb0002']\nweights: [[1., 0., 1., 1.], [0., 1., 1., 1.]]\n"
        "segment: 44\n"
    )
    bag = load_bag_file(tmp_path / "pair.yaml", models_dir)
    assert isinstance(bag, BagOfModels)
    assert bag.weights == [[1, 0, 1, 1], [0, 1, 1, 1]]
    assert bag.segment == 44.0
    first = make_tiny(seed=1)
    first.load_state_dict(half_state(members[0]))
    with torch.no_grad():
        assert torch.equal(bag.models[0](mix), first.float()(mix))
        assert torch.equal(bag.models[1](mix), members[1](mix))


def test_a_bag_member_is_found_whatever_the_case_of_its_name(tmp_path, demucs_class):
    """ABCD1234.TH (a FAT drive, an 8.3 copy) was 'not in' the folder for abcd1234."""
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    model = make_tiny(seed=3)
    written = write_official(
        models_dir / "x.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    upper = written.rename(models_dir / "ABCD1234.TH")
    assert find_signature(models_dir, "abcd1234") == upper
    assert find_signature(models_dir, "ABCD1234") == upper
    (tmp_path / "one.yaml").write_text("models: ['abcd1234']\n")
    bag = load_bag_file(tmp_path / "one.yaml", models_dir)
    assert len(bag.models) == 1


@pytest.mark.parametrize("signature", ["01234567", "00000000", "12345678"])
def test_a_signature_of_digits_written_without_quotes_is_read_as_written(tmp_path, signature):
    """YAML reads 01234567 as an octal number: the bag looked for model 342391, not there."""
    path = tmp_path / "digits.yaml"
    path.write_text(f"models:\n  - {signature}\n  - abcd1234\nweights: [[1, 1], [1, 0]]\n")
    assert read_bag_file(path)["models"] == [signature, "abcd1234"]


# ----------------------------------------------------------------------------- reference nets


_SMALL = {
    "Demucs": ("demucs.demucs", dict(channels=4, depth=2, lstm_layers=1, samplerate=8000)),
    "HDemucs": ("demucs.hdemucs", dict(channels=4, depth=3, nfft=256, samplerate=8000)),
    "HTDemucs": (
        "demucs.htdemucs",
        dict(
            channels=8,
            depth=3,
            nfft=256,
            t_layers=1,
            dconv_comp=4,
            samplerate=8000,
            segment=Fraction(1, 2),
        ),
    ),
}


def _reference_and_ours(name: str):
    pytest.importorskip("omegaconf", reason="the reference's serialize_model needs omegaconf")
    import importlib

    reference_module, kwargs = _SMALL[name]
    reference_cls = getattr(importlib.import_module(reference_module), name)
    torch.manual_seed(0)
    reference = reference_cls(["drums", "bass", "other", "vocals"], **kwargs)
    return reference, registry.get_class(name)


@pytest.mark.parametrize("name", ["Demucs", "HDemucs", "HTDemucs"])
def test_reference_checkpoint_matches_reference_outputs(tmp_path, name):
    from demucs import states
    from omegaconf import OmegaConf

    reference, ours_cls = _reference_and_ours(name)
    package = states.serialize_model(reference, OmegaConf.create({"epochs": 1}), half=True)
    path = tmp_path / f"{name.lower()}.th"
    states.save_with_checksum(package, path)
    (saved,) = tmp_path.glob(f"{name.lower()}-*.th")

    ours = import_official(saved)
    assert type(ours) is ours_cls
    reloaded = states.load_model(str(saved)).eval()
    x = torch.randn(1, 2, 3000, generator=torch.Generator().manual_seed(0))
    if hasattr(reloaded, "valid_length"):
        x = torch.nn.functional.pad(x, (0, reloaded.valid_length(x.shape[-1]) - x.shape[-1]))
    with torch.no_grad():
        expected, got = reloaded(x), ours(x)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name", ["Demucs", "HDemucs", "HTDemucs"])
def test_parameter_order_matches_reference(name):
    """A diffq-quantized state lists tensors by position, in the reference's parameter order."""
    reference, ours_cls = _reference_and_ours(name)
    ours = ours_cls(**_SMALL[name][1], sources=["drums", "bass", "other", "vocals"])
    assert list(dict(ours.named_parameters())) == list(dict(reference.named_parameters()))


def test_reference_diffq_checkpoint_matches_reference(tmp_path):
    diffq = pytest.importorskip("diffq", reason="diffq (test oracle) is not installed")
    from demucs import states
    from omegaconf import OmegaConf

    reference, _ = _reference_and_ours("HDemucs")
    quantizer = diffq.DiffQuantizer(reference, min_size=0.001, group_size=8)
    package = states.serialize_model(reference, OmegaConf.create({}), quantizer=quantizer)
    quantizer.detach()
    states.save_with_checksum(package, tmp_path / "q.th")
    (saved,) = tmp_path.glob("q-*.th")
    ours = import_official(saved)
    reloaded = states.load_model(str(saved)).eval()
    x = torch.randn(1, 2, 3000, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reloaded(x), rtol=0, atol=1e-4)
