"""The training loop learns, resumes exactly, and trains the same on two processes as on one."""

from __future__ import annotations

import datetime
import json
import math
import os
import signal

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from training import config as config_mod
from training.fit import Trainer

TINY = {
    "data": {"segment": 0.25, "shift": 0.05},
    "model": {
        "architecture": "Demucs",
        "kwargs": {
            "channels": 4,
            "depth": 2,
            "lstm_layers": 0,
            "dconv_mode": 0,
            "rewrite": False,
            "resample": False,
            "normalize": True,
        },
    },
    "optim": {"lr": 3e-3, "batch_size": 4, "ema": 0.9, "clip_grad": 5.0},
    "schedule": {"steps": 40, "eval_every": 20, "checkpoint_every": 5, "log_every": 1},
    "augment": {"remix_group": 2},
    "seed": {"value": 7},
}


def generated_tracks(count: int, seconds: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    """Tracks of four easy sources: low tone, noise bursts, mid tone, high tone."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * 44100)
    t = np.arange(frames) / 44100
    tracks = []
    for _ in range(count):
        drums = rng.standard_normal(frames) * (np.sin(2 * np.pi * 4 * t) > 0.8) * 0.3
        bass = 0.3 * np.sin(2 * np.pi * rng.uniform(50, 90) * t)
        other = 0.2 * np.sin(2 * np.pi * rng.uniform(400, 600) * t)
        vocals = 0.2 * np.sin(2 * np.pi * rng.uniform(1500, 2500) * t)
        stems = np.stack([np.stack([s, s]) for s in (drums, bass, other, vocals)])
        tracks.append(np.concatenate([stems.sum(0, keepdims=True), stems]).astype(np.float32))
    return tracks


def make(tmp_path, name="run", overrides=None, **kwargs):
    values = json.loads(json.dumps(TINY))
    for section, options in (overrides or {}).items():
        values.setdefault(section, {}).update(options)
    config = config_mod.from_dict(values)
    return Trainer(
        config,
        tmp_path / name,
        train_tracks=generated_tracks(4),
        valid_tracks=generated_tracks(2, seed=1),
        **kwargs,
    )


def test_loss_goes_down_and_run_folder_is_complete(tmp_path):
    trainer = make(tmp_path)
    history = trainer.run()
    losses = [e["loss"] for e in history if "loss" in e]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    folder = tmp_path / "run"
    for name in (
        "config.toml",
        "provenance.json",
        "history.json",
        "history.csv",
        "last.pt",
        "best.stemgui",
    ):
        assert (folder / name).exists(), name
    assert [e["step"] for e in history if "valid_all" in e] == [20, 40]


def test_the_best_model_records_when_its_session_started_not_when_it_was_saved(
    tmp_path, monkeypatch
):
    from types import SimpleNamespace

    from stemgui.separation.checkpoint import read_checkpoint
    from training import provenance

    hours = iter(range(100))

    class Clock(datetime.datetime):  # an hour later at every call
        @classmethod
        def now(cls, tz=None):
            start = datetime.datetime(2026, 1, 1, tzinfo=tz)
            return start + datetime.timedelta(hours=next(hours))

    monkeypatch.setattr(
        provenance, "_dt", SimpleNamespace(datetime=Clock, timezone=datetime.timezone)
    )
    make(tmp_path, overrides={"schedule": {"steps": 4, "eval_every": 2}}).run()
    written = json.loads((tmp_path / "run" / "provenance.json").read_text())
    saved = read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]
    assert written["started"] == saved["started"] == "2026-01-01T00:00:00+00:00"


def test_without_validation_tracks_the_latest_weights_are_kept_unscored(tmp_path, caplog):
    from stemgui.separation.checkpoint import load_model, read_checkpoint

    config = config_mod.from_dict({**TINY, "schedule": {"steps": 3, "eval_every": 2}})
    with caplog.at_level("WARNING", logger="training.fit"):
        trainer = Trainer(config, tmp_path / "run", train_tracks=generated_tracks(4))
    assert "no validation tracks" in caplog.text
    trainer.run()
    best = tmp_path / "run" / "best.stemgui"
    assert read_checkpoint(best)["provenance"]["valid_sdr"] == {}
    assert read_checkpoint(best)["provenance"]["steps"] == 3  # saved at steps 2 and 3 (the end)
    for name, tensor in load_model(best).state_dict().items():
        torch.testing.assert_close(tensor, trainer.ema.state_dict()[name], rtol=0, atol=0)


def test_validation_names_that_are_not_among_the_tracks_are_refused(tmp_path):
    import soundfile as sf

    for index, track in enumerate(generated_tracks(2)):
        folder = tmp_path / "data" / f"track{index}"
        folder.mkdir(parents=True)
        for name, audio in zip(("drums", "bass", "other", "vocals"), track[1:]):
            sf.write(folder / f"{name}.wav", audio.T, 44100, subtype="FLOAT")
    values = {
        **TINY,
        "data": {"roots": [str(tmp_path / "data")], "validation": ["track1", "trak0"]},
    }
    with pytest.raises(ValueError, match=r"data\.validation names tracks not found .*: trak0$"):
        Trainer(config_mod.from_dict(values), tmp_path / "run")


def test_a_validation_track_with_a_silent_stem_is_named_in_the_warning(tmp_path, caplog):
    """An instrumental among the validation tracks: each validation warned "a source is silent
    over the whole track" without saying which track or source."""
    import soundfile as sf

    tracks = generated_tracks(3)
    tracks[2][4] = 0.0  # no vocals
    tracks[2][0] = tracks[2][1:].sum(axis=0)
    for index, track in enumerate(tracks):
        folder = tmp_path / "data" / f"track{index}"
        folder.mkdir(parents=True)
        for name, audio in zip(("drums", "bass", "other", "vocals"), track[1:]):
            sf.write(folder / f"{name}.wav", audio.T, 44100, subtype="FLOAT")
    roots = {"roots": [str(tmp_path / "data")], "validation": ["track2"]}
    values = {**TINY, "data": {**TINY["data"], **roots, "cache": str(tmp_path / "cache")}}
    trainer = Trainer(config_mod.from_dict(values), tmp_path / "run")
    scores = trainer.evaluate()["musdb"]
    assert "track2: vocals (its reference) silent over the whole track" in caplog.text
    assert math.isnan(scores["vocals"]) and not math.isnan(scores["drums"])
    trainer.evaluate()  # said once a session, not at every validation
    assert caplog.text.count("track2: vocals (its reference) silent") == 1
    resumed = Trainer(config_mod.from_dict(values), tmp_path / "run")
    resumed.evaluate()  # and said again in the next session
    assert caplog.text.count("track2: vocals (its reference) silent") == 2


def test_unnamed_validation_tracks_with_a_silent_stem_are_each_said_once(tmp_path, caplog):
    trainer = make(tmp_path)
    for track in trainer.valid_tracks:
        track[4] = 0.0  # no vocals
        track[0] = track[1:].sum(axis=0)
    with caplog.at_level("WARNING", logger="training.bsseval"):
        trainer.evaluate()
        trainer.evaluate()
    said = [r.getMessage().split(":")[0] for r in caplog.records if "silent" in r.getMessage()]
    assert said == ["validation track 1", "validation track 2"]


def test_provenance_counts_the_tracks_not_their_changed_copies(tmp_path):
    trainer = make(tmp_path, overrides={"augment": {"repitch": 2}, "schedule": {"steps": 1}})
    assert len(trainer.sampler.tracks) == 12  # 4 tracks and 2 changed copies of each
    trainer.run()
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert (provenance["train_tracks"], provenance["valid_tracks"]) == (4, 2)


def test_batches_cut_from_device_resident_tracks_equal_the_samplers(tmp_path):
    # On a GPU the trainer keeps the tracks on the device and cuts batches there; the batches
    # must be those the CPU path draws (same seed and step, same augmentation).
    trainer = make(tmp_path)
    expected = [trainer.batch(step) for step in range(3)]
    trainer.resident = [torch.from_numpy(np.array(t[1:])) for t in trainer.sampler.tracks]
    for step, want in enumerate(expected):
        torch.testing.assert_close(trainer.batch(step), want, rtol=0, atol=0)


@pytest.mark.parametrize("anneal", [0.0, 0.5])
def test_resume_matches_an_uninterrupted_run(tmp_path, anneal):
    overrides = {"schedule": {"anneal": anneal}}
    straight = make(tmp_path, "straight", overrides)
    straight.run(steps=12)
    interrupted = make(tmp_path, "interrupted", overrides)

    def kill(step, loss):
        if step == 7:
            raise KeyboardInterrupt  # the last checkpoint was at step 5

    with pytest.raises(KeyboardInterrupt):
        interrupted.run(steps=12, on_step=kill)
    resumed = make(tmp_path, "interrupted", overrides)
    resumed.run(steps=12)
    assert resumed.step == 12
    assert not list((tmp_path / "interrupted").glob("config-*"))  # the same recipe: none kept
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    losses = [[e for e in run.history if "loss" in e] for run in (straight, resumed)]
    assert losses[0] == losses[1]


def test_ctrl_c_stops_after_the_step_with_last_pt_saved_and_resumes_as_one_run(tmp_path, caplog):
    straight = make(tmp_path, "straight")
    straight.run(steps=9)
    stopped = make(tmp_path, "stopped")
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the suite runs in the background

    def ctrl_c(step, loss):
        if step == 7:  # between checkpoints (every 5): those steps were lost
            os.kill(os.getpid(), signal.SIGINT)

    with caplog.at_level("WARNING", logger="training.fit"):
        stopped.run(steps=9, on_step=ctrl_c)
    assert stopped.interrupted and stopped.step == 7
    assert "stopped at step 7 (Ctrl-C); last.pt is saved" in caplog.text
    assert signal.getsignal(signal.SIGINT) is before  # given back
    resumed = make(tmp_path, "stopped")
    resumed.run(steps=9)
    assert not resumed.interrupted
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_a_folder_with_results_but_no_saved_state_is_not_overwritten(tmp_path):
    make(tmp_path).run(steps=5)
    (tmp_path / "run" / "last.pt").unlink()
    best = (tmp_path / "run" / "best.stemgui").read_bytes()
    with pytest.raises(ValueError, match=r"holds a run's results \(best\.stemgui, history\.json\)"):
        make(tmp_path).run(steps=6)
    assert (tmp_path / "run" / "best.stemgui").read_bytes() == best
    recipe = config_mod.from_dict({**TINY, "data": {"roots": [str(tmp_path / "absent")]}})
    with pytest.raises(ValueError, match="holds a run's results"):  # before any data are read
        Trainer(recipe, tmp_path / "run")


def test_a_run_killed_after_its_first_validation_before_its_checkpoint_resumes(tmp_path):
    overrides = {"schedule": {"eval_every": 2, "checkpoint_every": 5}}
    killed = make(tmp_path, overrides=overrides)

    def kill(step, loss):
        if step == 3:  # best.stemgui written at step 2, the first last.pt due at step 5
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        killed.run(steps=6, on_step=kill)
    assert (tmp_path / "run" / "best.stemgui").exists()
    again = make(tmp_path, overrides=overrides)
    again.run(steps=6)  # was refused: "holds a run's results (best.stemgui) but no last.pt"
    assert again.step == 6

    # Killed between last.pt and best.stemgui: the score it had is not trusted without its file.
    (tmp_path / "run" / "best.stemgui").unlink()
    resumed = make(tmp_path, overrides=overrides)
    assert resumed.load_state() and resumed.best_sdr == -math.inf


def test_a_finished_run_asked_again_keeps_its_provenance(tmp_path):
    make(tmp_path).run(steps=3)
    path = tmp_path / "run" / "provenance.json"
    recorded = path.read_text()
    again = make(tmp_path)
    again.run(steps=3)  # nothing to do
    assert again.step == 3
    assert path.read_text() == recorded  # was restamped, with an empty session in "earlier"


def test_an_average_turned_on_at_a_resume_starts_from_the_trained_weights(tmp_path):
    make(tmp_path, overrides={"optim": {"ema": 0.0}}).run(steps=5)
    resumed = make(tmp_path, overrides={"optim": {"ema": 0.999}})
    assert resumed.load_state()
    for name, tensor in resumed.model.state_dict().items():  # not the random start's
        torch.testing.assert_close(resumed.ema.state_dict()[name], tensor, rtol=0, atol=0)


def test_init_is_not_used_nor_recorded_when_a_run_resumes(tmp_path, caplog):
    make(tmp_path, "first").run(steps=2)
    make(tmp_path).run(steps=5)
    again = make(tmp_path, init=tmp_path / "first" / "best.stemgui")
    with caplog.at_level("WARNING", logger="training.resume"):
        again.run(steps=6)
    assert "--init best.stemgui is not used" in caplog.text
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert provenance["init"] is None  # the run started from scratch, whatever this --init


def test_a_finished_run_asked_again_with_init_says_where_its_weights_started(tmp_path, caplog):
    """Said "(its weights started from best.stemgui)", as a mere note, of a run trained from
    scratch: the --init given was taken for the run's own start when there was no step to do."""
    make(tmp_path, "first").run(steps=2)
    make(tmp_path).run(steps=3)
    again = make(tmp_path, init=tmp_path / "first" / "best.stemgui")
    with caplog.at_level("INFO", logger="training.resume"):
        again.run(steps=3)  # nothing to do
    (said,) = [r for r in caplog.records if "is not used" in r.getMessage()]
    assert said.levelname == "WARNING"
    assert "(its weights started from scratch)" in said.getMessage()


@pytest.mark.parametrize("keep", [1000, 20000])
def test_a_damaged_saved_state_is_refused_naming_it(tmp_path, keep):
    """Cut at 20000 bytes, torch said "[Errno 22] Invalid argument" and named nothing."""
    make(tmp_path).run(steps=5)  # last.pt at step 5
    last = tmp_path / "run" / "last.pt"
    last.write_bytes(last.read_bytes()[:keep])  # cut short (a copy that stopped half-way)
    with pytest.raises(ValueError, match=r"last\.pt: this run's saved state cannot be read"):
        make(tmp_path).run(steps=6)


def test_a_saved_state_of_another_kind_is_refused_without_torchs_unsafe_advice(tmp_path):
    """Said torch's "Weights only load failed ... Re-running `torch.load` with `weights_only`
    set to `False` will likely succeed, but it can result in arbitrary code execution" of a file
    that is no saved state at all (text, another program's file)."""
    make(tmp_path).run(steps=2)
    last = tmp_path / "run" / "last.pt"
    last.write_text("garbage\n")
    with pytest.raises(ValueError) as caught:
        make(tmp_path).run(steps=3)
    assert str(caught.value) == (
        f"{last}: this run's saved state cannot be read (damaged, or not a saved state); "
        "train into another --run folder, or move this one aside"
    )


def test_a_resumed_run_takes_the_recipes_learning_rate_and_keeps_the_recipe_before(
    tmp_path, caplog
):
    make(tmp_path, "run").run(steps=2)
    resumed = make(tmp_path, "run", overrides={"optim": {"lr": 1e-4}})
    with caplog.at_level("WARNING", logger="training.provenance"):
        resumed.run(steps=3)
    assert resumed.step == 3
    assert [group["lr"] for group in resumed.optimizer.param_groups] == [1e-4]
    assert resumed.optimizer.state  # Adam's moments came back with the weights
    folder = tmp_path / "run"
    assert config_mod.load(folder / "config-until-step-2.toml")["optim"]["lr"] == 3e-3
    assert config_mod.load(folder / "config.toml")["optim"]["lr"] == 1e-4
    assert "resumes at step 2 with another recipe (optim.lr: 0.003 -> 0.0001)" in caplog.text
    # a session at step 3 that stopped before its first step, then one with yet another rate
    killed = make(tmp_path, "run", overrides={"optim": {"lr": 5e-4}})
    killed.train_step = lambda: (_ for _ in ()).throw(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        killed.run(steps=4)
    make(tmp_path, "run", overrides={"optim": {"lr": 2e-4}}).run(steps=4)
    # the steps up to 3 ran 1e-4, not the 5e-4 of the session that ran none (was overwritten)
    assert config_mod.load(folder / "config-until-step-3.toml")["optim"]["lr"] == 1e-4


def test_recipe_differences_name_each_changed_setting():
    before = config_mod.from_dict(TINY)
    after = config_mod.from_dict({**TINY, "augment": {"remix_group": 2, "repitch": 2}})
    after["model"]["kwargs"]["depth"] = 3
    assert config_mod.differences(before, before) == []
    assert config_mod.differences(before, after) == [
        "model.kwargs.depth: 2 -> 3",
        "augment.repitch: 0 -> 2",
    ]
    del after["model"]["kwargs"]["depth"]
    after["model"]["kwargs"]["new"] = 1
    assert config_mod.differences(before, after)[:2] == [
        "model.kwargs.depth: 2 -> unset",
        "augment.repitch: 0 -> 2",
    ]
    assert config_mod.differences(before, after)[2] == "model.kwargs.new: unset -> 1"


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


def test_a_specialist_learns_only_its_source_and_is_kept_by_its_score(tmp_path):
    # optim.source_weights = [0, 0, 1, 0]: the loss is the L1 of "other" alone, so the last
    # layer's outputs of the three other sources get no gradient and Adam leaves them as they were.
    trainer = make(tmp_path, overrides={"optim": {"source_weights": [0, 0, 1, 0], "ema": 0.0}})
    last = trainer.model.decoder[-1][0]  # ConvTranspose1d to sources x channels = 8 outputs
    before_w, before_b = last.weight.detach().clone(), last.bias.detach().clone()
    trainer.run(steps=3)
    other = slice(4, 6)  # "other" is the third source, two channels each
    keep = [i for i in range(8) if i not in (4, 5)]
    assert torch.equal(last.weight[:, keep], before_w[:, keep])
    assert torch.equal(last.bias[keep], before_b[keep])
    assert not torch.equal(last.weight[:, other], before_w[:, other])
    scores = trainer.evaluate()
    assert [s["weighted"] for s in scores.values()] == [s["other"] for s in scores.values()]
    assert trainer.best_sdr == [e for e in trainer.history if "valid_other" in e][-1]["valid_other"]


def script_scores(trainer, rows):
    """``trainer.evaluate`` returns, in turn, every source at (global, MUSDB) of ``rows``."""
    rows = iter(rows)

    def evaluate():
        scores = dict(zip(("global", "musdb"), next(rows)))
        return {k: {**dict.fromkeys(trainer.model.sources, v), "all": v} for k, v in scores.items()}

    trainer.evaluate = evaluate


@pytest.mark.parametrize("metric, kept", [("global", 3), ("musdb", 1)])
def test_best_is_the_one_the_recipes_metric_prefers(tmp_path, metric, kept):
    from stemgui.separation.checkpoint import read_checkpoint

    overrides = {"schedule": {"eval_every": 1}, "eval": {"metric": metric}}
    trainer = make(tmp_path, overrides=overrides)
    # as a specialist of "other" did on the GPU: the global SDR up, MUSDB's median down
    script_scores(trainer, [(1.0, 3.0), (1.1, 2.9), (1.2, 2.8)])
    history = trainer.run(steps=3)
    assert [e["musdb_all"] for e in history if "musdb_all" in e] == [3.0, 2.9, 2.8]
    provenance = read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]
    assert provenance["steps"] == kept
    assert provenance["valid_sdr"]["all"] == [1.0, 1.1, 1.2][kept - 1]


def test_validation_gives_both_metrics_of_the_same_estimates(tmp_path):
    from training import bsseval
    from training.evaluate import separate_tracks

    trainer = make(tmp_path)
    trainer.valid_tracks = generated_tracks(3, seconds=2.5, seed=1)  # of three 1 s frames
    scores = trainer.evaluate()
    sources = list(trainer.model.sources)
    musdb = separate_tracks(trainer.ema, trainer.valid_tracks, score=bsseval.track_sdr)
    glob = separate_tracks(trainer.ema, trainer.valid_tracks)
    assert [scores["musdb"][s] for s in sources] == pytest.approx(
        bsseval.median_over_tracks(musdb), abs=1e-9
    )
    assert [scores["global"][s] for s in sources] == pytest.approx(np.mean(glob, 0), abs=1e-9)
    assert not np.allclose(bsseval.median_over_tracks(musdb), np.mean(glob, 0))  # told apart


def test_validation_at_another_rate_scores_one_second_frames_at_that_rate(tmp_path):
    """At 22.05 kHz MUSDB's score was taken on frames of 44100 samples: 2 s, not 1 s."""
    from functools import partial

    from training import bsseval
    from training.evaluate import separate_tracks

    trainer = make(tmp_path, overrides={"data": {"samplerate": 22050}})
    trainer.valid_tracks = generated_tracks(2, seconds=2.5, seed=1)  # 5 s at 22.05 kHz
    scores = trainer.evaluate()
    score = partial(bsseval.track_sdr, window=22050, hop=22050)
    musdb = separate_tracks(trainer.ema, trainer.valid_tracks, score=score)
    assert [scores["musdb"][s] for s in trainer.model.sources] == pytest.approx(
        bsseval.median_over_tracks(musdb), abs=1e-9
    )


def test_a_fine_tuning_that_never_beats_its_start_keeps_the_starting_weights(tmp_path):
    from stemgui.separation.checkpoint import load_model, read_checkpoint

    make(tmp_path, "first").run(steps=2)
    start = tmp_path / "first" / "best.stemgui"
    trainer = make(tmp_path, init=start, overrides={"schedule": {"eval_every": 2}})
    script_scores(trainer, [(2.0, 2.0), (1.0, 1.0), (1.5, 1.5)])
    history = trainer.run(steps=4)
    assert [e["step"] for e in history if "valid_all" in e] == [0, 2, 4]
    best = tmp_path / "run" / "best.stemgui"
    assert read_checkpoint(best)["provenance"]["steps"] == 0
    kept, started = load_model(best).state_dict(), load_model(start).state_dict()
    for name, value in started.items():
        assert torch.equal(kept[name], value), name
    # a resumed run does not score its start again
    again = make(tmp_path, init=start, overrides={"schedule": {"eval_every": 2}})
    script_scores(again, [(1.8, 1.8)])
    again.run(steps=6)
    assert [e["step"] for e in again.history if "valid_all" in e] == [0, 2, 4, 6]
    assert read_checkpoint(best)["provenance"]["steps"] == 0  # 1.8 < 2.0


def test_a_fine_tuning_killed_before_its_first_step_resumes(tmp_path, caplog):
    make(tmp_path, "first").run(steps=2)
    start = tmp_path / "first" / "best.stemgui"
    killed = make(tmp_path, init=start)

    def kill():
        raise RuntimeError("killed")

    killed.train_step = kill
    with pytest.raises(RuntimeError, match="killed"):
        killed.run(steps=3)
    assert (tmp_path / "run" / "best.stemgui").exists()  # scored at step 0
    again = make(tmp_path, init=start)
    with caplog.at_level("INFO", logger="training.resume"):
        # time-boxed, as on the GPU machine: the clock's start was once shadowed by a name
        assert again.run(steps=1, max_seconds=3600) and again.step == 1  # resumed, not refused
    (said,) = [r for r in caplog.records if "is not used" in r.getMessage()]
    assert said.levelname == "INFO"  # the same command again: its weights did start there
    assert "(its weights started from best.stemgui)" in said.getMessage()
    assert [e["step"] for e in again.history if "valid_all" in e] == [0, 1]


def test_a_run_resumed_on_other_training_data_says_so(tmp_path, caplog):
    """A track added to the data folder between sessions changed every batch without a word
    (resumed runs promise an uninterrupted run's weights)."""
    make(tmp_path).run(steps=2)
    more = make(tmp_path)
    more_tracks = generated_tracks(5)
    resumed = Trainer(
        more.config, tmp_path / "run", train_tracks=more_tracks, valid_tracks=more.valid_tracks
    )
    with caplog.at_level("WARNING", logger="training.resume"):
        resumed.run(steps=3)
    assert "the training data changed since step 2 (4 tracks" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="training.resume"):
        make(tmp_path, name="same").run(steps=1)
        make(tmp_path, name="same").run(steps=2)
    assert "training data changed" not in caplog.text


