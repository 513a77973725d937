"""Our checkpoint format: round trips, fp16, bags, sha256 checks, and every bad file refused."""

from __future__ import annotations

import errno
import os
import zipfile
from fractions import Fraction

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation import building, checkpoint, registry
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import load_model, read_checkpoint, save_model
from stemgui.separation.hashing import file_sha256, hashed_name
from tests.pipes import without_waiting
from tests.separation.model_files_helpers import (
    TinyNet,
    fake_demucs_class,
    half_state,
    make_tiny,
    tiny_htdemucs,
    tiny_registered,
    write_official,
)


@pytest.fixture(autouse=True)
def _tiny():
    with tiny_registered():
        yield


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


@pytest.mark.parametrize("segment", [0, -1.0, float("nan"), float("inf"), "44", 1e6, 0.001])
def test_a_bag_segment_that_is_no_length_is_refused_at_load(tmp_path, segment):
    """nan, inf and a string loaded, then failed at the first chunk with a traceback; 1e6 s
    for memory (a cross-fade window of 8e9 frames)."""
    path = tmp_path / "bag.stemgui"
    save_model(BagOfModels([make_tiny(seed=1), make_tiny(seed=2)], segment=2.0), path)
    payload = torch.load(path, weights_only=True)
    payload["segment"] = segment
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: malformed bag of models: the bag's segment must be a number of seconds "
        f"from 0.1 to 60, not {segment!r}; export it again"
    )


def test_sha256_argument_checked(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    assert isinstance(load_model(path, sha256=digest), TinyNet)
    assert isinstance(load_model(path, sha256=digest[:8].upper()), TinyNet)
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    with pytest.raises(ModelLoadError) as info:
        load_model(path, sha256=wrong)
    assert info.value.path == path
    assert "download it again" in str(info.value)
    assert "tiny.stemgui" in str(info.value)


def test_hash_prefix_in_file_name_checked(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    named = hashed_name(path, digest)
    assert named.name == f"tiny-{digest[:8]}.stemgui"
    path.rename(named)
    assert isinstance(load_model(named), TinyNet)

    wrong = tmp_path / f"tiny-{'0' * 8 if digest[:8] != '0' * 8 else '1' * 8}.stemgui"
    named.rename(wrong)
    with pytest.raises(ModelLoadError, match="its name says"):
        load_model(wrong)


def test_a_date_at_the_end_of_a_name_is_said_to_be_read_as_a_checksum(tmp_path):
    """mine-20241203.stemgui, named by hand, was 'damaged or was changed; download it again
    (or export it again)': done, and the same message again, as the name was the fault."""
    path = tmp_path / "mine.stemgui"
    digest = save_model(make_tiny(), path)
    assert not digest.startswith("20241203")
    dated = path.rename(tmp_path / "mine-20241203.stemgui")
    with pytest.raises(ModelLoadError) as refused:
        load_model(dated)
    assert str(refused.value).endswith(
        "; or, if you named it so, rename it without '-20241203' (a name ending in '-' and 8 "
        "hex digits carries the file's sha256)"
    )
    with pytest.raises(ModelLoadError) as refused:  # a checksum given: the name is not at fault
        load_model(dated, sha256="0" * 8)
    assert "rename" not in str(refused.value)


def test_tampered_byte_is_caught_by_the_hash(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(path, sha256=digest)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22])
def test_truncated_file_refused(tmp_path, keep):
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:cut])
    with pytest.raises(ModelLoadError) as info:
        load_model(path)
    assert info.value.path == path


def test_missing_file_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "absent.stemgui")
    with pytest.raises(ModelLoadError, match="is a folder; name a model file in it"):
        load_model(tmp_path)  # a run folder given for its best.stemgui: not "not found"
    pipe = tmp_path / "model.stemgui"
    os.mkfifo(pipe)  # there, so not "not found"; never opened: a read would wait for a writer
    with pytest.raises(ModelLoadError) as info:
        without_waiting(lambda: load_model(pipe), pipe)
    said = "is not a regular file (a named pipe, a socket or a device); name a model file"
    assert str(info.value) == f"{pipe}: {said}"


