"""``training eval``: the printed tables and the per-track scores file agree with direct scoring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from tests.training.fitting import VALID, generated_tracks
from training import bsseval, evaluate
from training.__main__ import main


def test_scores_per_track_match_the_tables_and_direct_scoring(
    tmp_path, musdb_like, trained_model, capsys
):
    root, tracks = musdb_like
    out = tmp_path / "scores.json"
    args = ["eval", str(trained_model), "--data", str(root), "--cache", str(tmp_path / "cache")]
    assert main([*args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["tracks"] == VALID  # the validation split only, in its order
    assert scores["sources"] == ["drums", "bass", "other", "vocals"]
    names = {"best.stemgui", "mixture/4", "IRM oracle"}
    assert set(scores["musdb"]) == set(scores["global"]) == names

    def rows(table):
        return [[table[track][s] for s in scores["sources"]] for track in VALID]

    # mixture/4 scored here without the command: same figures per track
    baseline = evaluate.mixture_baseline(tracks)
    np.testing.assert_allclose(rows(scores["global"]["mixture/4"]), baseline, atol=1e-3)
    direct = [bsseval.track_sdr(t[1:], np.broadcast_to(t[0] / 4, t[1:].shape)) for t in tracks]
    np.testing.assert_allclose(rows(scores["musdb"]["mixture/4"]), direct, atol=1e-3)
    # the printed MUSDB row of the model is the median over the file's tracks
    model_rows = rows(scores["musdb"]["best.stemgui"])
    medians = bsseval.median_over_tracks([np.array(r) for r in model_rows])
    row = next(line for line in printed.splitlines() if line.startswith("| best.stemgui"))
    printed_values = [float(cell) for cell in row.strip("|").split("|")[1:5]]
    np.testing.assert_allclose(printed_values, medians, atol=0.006)
    assert f"scores per track: {out}" in printed


def test_without_validation_tracks_it_says_so(tmp_path, trained_model, caplog):
    args = ["eval", str(trained_model), "--data", str(tmp_path), "--json", str(tmp_path / "s.json")]
    assert main(args) == 1
    assert f"no validation tracks under {tmp_path}" in caplog.text
    assert not (tmp_path / "s.json").exists()


def test_a_scores_file_in_a_missing_folder_is_refused_before_any_work(
    tmp_path, trained_model, caplog
):
    target = tmp_path / "no such folder" / "s.json"
    assert main(["eval", str(trained_model), "--data", str(tmp_path), "--json", str(target)]) == 1
    assert f"{target}: its folder does not exist" in caplog.text


def test_a_scores_file_under_a_file_is_refused_naming_the_file(tmp_path, trained_model, caplog):
    """``--json afile/x.json`` said "its folder does not exist; create it", which it cannot be."""
    (tmp_path / "afile").write_text("notes")
    target = tmp_path / "afile" / "x.json"
    assert main(["eval", str(trained_model), "--data", str(tmp_path), "--json", str(target)]) == 1
    assert f"{target}: {tmp_path / 'afile'} is a file, not a folder" in caplog.text


def test_a_scores_file_that_is_a_folder_is_refused_before_any_work(tmp_path, trained_model, caplog):
    assert main(["eval", str(trained_model), "--data", str(tmp_path), "--json", str(tmp_path)]) == 1
    assert f"{tmp_path}: is a folder; name a file in it" in caplog.text


def test_two_runs_best_files_are_told_apart_by_their_folders(
    tmp_path, musdb_like, trained_model, capsys
):
    root, _ = musdb_like
    other = tmp_path / "second" / "best.stemgui"
    other.parent.mkdir()
    other.write_bytes(trained_model.read_bytes())
    out = tmp_path / "scores.json"
    args = [
        "eval",
        str(trained_model),
        str(other),
        "--data",
        str(root),
        "--cache",
        str(tmp_path / "c"),
    ]
    assert main([*args, "--json", str(out)]) == 0  # one of them was dropped: a dict by name
    names = set(json.loads(out.read_text())["musdb"])
    assert names == {f"{trained_model.parent.name}/best.stemgui", "second/best.stemgui"} | {
        "mixture/4",
        "IRM oracle",
    }
    assert "| second/best.stemgui |" in capsys.readouterr().out


def test_models_named_after_data_are_scored_as_those_named_before(
    tmp_path, musdb_like, trained_model
):
    """``eval --data ROOT MODEL``, the order of the usage line (``--data DATA [DATA ...] ...
    [models ...]``), exited 2 saying to name the models before --data, the README's order."""
    root, _ = musdb_like
    other = tmp_path / "second" / "best.stemgui"
    other.parent.mkdir()
    other.write_bytes(trained_model.read_bytes())
    cache = ["--cache", str(tmp_path / "cache")]
    forms = {
        "before": [str(trained_model), str(other), "--data", str(root)],
        "after": ["--data", str(root), str(trained_model), str(other)],
        "both": [str(trained_model), "--data", str(root), str(other)],
    }
    scores = {}
    for form, argv in forms.items():
        out = tmp_path / f"{form}.json"
        assert main(["eval", *argv, *cache, "--json", str(out)]) == 0
        scores[form] = json.loads(out.read_text())
    assert list(scores["before"]["musdb"]) == [
        f"{trained_model.parent.name}/best.stemgui",
        "second/best.stemgui",
        "mixture/4",
        "IRM oracle",
    ]
    assert scores["after"] == scores["before"] and scores["both"] == scores["before"]


