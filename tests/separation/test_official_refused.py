"""Official ``.th`` files refused: pickled code, other packages, misfit arguments or states."""

from __future__ import annotations

import os

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation.checkpoint import save_model
from stemgui.separation.diffq_state import QuantizedStateError, dequantize_state
from stemgui.separation.official import import_official, read_official
from tests.separation.model_files_helpers import (
    fake_demucs_class,
    half_state,
    make_tiny,
    write_official,
)
from tests.separation.official_rig import _quantizable_tiny, _RunsCommand

pytestmark = pytest.mark.usefixtures("_tiny")


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
