"""How the loop steps: batches, rates, source weights, micro-batches, processes, quantization."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from tests.training.fitting import TINY, generated_tracks, make
from training import config as config_mod


def test_batches_cut_from_device_resident_tracks_equal_the_samplers(tmp_path):
    # On a GPU the trainer keeps the tracks on the device and cuts batches there; the batches
    # must be those the CPU path draws (same seed and step, same augmentation).
    trainer = make(tmp_path)
    expected = [trainer.batch(step) for step in range(3)]
    trainer.resident = [torch.from_numpy(np.array(t[1:])) for t in trainer.sampler.tracks]
    for step, want in enumerate(expected):
        torch.testing.assert_close(trainer.batch(step), want, rtol=0, atol=0)


def test_annealed_rates_fall_in_a_line_to_zero_over_the_last_part_of_the_steps(tmp_path):
    trainer = make(tmp_path, overrides={"schedule": {"anneal": 0.5, "eval_every": 1000}})
    history = trainer.run(steps=8)
    rates = [e["lr"] / 3e-3 for e in history if "loss" in e]
    # the rate of each step is set from the steps done before it: 0/8 ... 7/8
    assert rates == pytest.approx([1, 1, 1, 1, 1, 0.75, 0.5, 0.25])


def test_a_time_boxed_run_anneals_over_its_time(tmp_path):
    trainer = make(tmp_path, overrides={"schedule": {"anneal": 0.5, "eval_every": 1000}})
    ticks = iter(range(0, 1000, 20))
    trainer.clock = lambda: next(ticks)  # read at the start, then after every step: +20 s each
    history = trainer.run(max_seconds=100)
    rates = [e["lr"] / 3e-3 for e in history if "loss" in e]
    # steps start at 0, 20, ... 100 s of the 100; the sixth ends at 120 s: past the deadline
    assert rates == pytest.approx([1, 1, 1, 0.8, 0.4, 0])
    assert trainer.step == 6


def test_warmup_rates_rise_in_a_line_and_meet_the_anneal(tmp_path):
    overrides = {"schedule": {"warmup": 4, "anneal": 0.5, "eval_every": 1000}}
    history = make(tmp_path, overrides=overrides).run(steps=8)
    rates = [e["lr"] / 3e-3 for e in history if "loss" in e]
    assert rates == pytest.approx([0.25, 0.5, 0.75, 1, 1, 0.75, 0.5, 0.25])


def test_source_weights_are_checked():
    with pytest.raises(ValueError, match="non-negative, not all zero"):
        config_mod.from_dict({"optim": {"source_weights": [0, 0, 0, 0]}})
    with pytest.raises(ValueError, match="non-negative, not all zero"):
        config_mod.from_dict({"optim": {"source_weights": [1, -1, 1, 1]}})
    with pytest.raises(ValueError, match="with a finite sum, got \\[1e\\+308"):
        config_mod.from_dict({"optim": {"source_weights": [1e308] * 4}})


@pytest.mark.parametrize("weights", [[0, 0, 1e39, 0], [0, 0, 1e-46, 0]])
def test_source_weights_beyond_float32_weigh_as_their_ratios(tmp_path, weights):
    """1e39 is no float32 (inf) and 1e-46 rounds to 0 in one: each made the loss weights NaN."""
    trainer = make(tmp_path, overrides={"optim": {"source_weights": weights}})
    assert trainer.source_weights.tolist() == [0, 0, 1, 0]


def test_source_weights_must_name_every_source(tmp_path):
    with pytest.raises(ValueError, match="3 weights for 4 sources"):
        make(tmp_path, overrides={"optim": {"source_weights": [1, 1, 1]}})


def test_micro_batches_make_the_step_of_the_whole_batch(tmp_path):
    """accumulate = 4: the batch of 4 goes through one excerpt at a time; same weights."""
    whole = make(tmp_path, "whole", overrides={"schedule": {"eval_every": 1000}})
    parts = make(
        tmp_path, "parts", overrides={"schedule": {"eval_every": 1000}, "optim": {"accumulate": 4}}
    )
    calls = []
    parts.model.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    whole.run(steps=4)
    parts.run(steps=4)
    assert calls == [1] * 16
    for key, value in whole.model.state_dict().items():
        torch.testing.assert_close(parts.model.state_dict()[key], value, atol=1e-5, rtol=1e-4)
    losses = [[e["loss"] for e in run.history if "loss" in e] for run in (whole, parts)]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    moved = max(
        (a - b).abs().max()
        for a, b in zip(
            whole.model.state_dict().values(), make(tmp_path, "fresh").model.state_dict().values()
        )
    )
    assert moved > 1e-3  # the steps did change the weights


@pytest.mark.parametrize("value", [0, 3, 1.5, True])
def test_micro_batches_must_divide_the_batch(value):
    with pytest.raises(ValueError, match=r"optim\.accumulate"):
        config_mod.from_dict({"optim": {"batch_size": 4, "accumulate": value}})


def _ddp_worker(rank, world, init_file, folder, results, accumulate, time_boxed=False):
    import torch.distributed as dist

    torch.set_num_threads(1)
    # A rank left waiting for the other fails after a minute instead of hanging the suite.
    dist.init_process_group(
        "gloo",
        init_method=f"file://{init_file}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        overrides = {"schedule": {"eval_every": 1000, "anneal": 0.5}}
        overrides["optim"] = {"accumulate": accumulate}
        trainer = make(folder, "ddp", overrides=overrides)
        if time_boxed:  # the clocks disagree: the second rank's alone would stop at once
            ticks = iter(range(0, 100_000, 10 if rank == 0 else 1000))
            trainer.clock = lambda: next(ticks)
            trainer.run(max_seconds=40)
        else:
            trainer.run(steps=4)
        torch.save(
            {"weights": trainer.model.state_dict(), "history": trainer.history},
            f"{results}.{rank}",
        )
        dist.barrier()  # both ranks done before either tears gloo down (else a rank can abort)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("accumulate", [1, 2])
def test_two_processes_end_with_the_weights_of_one(tmp_path, accumulate):
    """Each process trains on 2 of the batch of 4, at once or one excerpt at a time (its
    gradients stay local until the last micro-batch)."""
    overrides = {"schedule": {"eval_every": 1000, "anneal": 0.5}}
    single = make(tmp_path, "single", overrides=overrides)
    single.run(steps=4)
    results = tmp_path / "ddp.pt"
    mp.start_processes(
        _ddp_worker,
        args=(2, tmp_path / "init", tmp_path, results, accumulate),
        nprocs=2,
        start_method="spawn",
    )
    distributed = torch.load(f"{results}.0", weights_only=True)["weights"]
    for key, value in single.model.state_dict().items():
        torch.testing.assert_close(distributed[key], value, atol=1e-5, rtol=1e-4)


def test_time_boxed_processes_anneal_and_stop_by_the_first_ones_clock(tmp_path):
    results = tmp_path / "ddp.pt"
    mp.start_processes(
        _ddp_worker,
        args=(2, tmp_path / "init", tmp_path, results, 1, True),
        nprocs=2,
        start_method="spawn",
    )
    ranks = [torch.load(f"{results}.{rank}", weights_only=False) for rank in (0, 1)]
    for rank in ranks:
        rates = [e["lr"] / 3e-3 for e in rank["history"] if "loss" in e]
        # steps start at 0, 10, 20, 30, 40 s of the first rank's 40; the fifth ends past them
        assert rates == pytest.approx([1, 1, 1, 0.5, 0])
    for key, value in ranks[0]["weights"].items():
        torch.testing.assert_close(ranks[1]["weights"][key], value, rtol=0, atol=0)


def test_time_box_stops_with_an_evaluation_and_a_checkpoint(tmp_path):
    trainer = make(tmp_path, overrides={"schedule": {"eval_every": 1000, "checkpoint_every": 1000}})
    history = trainer.run(max_seconds=0)
    assert trainer.step == 1
    assert [e["step"] for e in history if "valid_all" in e] == [1]
    assert (tmp_path / "run" / "last.pt").exists() and (tmp_path / "run" / "best.stemgui").exists()


def test_quantization_aware_run_learns_bits_resumes_and_ships_them_packed(tmp_path):
    """diffq on: the model-size penalty lowers the bits, the best file is the quantized model as
    validated, and a resumed run ends with the same weights and bits."""
    from stemgui.separation.checkpoint import load_model, read_checkpoint

    wider = {**TINY["model"]["kwargs"], "channels": 16}  # weights big enough to quantize
    options = {"optim": {"ema": 0.0}, "schedule": {"steps": 12}, "model": {"kwargs": wider}}
    quant = {**options, "quant": {"diffq": 1e-2, "bits_lr": 0.3}}
    trainer = make(tmp_path, "qat", quant)
    start_size = trainer.qat.model_size_mb()
    trainer.run()
    assert trainer.qat.model_size_mb() < start_size  # the penalty lowered the bits
    best = tmp_path / "qat" / "best.stemgui"
    quantization = read_checkpoint(best)["provenance"]["quantization"]
    assert quantization["penalty"] == 1e-2 and quantization["mean_bits"] < 8
    trainer.model.eval()
    mix = torch.from_numpy(generated_tracks(1, seed=3)[0][0][None])
    with torch.no_grad():
        torch.testing.assert_close(load_model(best)(mix), trainer.model(mix), atol=1e-5, rtol=0)

    half = make(tmp_path, "halves", quant)
    half.run(steps=6)
    resumed = make(tmp_path, "halves", quant)
    resumed.run()
    ended = resumed.model.state_dict()
    for name, value in trainer.model.state_dict().items():
        torch.testing.assert_close(ended[name], value, msg=name)


def test_quantization_aware_training_refuses_an_ema_or_a_model_too_small(tmp_path):
    with pytest.raises(ValueError, match=r"needs optim\.ema = 0"):
        config_mod.from_dict({"quant": {"diffq": 1e-3}, "optim": {"ema": 0.99}})
    with pytest.raises(ValueError, match="none would be quantized"):
        make(tmp_path, overrides={"quant": {"diffq": 1e-3}, "optim": {"ema": 0.0}})
