"""Our checkpoint format: entries, tensors and arguments that do not fit a network refused."""

from __future__ import annotations

import errno
from fractions import Fraction

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation import building, registry
from stemgui.separation.checkpoint import load_model, save_model
from tests.separation.model_files_helpers import make_tiny, refusal, saved_payload, tiny_htdemucs

pytestmark = pytest.mark.usefixtures("_tiny")


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
    payload = saved_payload(make_tiny(), path)
    payload["models"][0].update(change)
    assert refusal(payload, path) == f"{path}: {said}; export it again"


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
    payload = saved_payload(tiny_htdemucs(), path)
    payload["models"][0]["kwargs"][key] = value
    assert refusal(payload, path) == f"{path}: HTDemucs: {said}; download or export it again"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("half", [False, True])
def test_weights_with_nan_or_infinite_values_are_refused_naming_the_tensor(tmp_path, value, half):
    """Loaded, then made every stem NaN: the stems were written as silence, said only as a
    warning, and the song counted as separated."""
    path = tmp_path / "ht.stemgui"
    payload = saved_payload(tiny_htdemucs(), path, half=half)
    payload["models"][0]["state"]["freq_emb.embedding.weight"][0, 0] = value
    assert refusal(payload, path) == (
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
    payload = saved_payload(tiny_htdemucs(), path)
    payload["models"][0]["kwargs"]["segment"] = {"__fraction__": terms}
    assert refusal(payload, path) == (
        f"{path}: malformed stemgui model entry (a fraction must be two whole numbers, the "
        f"second not 0, not {terms!r}); export it again"
    )


def test_a_network_that_fails_to_build_on_other_arguments_is_refused(tmp_path):
    """dconv_comp 0 divides by zero inside the constructor: a traceback before."""
    path = tmp_path / "ht.stemgui"
    payload = saved_payload(tiny_htdemucs(), path)
    payload["models"][0]["kwargs"]["dconv_comp"] = 0
    assert refusal(payload, path) == (
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

    from stemgui.separation.nets.hybrid_unet import shape_fault

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
    payload = saved_payload(tiny_htdemucs(), path)
    payload["models"][0]["kwargs"].update(changes)
    message = refusal(payload, path)
    assert message.startswith(f"{path}: HTDemucs cannot be built from the stored arguments: {said}")
    assert message.endswith("; download or export it again")