def test_a_run_resumed_with_another_validation_chooses_afresh(tmp_path, caplog):
    """Scores on another validation set do not compare: best.stemgui stopped updating, kept by
    a score of the old set that the new one never reached."""
    from stemgui.separation.checkpoint import read_checkpoint

    first = make(tmp_path, overrides={"schedule": {"eval_every": 1}})
    script_scores(first, [(5.0, 5.0)])
    first.run(steps=1)
    overrides = {"schedule": {"eval_every": 1}, "eval": {"segment": 1.0}}
    resumed = make(tmp_path, overrides=overrides)
    script_scores(resumed, [(1.0, 1.0)])
    with caplog.at_level("WARNING", logger="training.resume"):
        resumed.run(steps=2)
    assert "the validation changed (eval.segment)" in caplog.text
    best = read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]
    assert best["steps"] == 2 and resumed.best_sdr == 1.0


def test_a_run_resumed_with_another_metric_chooses_afresh(tmp_path, caplog):
    from stemgui.separation.checkpoint import read_checkpoint

    first = make(tmp_path, overrides={"schedule": {"eval_every": 1}})
    script_scores(first, [(5.0, 1.0)])
    first.run(steps=1)
    resumed = make(tmp_path, overrides={"schedule": {"eval_every": 1}, "eval": {"metric": "musdb"}})
    script_scores(resumed, [(1.0, 2.0)])
    with caplog.at_level("WARNING", logger="training.resume"):
        resumed.run(steps=2)
    assert "chosen by the global SDR until step 1, by the musdb SDR from now" in caplog.text
    best = read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]
    assert best["steps"] == 2 and resumed.best_sdr == 2.0  # 2.0 < 5.0, of another metric
    # A session that switches back but trains no step saves no state: the next one, by what
    # last.pt says, still knows its best score is MUSDB's.
    caplog.clear()
    with caplog.at_level("WARNING", logger="training.resume"):
        make(tmp_path, overrides={"schedule": {"eval_every": 1}}).run(steps=2)
        back = make(tmp_path, overrides={"schedule": {"eval_every": 1}})
        script_scores(back, [(1.5, 9.0)])
        back.run(steps=3)
    assert caplog.text.count("chosen by the musdb SDR until step 2, by the global SDR") == 2
    assert read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]["steps"] == 3


