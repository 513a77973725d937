"""Official Demucs ``.th`` import: restricted unpickling, fp16 and diffq states, bag YAML files."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import save_model
from stemgui.separation.diffq_state import (
    QuantizedStateError,
    dequantize_state,
    unpack_bitpack,
    unpack_torch_pack,
)
from stemgui.separation.official import (
    find_signature,
    import_official,
    load_bag_file,
    read_bag_file,
    read_official,
)
from tests.separation.model_files_helpers import (
    TinyNet,
    fake_demucs_class,
    half_state,
    make_tiny,
    tiny_registered,
    write_official,
)


@pytest.fixture(autouse=True)
def _tiny():
    with tiny_registered():
        yield


@pytest.fixture
def demucs_class(monkeypatch) -> type:
    return fake_demucs_class(monkeypatch)


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


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_malicious_pickle_is_refused_and_not_run(tmp_path, demucs_class):
    marker = tmp_path / "pwned"
    state = half_state(make_tiny())
    state["conv.bias"] = _RunsCommand(f"touch {marker}")
    path = write_official(tmp_path / "evil.th", demucs_class, {}, state)
    with pytest.raises(ModelLoadError) as info:
        import_official(path)
    assert f"refusing to load: the file asks to run {os.system.__module__}.system" in str(
        info.value
    )
    assert info.value.path == path
    assert not marker.exists()


def test_other_classes_refused_even_harmless_ones(tmp_path, demucs_class):
    from collections import Counter

    path = write_official(tmp_path / "counter.th", demucs_class, {"extra": Counter("ab")}, {})
    with pytest.raises(ModelLoadError, match=r"asks to run collections\.Counter"):
        read_official(path)


class _CallsDemucs:
    """An object that asks the unpickler to *call* a demucs class."""

    def __init__(self, cls):
        self.cls = cls

    def __reduce__(self):
        return (self.cls, ())


def test_calling_a_named_demucs_class_is_refused(tmp_path, demucs_class):
    path = write_official(tmp_path / "call.th", demucs_class, {"x": _CallsDemucs(demucs_class)}, {})
    with pytest.raises(ModelLoadError, match=r"asks to run demucs\.stemgui_test_nets\.TinyNet"):
        read_official(path)


def test_non_demucs_package_and_damaged_files_refused(tmp_path, demucs_class):
    plain = tmp_path / "plain.th"
    torch.save({"weights": torch.ones(3)}, plain)
    with pytest.raises(ModelLoadError, match="not a Demucs checkpoint"):
        import_official(plain)

    good = write_official(tmp_path / "sig.th", demucs_class, {}, half_state(make_tiny()))
    data = good.read_bytes()
    truncated = tmp_path / "trunc.th"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="not a readable Demucs checkpoint"):
        import_official(truncated)

    renamed = tmp_path / "sig-00000000.th"
    good.rename(renamed)
    with pytest.raises(ModelLoadError, match="its name says 00000000"):
        import_official(renamed)
    with pytest.raises(ModelLoadError, match="not found"):
        import_official(tmp_path / "absent.th")


def test_a_stemgui_file_named_th_is_told_to_be_renamed(tmp_path):
    """It was 'not a Demucs checkpoint (no 'klass' and 'state' entries)': true, and no help."""
    ours = tmp_path / "mine.stemgui"
    save_model(make_tiny(), ours)
    renamed = ours.rename(tmp_path / "mine.th")
    with pytest.raises(ModelLoadError) as refused:
        import_official(renamed)
    assert str(refused.value) == (
        f"{renamed}: is a stemgui model file, not an official Demucs one; rename it to mine.stemgui"
    )


def test_unknown_architecture_refused(tmp_path, monkeypatch):
    cls = fake_demucs_class(monkeypatch, name="WDemucs")
    path = write_official(tmp_path / "w.th", cls, {}, half_state(make_tiny()))
    with pytest.raises(ModelLoadError, match="'WDemucs' is not supported"):
        import_official(path)


@pytest.mark.parametrize(
    ("kwargs", "args", "said"),
    [
        (
            {"samplerate": 0},
            [["drums", "bass"]],
            "samplerate must be a whole number of Hz from 8000 to 384000, not 0",
        ),
        (
            {"segment": -1},
            [["drums", "bass"]],
            "segment must be a number of seconds from 0.1 to 60, not -1",
        ),
        (
            {"samplerate": 10**9},
            [["drums", "bass"]],
            "samplerate must be a whole number of Hz from 8000 to 384000, not 1000000000",
        ),
        ({}, [[]], "sources must be a list of stem names, not []"),
        (  # loaded; every song then failed once separated
            {},
            [["drums", "drums", "other", "vocals"]],
            "sources must name each stem once, not ['drums', 'drums', 'other', 'vocals']",
        ),
    ],
)
def test_official_arguments_no_network_is_built_of_are_refused(
    tmp_path, demucs_class, kwargs, args, said
):
    """As our files' (test_checkpoint): refused naming the argument, the positional sources too."""
    path = write_official(tmp_path / "bad.th", demucs_class, kwargs, half_state(make_tiny()), args)
    with pytest.raises(ModelLoadError) as refused:
        import_official(path)
    assert str(refused.value) == f"{path}: TinyNet: {said}; download it again"


