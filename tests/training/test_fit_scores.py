"""Validation scores the estimates, and the best-scored weights are the ones kept."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tests.training.fitting import TINY, generated_tracks, make, script_scores
from training import config as config_mod
from training.fit import Trainer


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
