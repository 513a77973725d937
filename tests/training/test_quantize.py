"""diffq quantization (``training.quantize``) and its command (``training.quantize_command``):
file sizes, engine loading, output error vs bits, the printed size and SDR change."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("diffq")

from stemgui.separation.checkpoint import load_model, read_checkpoint, save_model
from stemgui.separation.nets.demucs import Demucs
from training import evaluate, quantize, quantize_command

SOURCES = ["drums", "bass", "other", "vocals"]
WORDS_PER_LINE = 64 * 32  # diffq's bitpack stores levels in lines of 2048 entries


def _model(seed: int = 0) -> Demucs:
    torch.manual_seed(seed)
    return Demucs(SOURCES, channels=16, depth=4, segment=None).eval()


@pytest.fixture(scope="module")
def float_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("quantize") / "float.stemgui"
    model = _model()
    save_model(model, path)
    return model, path


@pytest.fixture(scope="module")
def quantized_files(float_file, tmp_path_factory):
    """{bits: QuantizeReport} for 4, 8 and 15 bits of the float file."""
    _, source = float_file
    folder = tmp_path_factory.mktemp("quantized")
    return {
        bits: quantize.quantize_file(source, folder / f"q{bits}.stemgui", bits=bits)
        for bits in (4, 8, 15)
    }


def _snr(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    return 10 * math.log10(reference.pow(2).sum() / (reference - estimate).pow(2).sum())


def _quantized_numel(model, min_size=quantize.DEFAULT_MIN_SIZE) -> list[int]:
    limit = min_size * 2**20 // 4
    return [p.numel() for p in model.parameters() if p.numel() > limit]


def test_file_size_follows_the_bits(float_file, quantized_files):
    model, source = float_file
    sizes = {bits: report.bytes_after for bits, report in quantized_files.items()}
    numels = _quantized_numel(model)
    assert sum(numels) > 0.9 * sum(p.numel() for p in model.parameters())
    # the same tensors in both files; the levels take bits/8 bytes per padded entry
    padded = sum(math.ceil(n / WORDS_PER_LINE) * WORDS_PER_LINE for n in numels)
    assert abs((sizes[8] - sizes[4]) - padded * 4 // 8) <= 64 * len(numels)  # zip alignment
    float_bytes = source.stat().st_size
    assert quantized_files[8].bytes_before == float_bytes
    assert float_bytes / sizes[8] > 3.3  # 32 -> 8 bits, small tensors in float16
    assert float_bytes / sizes[4] > 5.5


def test_engine_loads_it_with_weights_within_half_a_step(float_file, quantized_files):
    model, _ = float_file
    report = quantized_files[8]
    assert report.ratio > 3.3 and len(report.sha256) == 64 and report.bits == 8
    loaded = load_model(report.destination, sha256=report.sha256)
    assert type(loaded) is Demucs and loaded.sources == SOURCES
    limit = quantize.DEFAULT_MIN_SIZE * 2**20 // 4
    restored = dict(loaded.named_parameters())
    for name, weight in model.named_parameters():
        error = (restored[name] - weight).abs().max().item()
        float32_rounding = 8 * torch.finfo(torch.float32).eps * weight.abs().max().item()
        if weight.numel() > limit:  # quantized: rounding to the nearest of 255 steps
            assert error <= quantize.quantization_step(weight, 8) / 2 + float32_rounding, name
            assert error > quantize.quantization_step(weight, 8) / 4, name  # it was quantized
        else:  # kept in float16: relative rounding 2**-11
            assert error <= weight.abs().max().item() * 2**-11, name
    assert report.max_error <= report.max_half_step * (1 + 1e-4)


def test_output_error_follows_the_bit_depth(float_file, quantized_files):
    """Uniform rounding noise drops by 6.02 dB per bit: from 4 to 8 bits the output SNR rises
    by about 24 dB. Measured against the 15-bit file, whose small tensors are the same float16
    ones, so that only the rounding of the quantized tensors differs; at 8 bits the SNR against
    the float model is far above 40 dB."""
    model, _ = float_file
    mix = torch.randn(1, 2, model.valid_length(4000), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outputs = {b: load_model(r.destination)(mix) for b, r in quantized_files.items()}
        assert _snr(model(mix), outputs[8]) > 40
    slope = _snr(outputs[15], outputs[8]) - _snr(outputs[15], outputs[4])
    assert abs(slope - 4 * 20 * math.log10(2)) < 3


def test_engine_loads_without_diffq(quantized_files, monkeypatch):
    for name in [m for m in sys.modules if m == "diffq" or m.startswith("diffq.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "diffq", None)  # import diffq now raises ImportError
    with pytest.raises(ImportError):
        import diffq  # noqa: F401
    assert isinstance(load_model(quantized_files[8].destination), Demucs)


def test_quantizing_leaves_the_model_unchanged(tmp_path):
    model = _model(seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    quantize.quantize_model_file(model, tmp_path / "q.stemgui", bits=6)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model._forward_pre_hooks and not model._forward_hooks  # quantizer detached


def test_bag_or_bad_bits_are_refused(float_file, tmp_path):
    model, _ = float_file
    with pytest.raises(ValueError, match="bits"):
        quantize.uniform_quantizer(model, 16)


def test_a_quantized_file_is_not_quantized_again(quantized_files, tmp_path):
    eight_bits = quantized_files[8].destination
    with pytest.raises(ValueError, match="is quantized already; quantize the float file"):
        quantize.quantize_file(eight_bits, tmp_path / "again.stemgui")
    assert not (tmp_path / "again.stemgui").exists()


# ----------------------------------------------------------------------------- QAT


def _qat_setup(bits_lr: float):
    model = _model(seed=4).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # before the quantizer
    qat = quantize.QuantizationAwareTraining(model, optimizer, penalty=1.0, bits_lr=bits_lr)
    return model, optimizer, qat


def test_qat_penalty_shrinks_the_model():
    model, optimizer, qat = _qat_setup(bits_lr=0.1)
    mix = torch.randn(1, 2, model.valid_length(1000), generator=torch.Generator().manual_seed(2))
    target = torch.randn(1, 4, 2, mix.shape[-1])
    estimate0 = qat.quantizer.model_size().item()
    size0, bits0 = qat.model_size_mb(), qat.mean_bits()
    assert bits0 == 8
    penalties = []
    for _ in range(3):
        optimizer.zero_grad()
        penalty = qat.penalty()
        assert penalty.requires_grad and penalty.item() > 0
        penalties.append(penalty.item())
        loss = torch.nn.functional.l1_loss(model(mix), target) + penalty
        loss.backward()
        optimizer.step()
    assert qat.quantizer.model_size().item() < estimate0
    assert penalties == sorted(penalties, reverse=True)
    assert qat.model_size_mb() < size0 and qat.mean_bits() < bits0
    names = [n for n, _ in quantize.plain_parameters(model)]
    assert names and not any(n.endswith(quantize.DIFFQ_SUFFIX) for n in names)
    assert any(n.endswith(quantize.DIFFQ_SUFFIX) for n, _ in model.named_parameters())


def test_qat_model_saves_and_loads_as_evaluated(tmp_path):
    model, optimizer, qat = _qat_setup(bits_lr=0.5)
    for _ in range(3):  # move the bits away from 8 so that groups differ
        optimizer.zero_grad()
        qat.penalty().backward()
        optimizer.step()
    assert qat.mean_bits() < 8
    path = tmp_path / "qat.stemgui"
    qat.save(path, provenance={"note": "test"})
    mix = torch.randn(1, 2, model.valid_length(4000), generator=torch.Generator().manual_seed(5))
    model.eval()  # diffq swaps in the truly quantized weights while evaluating
    with torch.no_grad():
        expected = model(mix)
        got = load_model(path)(mix)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    # validation during training (Separator, eval mode) sees the saved model, and the float
    # weights are back afterwards
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    track = np.random.default_rng(6).standard_normal((5, 2, 6000)).astype(np.float32)
    scores = evaluate.separate_tracks(model, [track])
    np.testing.assert_allclose(
        scores, evaluate.separate_tracks(load_model(path), [track]), atol=1e-4
    )
    assert all(torch.equal(p, weights[n]) for n, p in model.named_parameters())
    float_bytes = 4 * sum(p.numel() for _, p in quantize.plain_parameters(model))
    assert path.stat().st_size < float_bytes / 3


def test_qat_needs_the_optimizer_first():
    model = _model(seed=5)
    optimizer = torch.optim.Adam(model.parameters())
    quantize.QuantizationAwareTraining(model, optimizer)
    again = torch.optim.Adam(model.parameters())  # now holds the bits logits too
    with pytest.raises(RuntimeError):
        quantize.QuantizationAwareTraining(model, again)


# ----------------------------------------------------------------------------- command


def _one_track(tmp_path, silent: tuple[str, ...] = ()) -> list[str]:
    """A data folder of one MUSDB validation track of noise (the stems ``silent`` silent):
    quantize's --data and --cache."""
    soundfile = pytest.importorskip("soundfile")
    track = tmp_path / "data" / "Leaf - Summerghost"
    track.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in SOURCES:
        level = 0.0 if name in silent else 0.1
        soundfile.write(track / f"{name}.wav", level * rng.standard_normal((22050, 2)), 44100)
    return ["--data", str(tmp_path / "data"), "--cache", str(tmp_path / "cache")]