def test_a_tensor_named_by_a_number_is_refused(tmp_path, demucs_class):
    """AttributeError: 'int' object has no attribute 'startswith', a traceback."""
    path = write_official(
        tmp_path / "odd.th", demucs_class, {}, {**half_state(make_tiny()), 1: torch.zeros(1)}
    )
    with pytest.raises(ModelLoadError) as refused:
        import_official(path)
    assert str(refused.value) == (
        f"{path}: malformed Demucs checkpoint (state is not tensors); download it again"
    )


def test_official_weights_with_nan_are_refused_naming_the_tensor(tmp_path, demucs_class):
    """As our files' (test_checkpoint): every stem came out NaN, written as silence."""
    state = half_state(make_tiny())
    state["conv.weight"][0, 0, 0] = float("nan")
    path = write_official(tmp_path / "nan.th", demucs_class, {}, state)
    with pytest.raises(ModelLoadError) as refused:
        import_official(path)
    assert str(refused.value) == (
        f"{path}: TinyNet: tensor conv.weight holds NaN or infinite values (damaged); "
        "download it again"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("weights: [[1]]\n", "not a bag of models (no 'models:' list)"),
        ("models: []\n", "'models:' must list model signatures"),
        ("models: [{a: 1}]\n", "'models:' must list model signatures"),
        (
            "models: ['aaaa0001']\nsegment: 0\n",
            "'segment:' must be a number of seconds from 0.1 to 60, not 0",
        ),
        (b"models: ['\xff']\n", "bag file is not readable YAML (invalid start byte)"),
    ],
)
def test_a_bag_file_that_says_no_bag_says_what_to_do(tmp_path, text, said):
    """They said what was wrong and stopped there: a hand-made bag is to be corrected, an
    official one downloaded again."""
    path = tmp_path / "bag.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(path)
    assert str(refused.value) == f"{path}: {said}; correct it, or download it again"


def test_a_bag_file_that_cannot_be_read_says_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(tmp_path / "absent.yaml")
    assert str(refused.value) == (
        f"{tmp_path / 'absent.yaml'}: bag file not found; check its name and folder"
    )
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(tmp_path / "folder.yaml")
    assert str(refused.value) == (  # was "...: [Errno 21] Is a directory: '<the path again>'"
        f"{tmp_path / 'folder.yaml'}: bag file could not be read (Is a directory); check that "
        "it is a file you may read"
    )