def test_a_song_chosen_as_a_model_is_called_a_song(tmp_path):
    """ "download or export it again" sent someone who picked their mp3 the wrong way."""
    song = tmp_path / "Night Drive.mp3"
    song.write_bytes(os.urandom(2000))
    with pytest.raises(ModelLoadError, match="is a song, not a model; choose a model file"):
        load_model(song)


def test_a_bag_yaml_given_as_a_model_is_called_one(tmp_path):
    """A valid htdemucs_ft.yaml given to a training command was "truncated, damaged or another
    format; download or export it again"."""
    bag = tmp_path / "htdemucs_ft.yaml"
    bag.write_text("models: ['f7e0c4bc', 'd12395a8']\n")
    with pytest.raises(ModelLoadError, match="is a bag description, not a model file; give the"):
        load_model(bag)


def test_a_pytorch_file_of_no_model_says_which_file_to_choose(tmp_path):
    """A training run's last.pt given to eval or quantize was "not a stemgui model file (no
    stemgui-model header)", saying neither what it was nor what to choose instead."""
    state = tmp_path / "last.pt"
    torch.save({"step": 4, "model": {}, "optimizer": {}}, state)
    with pytest.raises(ModelLoadError) as refused:
        load_model(state)
    assert str(refused.value) == (
        f"{state}: not a stemgui model file: a PyTorch file without its header (a training "
        "run's last.pt, another program's weights); choose a .stemgui model (a run's "
        "best.stemgui) or an official Demucs .th file"
    )


def test_an_official_file_named_stemgui_is_told_to_be_renamed(tmp_path, monkeypatch):
    """A good htdemucs file renamed (or saved by a browser) as .stemgui was "truncated, damaged
    or another format; download or export it again": downloading it again gives the same bytes."""
    klass = fake_demucs_class(monkeypatch)
    model = make_tiny()
    official = write_official(
        tmp_path / "955717e8.th", klass, dict(model._init_kwargs), half_state(model)
    )
    renamed = official.rename(official.with_suffix(".stemgui"))
    with pytest.raises(ModelLoadError) as refused:
        load_model(renamed)
    assert str(refused.value) == (
        f"{renamed}: is an official Demucs checkpoint, not a stemgui model file; rename it to "
        f"{official.name}"
    )
    damaged = tmp_path / "damaged.stemgui"  # neither: as it was
    damaged.write_bytes(renamed.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="truncated, damaged or another format"):
        load_model(damaged)


def test_random_bytes_and_foreign_files_refused(tmp_path):
    junk = tmp_path / "junk.stemgui"
    junk.write_bytes(os.urandom(2000))
    with pytest.raises(ModelLoadError, match="not a readable"):
        load_model(junk)

    foreign = tmp_path / "foreign.stemgui"
    torch.save({"state": {"w": torch.ones(2)}}, foreign)
    with pytest.raises(ModelLoadError, match="not a stemgui model file"):
        load_model(foreign)

    newer = tmp_path / "newer.stemgui"
    torch.save({"format": "stemgui-model", "format_version": 99}, newer)
    with pytest.raises(ModelLoadError, match="newer"):
        load_model(newer)
    for version in ("1", None, 0, True):  # they were told to update stemgui
        torch.save({"format": "stemgui-model", "format_version": version}, newer)
        with pytest.raises(ModelLoadError) as refused:
            load_model(newer)
        assert str(refused.value) == (
            f"{newer}: malformed stemgui model file (format version {version!r}); download or "
            "export it again"
        )