def test_a_nan_score_keeps_the_latest_weights_only_when_none_were_scored(tmp_path, caplog):
    from stemgui.separation.checkpoint import read_checkpoint

    trainer = make(tmp_path, overrides={"schedule": {"eval_every": 1}, "eval": {"metric": "musdb"}})
    nan = float("nan")
    script_scores(trainer, [(0.5, nan), (1.0, 1.0), (0.5, nan)])
    best = tmp_path / "run" / "best.stemgui"
    with caplog.at_level("WARNING", logger="training.validation"):
        trainer.run(steps=1)
        assert read_checkpoint(best)["provenance"]["steps"] == 1  # nothing else to keep
        trainer.run(steps=3)  # a good score at step 2, then a run that diverged
    assert "NaN: best.stemgui holds the latest weights" in caplog.text
    assert "NaN: best.stemgui stays as it was" in caplog.text
    assert read_checkpoint(best)["provenance"]["steps"] == 2
    history = json.loads((tmp_path / "run" / "history.json").read_text())  # strict JSON:
    assert [e["musdb_all"] for e in history if "musdb_all" in e] == [None, 1.0, None]


def test_an_infinite_score_is_null_in_history_json(tmp_path):
    """An estimate equal to its reference over most frames (MUSDB's median) scores an infinite
    SDR: history.json held ``Infinity``, which is no JSON to other readers (NaN was null)."""
    trainer = make(tmp_path, overrides={"schedule": {"eval_every": 1}})
    script_scores(trainer, [(1.0, float("inf"))])
    trainer.run(steps=1)

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    text = (tmp_path / "run" / "history.json").read_text()
    history = json.loads(text, parse_constant=refuse)
    assert [e["musdb_all"] for e in history if "musdb_all" in e] == [None]