def test_an_official_file_that_does_not_fit_says_what_to_do(tmp_path, demucs_class):
    """Each said what was wrong and stopped there."""
    plain = tmp_path / "plain.th"
    torch.save({"weights": torch.ones(3)}, plain)
    with pytest.raises(ModelLoadError) as refused:
        import_official(plain)
    assert str(refused.value) == (
        f"{plain}: not a Demucs checkpoint (no 'klass' and 'state' entries); download it again"
    )
    state = half_state(make_tiny())
    state["conv.weight"] = torch.zeros(3, 3, 3, dtype=torch.half)
    misfit = write_official(tmp_path / "misfit.th", demucs_class, {}, state)
    with pytest.raises(ModelLoadError) as refused:
        import_official(misfit)
    assert str(refused.value).startswith(f"{misfit}: tensors do not fit our TinyNet: ")
    assert str(refused.value).endswith("; download it again")
    odd = write_official(tmp_path / "odd.th", demucs_class, {}, "weights")
    with pytest.raises(ModelLoadError) as refused:
        import_official(odd)
    assert str(refused.value) == (
        f"{odd}: malformed Demucs checkpoint (state is not a dict); download it again"
    )


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


def _quantizable_tiny(seed: int) -> TinyNet:
    """A TinyNet whose conv weight (8 sources x 2 x 2 = 32 entries) is large enough to quantize."""
    return make_tiny(seed=seed, sources=[f"s{i}" for i in range(8)])


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


def test_diffq_state_that_does_not_fit_is_refused(tmp_path, demucs_class):
    diffq = pytest.importorskip("diffq", reason="diffq (test oracle) is not installed")
    source = _quantizable_tiny(seed=1)
    q = diffq.DiffQuantizer(source, min_size=20 * 4 / 2**20, group_size=4)
    state = q.get_quantized_state()
    state["__quantized"] = True
    q.detach()
    other = make_tiny(seed=1)  # 4 sources: conv weight too small, different layout
    path = write_official(tmp_path / "q.th", demucs_class, dict(other._init_kwargs), state)
    with pytest.raises(ModelLoadError, match="quantized state cannot be read"):
        import_official(path)

    state["meta"]["klass"] = diffq.LSQ
    path = write_official(tmp_path / "lsq.th", demucs_class, dict(source._init_kwargs), state)
    with pytest.raises(ModelLoadError, match="'LSQ' is not supported"):
        import_official(path)


@pytest.mark.parametrize(
    ("init_kwargs", "said"),
    [
        ({"min_size": "x"}, "could not convert string to float: 'x'"),
        ({"exclude": 5}, "'int' object is not iterable"),
        ([1, 2], "cannot convert dictionary update sequence element #0 to a sequence"),
    ],
)
def test_quantizer_arguments_that_are_no_arguments_are_refused(init_kwargs, said):
    """A damaged file's: each was a traceback (ValueError, TypeError) where the other faults of
    a quantized state are refused as unreadable."""
    meta = {"klass": "DiffQuantizer", "init_kwargs": init_kwargs}
    with pytest.raises(QuantizedStateError) as refused:
        dequantize_state(_quantizable_tiny(seed=1), {"meta": meta, "quantized": []})
    assert str(refused.value) == f"the quantizer's arguments: {said}"


@pytest.mark.parametrize(
    ("quantizer", "options", "packed"),
    [("DiffQuantizer", {"group_size": 4}, True), ("UniformQuantizer", {"bits": 5}, False)],
)
def test_quantized_entries_of_the_wrong_types_are_refused(quantizer, options, packed):
    """AttributeError ('str' object has no attribute 'dtype') and a RuntimeError of reshaping
    were tracebacks."""
    diffq = pytest.importorskip("diffq", reason="diffq (test oracle) is not installed")
    source = _quantizable_tiny(seed=1)
    q = getattr(diffq, quantizer)(source, min_size=20 * 4 / 2**20, **options)
    state = q.get_quantized_state(packed=packed)
    q.detach()
    first = state["quantized"][0]
    for damaged in (tuple("x" for _ in first), tuple(torch.zeros(3) for _ in first)):
        state["quantized"][0] = damaged
        with pytest.raises(QuantizedStateError, match=r"^conv\.weight: "):
            dequantize_state(_quantizable_tiny(seed=2), state)


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