class _Boom:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickled_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    boom = _Boom()
    boom.marker = marker
    path = tmp_path / "evil.stemgui"
    torch.save({"format": "stemgui-model", "format_version": 1, "payload": boom}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(ModelLoadError):
        load_model(path)
    assert not marker.exists()


def test_unknown_architecture_and_misfit_tensors_refused(tmp_path):
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)
    payload = torch.load(path, weights_only=True)

    payload["models"][0]["architecture"] = "NoSuchNet"
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="unknown architecture 'NoSuchNet'"):
        load_model(path)

    payload["models"][0]["architecture"] = "TinyNet"
    payload["models"][0]["state"]["conv.weight"] = torch.zeros(3, 3, 3)
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_model(path)

    payload["models"][0]["state"]["conv.weight"] = torch.zeros(8, 2, 1)
    payload["models"][0]["kwargs"]["colour"] = "red"
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="cannot be built"):
        load_model(path)

    payload["models"][0]["kwargs"] = ["red"]
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="malformed stemgui model entry"):
        load_model(path)


def test_a_file_that_does_not_fit_says_what_to_do(tmp_path, monkeypatch):
    """Each said what was wrong and stopped there."""
    # the networks other test folders register (the UI's UiTinyNet) are not in the list said
    monkeypatch.setattr(registry, "_EXTRA", {"TinyNet": registry.get_class("TinyNet")})
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)
    payload = torch.load(path, weights_only=True)
    good = payload["models"][0]
    cases = [
        (
            {**payload, "format": "other"},
            "not a stemgui model file: a PyTorch file without its header (a training run's "
            "last.pt, another program's weights); choose a .stemgui model (a run's "
            "best.stemgui) or an official Demucs .th file",
        ),
        (
            {**payload, "models": [good, good]},
            "malformed stemgui model file (several models, not a bag); export it again",
        ),
        (
            {**payload, "models": [{**good, "architecture": "NoSuchNet"}]},
            "unknown architecture 'NoSuchNet' is not supported by this stemgui (known: Demucs, "
            "HDemucs, HTDemucs, TinyNet); update stemgui, or choose another model",
        ),
        (
            {**payload, "models": [{**good, "state": {"conv.weight": [1.0]}}]},
            "malformed stemgui model entry (state is not tensors); export it again",
        ),
    ]
    for changed, said in cases:
        torch.save(changed, path)
        with pytest.raises(ModelLoadError) as refused:
            load_model(path)
        assert str(refused.value) == f"{path}: {said}"
    torch.save({**payload, "models": [{**good, "state": {"conv.weight": torch.zeros(3)}}]}, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value).startswith(f"{path}: tensors do not fit the TinyNet architecture: ")
    assert str(refused.value).endswith("; download or export it again")