def test_a_model_given_twice_or_a_scores_file_over_a_model_is_refused(
    tmp_path, trained_model, caplog
):
    assert main(["eval", str(trained_model), str(trained_model), "--data", str(tmp_path)]) == 1
    assert f"{trained_model}: given twice" in caplog.text
    before = trained_model.read_bytes()
    assert (
        main(["eval", str(trained_model), "--data", str(tmp_path), "--json", str(trained_model)])
        == 1
    )
    assert f"{trained_model}: is also an input of this command" in caplog.text
    assert trained_model.read_bytes() == before


def test_overlap_and_shifts_reach_the_separator_with_the_same_shifts_every_run(
    tmp_path, musdb_like, trained_model
):
    from stemgui.separation.checkpoint import load_model
    from stemgui.separation.separator import Separator

    root, tracks = musdb_like
    args = ["eval", str(trained_model), "--data", str(root), "--cache", str(tmp_path / "cache")]
    args += ["--overlap", "0.5", "--shifts", "2"]
    runs = []
    for name in ("first.json", "second.json"):
        assert main([*args, "--json", str(tmp_path / name)]) == 0
        scores = json.loads((tmp_path / name).read_text())
        runs.append(
            [[scores["musdb"]["best.stemgui"][t][s] for s in scores["sources"]] for t in VALID]
        )
    assert runs[0] == runs[1]

    def direct(**options):
        separator = Separator(load_model(trained_model), **options)
        return [bsseval.track_sdr(t[1:], separator.separate(t[0])) for t in tracks]

    np.testing.assert_allclose(runs[0], direct(overlap=0.5, shifts=2, seed=0), atol=1e-3)
    assert not np.allclose(runs[0], direct(), atol=1e-3)  # the defaults score otherwise


@pytest.mark.parametrize(
    "option",
    [["--overlap", "0.95"], ["--overlap", "-0.1"], ["--shifts", "-1"], ["--shifts", "21"]],
)
def test_an_overlap_or_shifts_it_cannot_use_is_refused_by_the_parser(tmp_path, option, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["eval", "--data", str(tmp_path), *option])
    assert stop.value.code == 2 and option[0] in capsys.readouterr().err


def test_a_model_s_stems_are_scored_by_name_not_by_position(tmp_path, musdb_like, caplog):
    """A model listing its stems in another order had its "vocals" scored against the drums,
    under the table's headings; one with other stems failed after separating every track."""
    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model
    from tests.reliability.helpers import TinyNet

    root, _ = musdb_like
    by_name = {"drums": 0.5, "bass": 0.25, "other": 0.125, "vocals": 0.0625}
    registry.register("TinyNet", TinyNet)
    try:
        for name, order in (
            ("usual", list(by_name)),
            ("reordered", ["vocals", "drums", "bass", "other"]),
        ):
            net = TinyNet(sources=order, factors=[by_name[s] for s in order])
            save_model(net.eval(), tmp_path / f"{name}.stemgui")
        save_model(
            TinyNet(sources=["vocals", "rest"], factors=[0.5, 0.5]).eval(), tmp_path / "two.stemgui"
        )
        scores = {}
        for name in ("usual", "reordered"):
            out = tmp_path / f"{name}.json"
            args = ["eval", str(tmp_path / f"{name}.stemgui"), "--data", str(root)]
            assert main([*args, "--cache", str(tmp_path / "cache"), "--json", str(out)]) == 0
            scores[name] = json.loads(out.read_text())["musdb"][f"{name}.stemgui"]
        assert scores["usual"] == scores["reordered"]
        assert main(["eval", str(tmp_path / "two.stemgui"), "--data", str(root)]) == 1
        assert "two.stemgui: its stems are ['vocals', 'rest']" in caplog.text
    finally:
        registry.unregister("TinyNet")


def test_own_tracks_without_musdb_names_are_pointed_to_split_all(tmp_path, trained_model, caplog):
    """ "no validation tracks under own_tracks" did not say that "valid" means MUSDB's names."""
    import soundfile as sf

    song = tmp_path / "own" / "My Song"
    song.mkdir(parents=True)
    for stem in ("drums", "bass", "other", "vocals"):
        sf.write(song / f"{stem}.wav", np.zeros((4410, 2), np.float32), 44100)
    assert main(["eval", str(trained_model), "--data", str(tmp_path / "own")]) == 1
    assert (
        f"no validation tracks under {tmp_path / 'own'}: --split valid means the 14 MUSDB18 "
        "validation songs, by their names (training.data.MUSDB_VALIDATION); score these 1 "
        "tracks with --split all"
    ) in caplog.text