def test_validation_tracks_all_without_vocals_are_scored_over_the_other_sources(tmp_path):
    """MUSDB's vocals are NaN when every validation track is an instrumental: "all" and
    "weighted" were NaN with them (a 0 weight times NaN is NaN), and best.stemgui held the
    latest weights, unscored."""
    from stemgui.separation.checkpoint import read_checkpoint

    overrides = {
        "schedule": {"eval_every": 1},
        "eval": {"metric": "musdb"},
        "optim": {"source_weights": [2, 1, 1, 1]},
    }
    trainer = make(tmp_path, overrides=overrides)
    for track in trainer.valid_tracks:
        track[4] = 0.0  # no vocals
        track[0] = track[1:].sum(axis=0)
    history = [e for e in trainer.run(steps=3) if "musdb_all" in e]
    assert len(history) == 3
    for entry in history:
        drums, bass, other = (entry[f"musdb_{s}"] for s in ("drums", "bass", "other"))
        assert math.isnan(entry["musdb_vocals"])
        assert entry["musdb_all"] == pytest.approx((drums + bass + other) / 3)
        assert entry["musdb_weighted"] == pytest.approx((2 * drums + bass + other) / 4)
    best = max(history, key=lambda e: e["musdb_weighted"])
    assert trainer.best_sdr == best["musdb_weighted"]
    assert read_checkpoint(tmp_path / "run" / "best.stemgui")["provenance"]["steps"] == best["step"]


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