def test_bag_file_errors(tmp_path, demucs_class):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (tmp_path / "missing.yaml").write_text("models: ['cccc0003']\n")
    with pytest.raises(ModelLoadError, match="model cccc0003 of this bag is not in"):
        load_bag_file(tmp_path / "missing.yaml", models_dir)

    (tmp_path / "bad.yaml").write_text("models: [unclosed\n")
    with pytest.raises(ModelLoadError, match="not readable YAML"):
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    # PyYAML's own text quotes the faulty line under a caret, in 7 lines: said in one
    (tmp_path / "bad.yaml").write_text("models: [a, b\nweights: [[1, 1]]\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    assert str(refused.value) == (
        f"{tmp_path / 'bad.yaml'}: bag file is not readable YAML: line 2, column 8: "
        "expected ',' or ']', but got ':'; correct it, or download it again"
    )
    (tmp_path / "bad.yaml").write_text("\x07models: []\n")  # a character YAML refuses
    with pytest.raises(ModelLoadError, match="YAML: unacceptable character #x0007") as refused:
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    assert "\n" not in str(refused.value)
    (tmp_path / "empty.yaml").write_text("weights: [[1]]\n")
    with pytest.raises(ModelLoadError, match="no 'models:' list"):
        load_bag_file(tmp_path / "empty.yaml", models_dir)
    with pytest.raises(ModelLoadError, match="not found"):
        load_bag_file(tmp_path / "absent.yaml", models_dir)

    model = make_tiny()
    write_official(
        models_dir / "dddd0004.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    (models_dir / "dddd0004.th").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="several files for model dddd0004"):
        find_signature(models_dir, "dddd0004")

    (tmp_path / "weights.yaml").write_text("models: ['eeee0005']\nweights: [[1, 1]]\n")
    write_official(
        models_dir / "eeee0005.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    with pytest.raises(ModelLoadError, match="weights do not fit"):
        load_bag_file(tmp_path / "weights.yaml", models_dir)


def test_a_bag_listing_a_bag_file_is_refused_naming_it(tmp_path):
    """The bundled bag listed in a .yaml loaded, then every song longer than one chunk failed
    with 'input of 441000 samples is longer than the training segment' (the inner bag, taken
    for one network, got the default 10 s chunks)."""
    save_model(BagOfModels([make_tiny(seed=1), make_tiny(seed=2)]), tmp_path / "pair.stemgui")
    path = tmp_path / "nested.yaml"
    path.write_text("models: ['pair']\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(path, tmp_path)
    assert str(refused.value) == (
        f"{path}: model pair of this bag (pair.stemgui) is a bag itself, which a bag cannot "
        "hold; list single-model files"
    )


@pytest.mark.parametrize("weights", ["[1, 1, 1, 1]", "1", "[null]", "[[1, null, 1, 1]]"])
def test_bag_weights_not_a_list_per_model_are_said_so(tmp_path, demucs_class, weights):
    """A flat list (one model's weights without its brackets), a number or a null: it was
    "'int' object is not iterable"."""
    model = make_tiny()
    write_official(
        tmp_path / "aaaa0001.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    path = tmp_path / "flat.yaml"
    path.write_text(f"models: ['aaaa0001']\nweights: {weights}\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(path, tmp_path)
    assert str(refused.value).startswith(
        f"{path}: the bag's models or weights do not fit: a bag needs one weight per source "
        "(4: drums, bass, other, vocals) for each of its 1 models; got "
    )
    assert "not iterable" not in str(refused.value)


@pytest.mark.parametrize("segment", ["0", "-3", ".nan", ".inf", "'4'", "true", "1e6", "0.001"])
def test_a_bag_segment_that_is_no_length_is_refused_naming_the_file(tmp_path, segment):
    """0 or less made chunks of one sample (8000 forwards for one second at 8 kHz); .nan failed
    at the first chunk with 'cannot convert float NaN to integer', 1e6 for memory."""
    path = tmp_path / "odd.yaml"
    path.write_text(f"models: ['aaaa0001']\nsegment: {segment}\n")
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(path)
    assert str(refused.value).startswith(
        f"{path}: 'segment:' must be a number of seconds from 0.1 to 60, not "
    )


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