def test_without_models_it_scores_the_baselines(tmp_path, musdb_like, capsys):
    root, _ = musdb_like
    assert main(["eval", "--data", str(root), "--cache", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    assert "| mixture/4 |" in printed and "| IRM oracle |" in printed


def test_an_instrumental_s_silent_vocals_leave_its_other_sources_scored(tmp_path, capsys, caplog):
    """A track whose vocals stem is silent made every source of it NaN, and with it alone the
    table's mean cell printed numpy's "Mean of empty slice" in the middle of the table."""
    import warnings

    folder = tmp_path / "data" / VALID[0]
    folder.mkdir(parents=True)
    track = generated_tracks(1, seconds=2.5, seed=4)[0]
    track[4] = 0.0
    track[0] = track[1:].sum(axis=0)
    for stem, signal in zip(["drums", "bass", "other", "vocals"], track[1:]):
        sf.write(folder / f"{stem}.wav", signal.T, 44100, subtype="FLOAT")
    out = tmp_path / "s.json"
    args = ["eval", "--data", str(tmp_path / "data"), "--cache", str(tmp_path / "cache")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray warning between the table's lines
        assert main([*args, "--json", str(out)]) == 0
    scores = json.loads(out.read_text())["musdb"]["mixture/4"][VALID[0]]
    expected = bsseval.track_sdr(track[1:4], np.broadcast_to(track[0] / 4, track[1:4].shape))
    np.testing.assert_allclose([scores[s] for s in ("drums", "bass", "other")], expected, atol=1e-3)
    assert scores["vocals"] is None
    rows = [line for line in capsys.readouterr().out.splitlines() if "| mixture/4 |" in line]
    assert rows[0].split("|")[5:7] == [" nan ", f" {np.mean(expected):.2f} "]
    # the global SDR as museval's: no number for the silent vocals (it was -90 dB), and the
    # mean over the sources scored
    fast = json.loads(out.read_text())["global"]["mixture/4"][VALID[0]]
    assert fast["vocals"] is None
    drums_to_other = [fast[s] for s in ("drums", "bass", "other")]
    assert rows[1].split("|")[5:7] == [" nan ", f" {np.mean(drums_to_other):.2f} "]
    assert f"{VALID[0]} (mixture/4): vocals (its reference) silent over the whole" in caplog.text


def test_a_model_at_another_rate_is_scored_on_one_second_frames_at_its_rate(tmp_path):
    """An 8 kHz model's tracks (decoded at 8 kHz) were cut in frames of 44100 samples: 5.5 s,
    one frame of the whole of a short track, not MUSDB's 1-second frames."""
    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import tiny_htdemucs
    from training import data as data_mod

    folder = tmp_path / "data" / VALID[0]
    folder.mkdir(parents=True)
    track = generated_tracks(1, seconds=3, seed=5)[0]
    track[4] *= np.repeat([1.0, 0.1, 0.01], 44100)  # vocals fading: each second scores apart
    track[0] = track[1:].sum(axis=0)
    for stem, signal in zip(["drums", "bass", "other", "vocals"], track[1:]):
        sf.write(folder / f"{stem}.wav", signal.T, 44100, subtype="FLOAT")
    model = tmp_path / "m.stemgui"
    save_model(tiny_htdemucs(sources=data_mod.SOURCES), model)  # 8 kHz
    out, cache = tmp_path / "s.json", tmp_path / "cache"
    args = ["eval", str(model), "--data", str(tmp_path / "data"), "--cache", str(cache)]
    assert main([*args, "--json", str(out)]) == 0
    got = json.loads(out.read_text())["musdb"]["mixture/4"][VALID[0]]
    (source,) = data_mod.discover([tmp_path / "data"])
    decoded = data_mod.TrackCache(cache, samplerate=8000).load(source)
    refs, estimate = decoded[1:], np.broadcast_to(decoded[0] / 4, decoded[1:].shape)
    expected = bsseval.track_sdr(refs, estimate, window=8000, hop=8000)
    np.testing.assert_allclose([got[s] for s in data_mod.SOURCES], expected, atol=1e-3)
    assert abs(expected[3] - bsseval.track_sdr(refs, estimate)[3]) > 1  # not one whole frame


def test_the_scores_file_is_strict_json_an_exact_estimate_null(tmp_path):
    """Four equal stems make mixture/4 their exact estimate, an infinite SDR: the file held
    ``Infinity``, which is no JSON (JSON.parse, jq and strict Python readers refuse it)."""
    folder = tmp_path / "data" / VALID[0]
    folder.mkdir(parents=True)
    stem = generated_tracks(1, seconds=2.5, seed=6)[0][1]
    for name in ("drums", "bass", "other", "vocals"):
        sf.write(folder / f"{name}.wav", stem.T, 44100, subtype="FLOAT")
    out = tmp_path / "s.json"
    args = ["eval", "--data", str(tmp_path / "data"), "--cache", str(tmp_path / "cache")]
    assert main([*args, "--json", str(out)]) == 0

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    scores = json.loads(out.read_text(), parse_constant=refuse)
    assert scores["musdb"]["mixture/4"][VALID[0]] == dict.fromkeys(scores["sources"])
    assert all(v > 100 for v in scores["musdb"]["IRM oracle"][VALID[0]].values())