def test_a_file_that_cannot_be_read_says_what_to_do(tmp_path, monkeypatch):
    """It said '[Errno 13] Permission denied: <the path again>' and stopped there."""
    from stemgui.separation import hashing

    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)

    def unreadable(name, cancel=None):
        raise PermissionError(errno.EACCES, "Permission denied", str(name))

    monkeypatch.setattr(hashing, "file_sha256", unreadable)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: model file could not be read (Permission denied); check that you may read it, "
        "or download it again"
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"sources": 5}, "malformed stemgui model entry"),  # TypeError: not iterable
        ({"sources": None}, "malformed stemgui model entry"),
        ({"architecture": ["TinyNet"]}, "malformed stemgui model entry"),  # unhashable
        ({"state": {1: torch.zeros(1)}}, "malformed stemgui model entry (state is not tensors)"),
        (  # TypeError: 'int' object is not iterable
            {"quantized": {"quantizer": "DiffQuantizer", "init_kwargs": 5}},
            "malformed quantized state",
        ),
    ],
)
def test_an_entry_of_the_wrong_types_is_refused(tmp_path, change, said):
    """Edited by hand: each was a traceback (TypeError, AttributeError) in the app and CLI."""
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)
    payload = torch.load(path, weights_only=True)
    payload["models"][0].update(change)
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == f"{path}: {said}; export it again"


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


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("channels", -1, "channels must be a positive whole number, not -1"),
        ("t_heads", 0, "t_heads must be a positive whole number, not 0"),
        ("stride", 0, "stride must be a positive whole number, not 0"),
        ("depth", 0, "depth must be a positive whole number, not 0"),
        ("segment", 0, "segment must be a number of seconds from 0.1 to 60, not 0"),  # a hang
        ("segment", -1, "segment must be a number of seconds from 0.1 to 60, not -1"),
        # a forward every 8 samples: days for a song
        ("segment", 0.001, "segment must be a number of seconds from 0.1 to 60, not 0.001"),
        # loaded, then failed for memory at the first song (1e6 s: 30 GB asked for one chunk)
        ("segment", 1e6, "segment must be a number of seconds from 0.1 to 60, not 1000000.0"),
        ("samplerate", 0, "samplerate must be a whole number of Hz from 8000 to 384000, not 0"),
        (  # every song resampled to 1e9 Hz before it was separated
            "samplerate",
            10**9,
            "samplerate must be a whole number of Hz from 8000 to 384000, not 1000000000",
        ),
        ("sources", [], "sources must be a list of stem names, not []"),
        ("t_layers", -1, "t_layers must be a whole number, 0 or more, not -1"),
        # every song decoded to stereo, then refused as 'cannot be converted to 3 channels'
        ("audio_channels", 3, "audio_channels must be 1 (mono) or 2 (stereo), not 3"),
        ("audio_channels", 0, "audio_channels must be 1 (mono) or 2 (stereo), not 0"),
        ("audio_channels", 2.0, "audio_channels must be 1 (mono) or 2 (stereo), not 2.0"),
    ],
)
def test_arguments_no_network_is_built_of_are_refused_naming_them(tmp_path, key, value, said):
    """Edited by hand: each gave a traceback (RuntimeError, ZeroDivisionError), a refusal
    naming no argument, or a model that loaded and failed (or ran for ever) on the first chunk."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(), path)
    payload = torch.load(path, weights_only=True)
    payload["models"][0]["kwargs"][key] = value
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == f"{path}: HTDemucs: {said}; download or export it again"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("half", [False, True])
def test_weights_with_nan_or_infinite_values_are_refused_naming_the_tensor(tmp_path, value, half):
    """Loaded, then made every stem NaN: the stems were written as silence, said only as a
    warning, and the song counted as separated."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(), path, half=half)
    payload = torch.load(path, weights_only=True)
    payload["models"][0]["state"]["freq_emb.embedding.weight"][0, 0] = value
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: HTDemucs: tensor freq_emb.embedding.weight holds NaN or infinite values "
        "(damaged); download or export it again"
    )


@pytest.mark.parametrize("second", ["drums", "Drums"])
def test_a_model_naming_a_stem_twice_is_refused(tmp_path, second):
    """It loaded; every song then failed once separated, in the app ('stem names must be
    unique') and the CLI (both stems' files the same); Drums and drums are one file where case
    is ignored (Windows, macOS)."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(sources=("drums", second)), path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: HTDemucs: sources must name each stem once, not ['drums', {second!r}]; "
        "download or export it again"
    )


@pytest.mark.parametrize("terms", [[1, 0], [1.5, 2], None])
def test_a_damaged_fraction_among_the_arguments_is_refused(tmp_path, terms):
    """A traceback (ZeroDivisionError: Fraction(1, 0), TypeError) in the app and the CLI."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(), path)
    payload = torch.load(path, weights_only=True)
    payload["models"][0]["kwargs"]["segment"] = {"__fraction__": terms}
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: malformed stemgui model entry (a fraction must be two whole numbers, the "
        f"second not 0, not {terms!r}); export it again"
    )