def test_command_reports_size_and_sdr_change(float_file, tmp_path, capsys):
    _, source = float_file
    data = _one_track(tmp_path)
    parser = argparse.ArgumentParser()
    quantize_command.add_parser(parser.add_subparsers(dest="command"))
    output = tmp_path / "q8.stemgui"
    args = parser.parse_args(
        [
            "quantize",
            str(source),
            str(output),
            "--bits",
            "8",
            *data,
        ]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "x smaller" in printed and "| change |" in printed
    assert "ship the quantized file" in printed  # 8 bits: far less than 0.2 dB lost
    assert load_model(output).sources == SOURCES
    # the quantized file's own figures, which export puts in the manifest (not the source's)
    (row,) = [line for line in printed.splitlines() if line.startswith("| 8 bits |")]
    measured = [float(cell) for cell in row.strip("| ").split("|")[1:]]
    recorded = read_checkpoint(output)["provenance"]["valid_sdr"]
    assert [recorded[s] for s in SOURCES] == pytest.approx(measured[:-1], abs=0.005)
    assert recorded["all"] == pytest.approx(measured[-1], abs=0.005)
    assert read_checkpoint(output)["provenance"]["valid_tracks"] == 1  # measured on, not 14


def test_a_quantized_file_that_is_not_smaller_is_said_larger_and_never_recommended(
    tmp_path, capsys
):
    """15 bits of a float16 file: it said "0.28x smaller" and, with --data, "ship the quantized
    file" since no SDR was lost."""
    from training.__main__ import main

    source = tmp_path / "half.stemgui"
    save_model(_model(), source, half=True)
    output = tmp_path / "q15.stemgui"
    args = ["quantize", str(source), str(output), "--bits", "15", "--min-size", "0"]
    assert main([*args, *_one_track(tmp_path)]) == 0
    printed = capsys.readouterr().out
    larger = output.stat().st_size / source.stat().st_size
    assert larger > 1 and f"({larger:.2f}x larger, 15 bits," in printed
    assert "ship the quantized file" not in printed
    assert "keep half.stemgui: the quantized file is not smaller" in printed


def test_a_min_size_above_every_parameter_says_float16_and_keeps_the_source(
    float_file, tmp_path, capsys
):
    """--min-size 1000 quantized nothing (every weight float16), said "8 bits" of the file and,
    with --data, "ship the quantized file"."""
    from training.__main__ import main

    _, source = float_file
    output = tmp_path / "q8.stemgui"
    args = ["quantize", str(source), str(output), "--min-size", "1000"]
    assert main([*args, *_one_track(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert ", 8 bits," not in printed and "ship the quantized file" not in printed
    assert (
        "float16, sha256 " in printed
        and ": no parameter is over --min-size 1000 MB, so none is in 8 bits, every weight in "
        "float16; give a smaller --min-size"
        in printed
    )
    assert "| float16 |" in printed and "keep float.stemgui: nothing was quantized" in printed


def test_data_without_validation_tracks_are_refused_before_the_output_is_written(
    float_file, tmp_path, caplog
):
    from training.__main__ import main

    _, source = float_file
    output = tmp_path / "q8.stemgui"
    assert main(["quantize", str(source), str(output), "--data", str(tmp_path / "absent")]) == 1
    assert "no such data folder" in caplog.text
    (tmp_path / "mine").mkdir()  # a folder, but none of the MUSDB validation songs in it
    assert main(["quantize", str(source), str(output), "--data", str(tmp_path / "mine")]) == 1
    assert "the 14 MUSDB18 validation songs" in caplog.text
    assert not output.exists() and not list(tmp_path.glob("*.part"))


def test_sdr_change_table():
    before, after = np.array([1.0, 3.0]), np.array([0.5, 3.5])
    table = quantize_command.sdr_change_table(["a", "b"], before, after, 2, ("m.stemgui", "8 bits"))
    assert "| change | -0.50 | +0.50 | +0.00 |" in table
    assert "| m.stemgui | 1.00 | 3.00 | 2.00 |" in table and "| 8 bits | 0.50 | 3.50 |" in table


def test_sdr_change_table_means_skip_a_source_no_track_scores():
    """A source silent in every validation track has no SDR (NaN): the means are over the
    others, as eval's table and the manifest's "all" are, not NaN."""
    before, after = np.array([1.0, 3.0, math.nan]), np.array([0.5, 3.5, math.nan])
    table = quantize_command.sdr_change_table(["a", "b", "c"], before, after, 1, ("m", "8 bits"))
    assert "| m | 1.00 | 3.00 | nan | 2.00 |" in table
    assert "| change | -0.50 | +0.50 | +nan | +0.00 |" in table


def test_a_source_silent_in_every_track_leaves_the_verdict_to_the_others(
    float_file, tmp_path, capsys
):
    """Validation tracks without vocals (an instrumental): vocals' SDR is NaN, and the mean
    change was NaN too, printed "mean SDR change +nan dB: keep float.stemgui" for a file that
    lost nothing."""
    from training.__main__ import main

    _, source = float_file
    output = tmp_path / "q8.stemgui"
    args = ["quantize", str(source), str(output), "--bits", "8"]
    assert main([*args, *_one_track(tmp_path, silent=("vocals",))]) == 0
    printed = capsys.readouterr().out
    assert "nan dB" not in printed
    assert "ship the quantized file" in printed


def test_the_float_model_s_scores_are_not_carried_into_the_quantized_file(tmp_path):
    """Without --data, export shipped the float model's validation SDR as the 8-bit file's."""
    source = tmp_path / "float.stemgui"
    save_model(_model(), source, provenance={"valid_sdr": {"drums": 4.2}})
    quantize.quantize_file(source, tmp_path / "q.stemgui", bits=8)
    assert read_checkpoint(tmp_path / "q.stemgui")["provenance"]["valid_sdr"] == {}
