"""The training loop learns, keeps its run folder, and resumes exactly."""

from __future__ import annotations

import datetime
import json
import math
import os
import signal

import numpy as np
import pytest
import torch

from tests.training.fitting import TINY, generated_tracks, make
from training import config as config_mod
from training.fit import Trainer


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


def test_provenance_counts_the_tracks_not_their_changed_copies(tmp_path):
    trainer = make(tmp_path, overrides={"augment": {"repitch": 2}, "schedule": {"steps": 1}})
    assert len(trainer.sampler.tracks) == 12  # 4 tracks and 2 changed copies of each
    trainer.run()
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert (provenance["train_tracks"], provenance["valid_tracks"]) == (4, 2)


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