def test_the_command_line_overrides_the_recipes_source_weights(tmp_path, caplog):
    import soundfile as sf

    from training.__main__ import main

    for index, track in enumerate(generated_tracks(3)):
        folder = tmp_path / "data" / f"track{index}"
        folder.mkdir(parents=True)
        for name, audio in zip(("mixture", "drums", "bass", "other", "vocals"), track):
            sf.write(folder / f"{name}.wav", audio.T, 44100, subtype="FLOAT")
    recipe = config_mod.dumps(
        config_mod.from_dict(
            {**json.loads(json.dumps(TINY)), "data": {**TINY["data"], "validation": ["track2"]}}
        )
    )
    (tmp_path / "tiny.toml").write_text(recipe.replace("roots = []", 'roots = ["data"]'))
    run = tmp_path / "run"
    argv = ["fit", str(tmp_path / "tiny.toml"), "--run", str(run), "--steps", "1"]
    assert main([*argv, "--source-weights", "0,0,1,0", "--lr", "1e-4"]) == 0
    saved = config_mod.load(run / "config.toml")
    assert saved["optim"]["source_weights"] == [0.0, 0.0, 1.0, 0.0]
    assert saved["optim"]["lr"] == 1e-4 != TINY["optim"]["lr"]
    assert saved["data"]["validation"] == ["track2"]
    # The same folder again without them: another loss, refused in one line; nothing rewritten.
    assert main([*argv[:-1], "2"]) == 1
    assert "holds a run with another optim.source_weights" in caplog.text
    assert str(run) in caplog.text
    assert config_mod.load(run / "config.toml")["optim"]["source_weights"] == [0, 0, 1, 0]
    assert main([*argv, "--accumulate", "3"]) == 1  # 3 micro-batches do not divide 4
    assert "optim.accumulate" in caplog.text
    # With its own loss it resumes, here in micro-batches of 2.
    assert main([*argv[:-1], "2", "--source-weights", "0,0,1,0", "--accumulate", "2"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert [e["step"] for e in history if "loss" in e] == [1, 2]
    # Its provenance names the data as another machine knows it, and the session it resumed.
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["data"] == [f"{tmp_path.name}/data"]
    assert provenance["data_roots"] == [str(tmp_path / "data")]
    (earlier,) = provenance["earlier"]  # the refused calls ran no step and are not sessions
    assert earlier["until_step"] == 1 and earlier["git_commit"] == provenance["git_commit"]
    assert earlier["started"] <= provenance["started"]


def test_curves_plot_scores_that_only_some_evaluations_have(tmp_path):
    from training.runfiles import plot_history

    history = [
        {"step": 1, "loss": 0.1},
        {"step": 1, "valid_all": 1.0},  # before the run became a specialist's
        {"step": 2, "loss": 0.09},
        {"step": 2, "valid_all": 1.2, "valid_weighted": 0.8},
    ]
    plot_history(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_curves_of_a_short_run_without_validation_show_their_points_and_say_why_one_is_empty():
    from training.runfiles import curves_figure

    loss, valid = curves_figure([{"step": 2, "loss": 0.04}]).axes
    assert loss.lines[0].get_marker() == "o"  # one point: a plain line would draw nothing
    assert [t.get_text() for t in valid.texts] == ["no validation tracks"]
    long_run = [{"step": s, "loss": 0.1} for s in range(60)] + [{"step": 59, "valid_all": 1.0}]
    loss, valid = curves_figure(long_run).axes
    assert loss.lines[0].get_marker() == "None" and not valid.texts
    assert valid.lines[0].get_ydata().tolist() == [1.0]
    both = [{"step": 5, "valid_all": 1.0, "musdb_all": 2.5, "musdb_drums": 3.0}]
    _, valid, musdb = curves_figure(both).axes
    assert [line.get_label() for line in valid.lines] == ["all"]
    assert [line.get_label() for line in musdb.lines] == ["all", "drums"]
    assert musdb.lines[0].get_ydata().tolist() == [2.5] and "MUSDB" in musdb.get_title()


@pytest.mark.parametrize(
    "sources", [["vocals", "drums", "bass", "other"], ["vocals", "accompaniment"]]
)
def test_a_recipe_naming_other_stems_is_refused_before_any_data(tmp_path, sources):
    """The loss pairs outputs and stems by position: a reordered list trained and exported a
    model whose "vocals" were the drums, without a word; two stems died at the first step."""
    from training.network import build_model

    values = json.loads(json.dumps(TINY))
    values["model"]["kwargs"]["sources"] = sources
    with pytest.raises(config_mod.RecipeError, match=r"leave sources out of the recipe"):
        build_model(config_mod.from_dict(values))


def test_excerpts_longer_than_every_track_are_refused_in_seconds(tmp_path):
    """Said "no track is at least 134505 frames long (one excerpt)": no recipe, no seconds."""
    with pytest.raises(config_mod.RecipeError) as refused:
        make(tmp_path, overrides={"data": {"segment": 3.0, "shift": 0.05}})  # 1 s tracks
    assert str(refused.value) == (
        "data.segment 3 s + data.shift 0.05 s is longer than the longest training track "
        "(1.00 s): shorten them or add longer tracks"
    )