def test_a_network_that_fails_to_build_on_other_arguments_is_refused(tmp_path):
    """dconv_comp 0 divides by zero inside the constructor: a traceback before."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(), path)
    payload = torch.load(path, weights_only=True)
    payload["models"][0]["kwargs"]["dconv_comp"] = 0
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    assert str(refused.value) == (
        f"{path}: HTDemucs cannot be built from the stored arguments: division by zero; "
        "download or export it again"
    )


@pytest.mark.parametrize(
    ("name", "official"),
    [
        (  # htdemucs, htdemucs_ft, htdemucs_6s (test_net_htdemucs.OFFICIAL)
            "HTDemucs",
            dict(dconv_mode=3, bottom_channels=512, t_layers=5, segment=Fraction(39, 5)),
        ),
        ("HDemucs", dict(dconv_init=1e-3, multi_freqs_depth=3, segment=44)),  # hdemucs_mmi
        ("HDemucs", dict(hybrid_old=True, cac=False, norm_starts=999)),  # mdx's hybrid ones
        ("Demucs", dict(segment=None)),  # mdx's waveform ones
    ],
)
def test_the_official_configurations_pass_the_argument_check(name, official):
    import inspect

    from stemgui.separation import registry

    parameters = inspect.signature(registry.get_class(name)).parameters.values()
    kwargs = {p.name: p.default for p in parameters if p.default is not p.empty}
    kwargs.update(official, sources=["drums", "bass", "other", "vocals"])
    assert building._argument_fault(kwargs) is None


@pytest.mark.parametrize(
    ("module", "name", "grid"),
    [
        ("demucs.htdemucs", "HTDemucs", {"depth": 4}),  # grids/mmi.py: htdemucs, _ft, _6s
        ("demucs.hdemucs", "HDemucs", {}),  # grids/mdx*.py and mmi.py: their defaults
    ],
)
def test_the_official_hybrid_layers_line_up(module, name, grid):
    """No official grid changes nfft, kernel_size, stride or time_stride: the reference
    classes' defaults, with the grids' depth, are every official hybrid model's."""
    import inspect

    from stemgui.separation.nets.hybrid import shape_fault

    reference = getattr(pytest.importorskip(module), name)
    defaults = {p.name: p.default for p in inspect.signature(reference).parameters.values()} | grid
    keys = ("nfft", "depth", "kernel_size", "stride", "time_stride")
    assert shape_fault(*(defaults[key] for key in keys), defaults.get("hybrid", True)) is None


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"nfft": 300}, "nfft=300 does not fit the time branch: its hop (nfft // 4 = 75) must be"),
        ({"nfft": 4}, "nfft=4 does not fit the time branch: its hop (nfft // 4 = 1) must be even"),
        ({"nfft": 8}, "nfft=8 does not fit stride=4 and kernel_size=8: the branches merge at"),
        ({"nfft": 258}, "nfft=258 does not fit stride=4: layer 0 has 129 frequency bins, not a"),
        ({"stride": 100}, "kernel_size=8 is too small for stride=100: a decoder layer gives"),
        ({"kernel_size": 1}, "kernel_size=1 is too small for stride=4: a decoder layer gives"),
        ({"kernel_size": 1000}, "kernel_size=1000 is too large for stride=4 where the branches"),
        ({"depth": 6}, "depth=6 goes past the layer where the branches merge (nfft=256)"),
    ],
)
def test_arguments_whose_layers_cannot_line_up_are_refused_at_load(tmp_path, changes, said):
    """Each possible alone, not together: the file loaded, then every song failed at its first
    chunk ('expected 58 STFT frames, got 57', 'cannot inject', a decoder one sample short)."""
    path = tmp_path / "ht.stemgui"
    save_model(tiny_htdemucs(), path)
    payload = torch.load(path, weights_only=True)
    payload["models"][0]["kwargs"].update(changes)
    torch.save(payload, path)
    with pytest.raises(ModelLoadError) as refused:
        load_model(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: HTDemucs cannot be built from the stored arguments: {said}")
    assert message.endswith("; download or export it again")
