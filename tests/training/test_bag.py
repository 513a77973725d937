"""``training bag``: specialists combined per source, members kept as stored, exported, loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import load_model, read_checkpoint
from stemgui.separation.rewrite import add_provenance, save_bag_of_files
from stemgui.separation.store import ModelStore
from tests.training.fitting import make, silent_valid_track
from training.__main__ import main
from training.export import export_model
from training.provenance import git_commit

STEPS = {"schedule": {"steps": 2, "eval_every": 2}}


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two tiny trained models with different weights (different seeds)."""
    folder = tmp_path_factory.mktemp("members")
    paths = []
    for seed in (1, 2):
        trainer = make(folder, f"seed{seed}", overrides={**STEPS, "seed": {"value": seed}})
        trainer.run()
        paths.append(folder / f"seed{seed}" / "best.stemgui")
    return paths


def test_each_source_comes_from_the_member_weighted_for_it(tmp_path, members):
    out = tmp_path / "bag.stemgui"
    assert main(["bag", str(out), *map(str, members), "--weights", "1,1,0,1", "0,0,1,0"]) == 0
    bag = load_model(out)
    assert isinstance(bag, BagOfModels) and bag.weights == [[1, 1, 0, 1], [0, 0, 1, 0]]
    general, specialist = (load_model(m) for m in members)
    mix = torch.randn(1, 2, 22050)
    with torch.no_grad():
        got, a, b = bag(mix), general(mix), specialist(mix)
    assert not torch.equal(a[:, 2], b[:, 2])  # the two members do differ
    for source in (0, 1, 3):
        assert torch.equal(got[:, source], a[:, source])
    assert torch.equal(got[:, 2], b[:, 2])
    summary = read_checkpoint(out)["provenance"]["members"]
    assert [m["file"] for m in summary] == ["seed1/best.stemgui", "seed2/best.stemgui"]
    assert [m["steps"] for m in summary] == [2, 2]


@pytest.mark.parametrize(
    ("where", "name"), [("run", "best.stemgui"), ("run/sub", "../best.stemgui")]
)
def test_a_member_named_from_its_own_folder_is_recorded_with_that_folder(
    tmp_path, members, monkeypatch, where, name
):
    """``bag b.stemgui best.stemgui ...`` run in the member's folder recorded (and printed
    with --data) "/best.stemgui", and from below it "../best.stemgui": the folder as written."""
    from training.bag import member_provenance

    (tmp_path / "run" / "sub").mkdir(parents=True)
    shutil.copy(members[0], tmp_path / "run" / "best.stemgui")
    monkeypatch.chdir(tmp_path / where)
    assert member_provenance(Path(name))["file"] == "run/best.stemgui"


def test_the_bag_records_what_its_members_learnt_from_and_its_commit(tmp_path, members):
    stamped = []
    for index, (data, tracks) in enumerate(
        [(["musdb18-7/train", "synth"], 80), (["musdb18-7/train", "own"], 90)]
    ):
        stamped.append(tmp_path / f"m{index}" / "best.stemgui")
        stamped[-1].parent.mkdir()
        shutil.copy(members[index], stamped[-1])
        add_provenance(stamped[-1], {"data": data, "train_tracks": tracks})
    out = tmp_path / "bag.stemgui"
    assert main(["bag", str(out), *map(str, stamped)]) == 0
    provenance = read_checkpoint(out)["provenance"]
    assert provenance["data"] == ["musdb18-7/train", "synth", "own"]
    assert provenance["train_tracks"] == 90
    assert provenance["git_commit"] == git_commit() != "unknown"
    entry = export_model(out, "tiny-bag", tmp_path / "models")
    assert (entry["data"], entry["train_tracks"]) == (provenance["data"], 90)
    assert entry["git_commit"] == git_commit()


def test_quantized_members_stay_quantized_and_the_bag_exports(tmp_path, members):
    pytest.importorskip("diffq")
    from training.quantize import quantize_file

    quantized = []
    for index, member in enumerate(members):
        quantized.append(tmp_path / f"q{index}.stemgui")
        quantize_file(member, quantized[-1], bits=8, min_size=0.0)
    out = tmp_path / "bag.stemgui"
    save_bag_of_files(quantized, out, weights=[[1, 1, 0, 1], [0, 0, 1, 0]])
    entries = read_checkpoint(out)["models"]
    assert all(entry["quantized"] is not None for entry in entries)
    bag = load_model(out)
    for member, path in zip(bag.models, quantized):
        for name, tensor in load_model(path).state_dict().items():
            assert torch.equal(member.state_dict()[name], tensor), name

    models = tmp_path / "models"
    entry = export_model(out, "tiny-bag", models)
    assert entry["kind"] == "bag" and entry["weights"] == [[1, 1, 0, 1], [0, 0, 1, 0]]
    loaded = ModelStore(bundled_dir=models, user_dir=tmp_path / "user").load("tiny-bag")
    mix = torch.randn(1, 2, 22050)
    with torch.no_grad():
        assert torch.equal(loaded(mix), bag(mix))


def test_bad_bags_are_refused_naming_the_problem(tmp_path, members, caplog):
    bag = tmp_path / "bag.stemgui"
    save_bag_of_files(members, bag)
    assert main(["bag", str(tmp_path / "x.stemgui"), str(bag), str(members[0])]) == 1
    assert f"{bag}: holds a bag already" in caplog.text
    assert main(["bag", str(tmp_path / "y.stemgui"), *map(str, members), "--weights", "1,1"]) == 1
    assert "2 members, 1 --weights list; one list per member, each needs 4 (drums, bass, " in (
        caplog.text
    )
    assert (
        main(["bag", str(tmp_path / "z.stemgui"), *map(str, members), "--weights", "1,x,1,1"]) == 1
    )
    assert "weights '1,x,1,1'" in caplog.text
    assert (
        main(["bag", str(tmp_path / "w.stemgui"), *map(str, members), "--weights", "nan,1,1,1"])
        == 1
    )
    assert "weights 'nan,1,1,1': give one number from 0 per source" in caplog.text
    # each weight a float, their sum not: the drums were silent (1e308 / inf)
    huge = ["--weights", "1e308,1,1,1", "1e308,1,1,1"]
    assert main(["bag", str(tmp_path / "v.stemgui"), *map(str, members), *huge]) == 1
    assert "the weights of source 'drums' sum to inf; they must add up to a finite" in caplog.text
    # one file twice: the model's own stems in twice the time
    assert main(["bag", str(tmp_path / "u.stemgui"), str(members[0]), str(members[0])]) == 1
    assert f"{members[0]}: given twice; the members of a bag are different models" in caplog.text
    written = ("x.stemgui", "y.stemgui", "z.stemgui", "w.stemgui", "v.stemgui", "u.stemgui")
    assert not any((tmp_path / n).exists() for n in written)


def test_fine_tuning_from_a_bag_starts_from_the_member_of_the_recipes_sources(tmp_path, members):
    bag = tmp_path / "bag.stemgui"
    save_bag_of_files(members, bag, weights=[[1, 1, 0, 1], [0, 0, 1, 0]])
    for source_weights, member in (([], members[0]), ([0, 0, 1, 0], members[1])):
        trainer = make(
            tmp_path,
            f"from{member.parent.name}",
            init=bag,
            overrides={"optim": {"source_weights": source_weights}},
        )
        for name, tensor in load_model(member).state_dict().items():
            assert torch.equal(trainer.model.state_dict()[name], tensor), name
        index = members.index(member)
        assert trainer.init == f"bag.stemgui (member {index})"  # what its provenance records


def test_closest_member_is_the_most_similar_direction():
    from training.network import closest_member

    bag = [[1, 1, 0, 1], [0, 0, 1, 0]]
    assert closest_member(bag, [1, 1, 1, 1]) == 0
    assert closest_member(bag, [0, 0, 1, 0]) == 1
    assert closest_member(bag, [0, 0, 3, 1]) == 1
    assert closest_member([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], [0, 1, 0, 0]) == 1
    # weights whose squares pass the largest float: NaN similarities took the first member
    assert closest_member(bag, [0, 0, 1e308, 0]) == 1
    assert closest_member([[1e300, 1e300, 0, 1e300], [0, 0, 1e300, 0]], [0, 0, 1, 0]) == 1


def test_a_member_comes_out_of_a_bag_as_stored_with_its_history(tmp_path, members, caplog):
    pytest.importorskip("diffq")
    from training.quantize import quantize_file

    quantized = [tmp_path / "general" / "q8.stemgui", tmp_path / "other" / "q8.stemgui"]
    for member, path in zip(members, quantized):
        path.parent.mkdir()
        quantize_file(member, path, bits=8, min_size=0.0)
    bag = tmp_path / "bag.stemgui"
    assert main(["bag", str(bag), *map(str, quantized), "--weights", "1,1,0,1", "0,0,1,0"]) == 0
    for which, index in [("1", 1), ("0,0,1,0", 1), ("1,1,1,1", 0), ("0", 0)]:
        out = tmp_path / f"member-{which}.stemgui"
        assert main(["member", str(bag), which, str(out)]) == 0
        payload = read_checkpoint(out)
        assert payload["kind"] == "model" and payload["models"][0]["quantized"] is not None
        for name, tensor in load_model(quantized[index]).state_dict().items():
            assert torch.equal(load_model(out).state_dict()[name], tensor), name
        provenance = payload["provenance"]
        assert provenance["from_bag"] == {
            "file": "bag.stemgui",
            "member": index,
            "was": ["general/q8.stemgui", "other/q8.stemgui"][index],
        }
        assert provenance["steps"] == 2 and provenance["quantization"]["bits"] == 8

    refused = [
        ([str(quantized[0]), "0"], f"{quantized[0]}: holds one model, not a bag"),
        ([str(bag), "2"], "no member 2; its members are 0 to 1"),
        ([str(bag), "x"], "member 'x': give its number (0 first) or weights like 0,0,1,0"),
        ([str(bag), "1,1"], "weights '1,1': give one per source (drums, bass, other, vocals)"),
        ([str(bag), "0,0,0,0"], "weights '0,0,0,0': give one per source (drums, bass, other,"),
    ]
    for args, message in refused:
        assert main(["member", *args, str(tmp_path / "refused.stemgui")]) == 1
        assert message in caplog.text
    assert not (tmp_path / "refused.stemgui").exists()


def test_a_bag_among_the_members_is_refused_before_data(tmp_path, members, caplog):
    """With --data each member was scored, then the bag stopped on "input of 16000 samples is
    longer than the training segment" (a bag in a bag), or, without, refused when written."""
    bag = tmp_path / "bag.stemgui"
    save_bag_of_files(members, bag)
    data = silent_valid_track(tmp_path)
    out = tmp_path / "out.stemgui"
    assert main(["bag", str(out), str(members[0]), str(bag), *data]) == 1
    assert f"{bag}: holds a bag already; list its own member files instead" in caplog.text
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_members_or_weights_that_do_not_fit_are_named_with_their_counts(tmp_path, members, caplog):
    """Said "models of a bag disagree on sources" and "a bag needs one weight per source for
    each model": no file, no counts."""
    from stemgui.separation.checkpoint import save_model
    from tests.separation.model_files_helpers import tiny_htdemucs

    two = tmp_path / "two.stemgui"
    save_model(tiny_htdemucs(), two)  # drums and bass only
    slow = tmp_path / "slow.stemgui"  # the members' sources at 8000 Hz: "its rate (Hz) ... are"
    save_model(tiny_htdemucs(sources=("drums", "bass", "other", "vocals")), slow)
    out = str(tmp_path / "b.stemgui")
    with caplog.at_level("ERROR", logger="training"):
        assert main(["bag", out, str(members[0]), str(two)]) == 1
        assert main(["bag", out, str(members[0]), str(slow)]) == 1
        assert main(["bag", out, *map(str, members), "--weights", "1,1,1,1", "0,1"]) == 1
    said = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert said == [
        f"{two}: sources ['drums', 'bass'], but {members[0]} has "
        "['drums', 'bass', 'other', 'vocals']; the members of a bag must match",
        f"{slow}: sample rate (Hz) 8000, but {members[0]} has 44100; the members of a bag "
        "must match",
        f"--weights 0,1 (for {members[1]}): 2 numbers; each needs 4 (drums, bass, other, vocals)",
    ]
    assert not (tmp_path / "b.stemgui").exists()


def test_the_engine_says_what_a_bag_of_models_disagrees_on():
    from tests.separation.model_files_helpers import tiny_htdemucs

    small = tiny_htdemucs()
    with pytest.raises(
        ValueError,
        match=r"^a bag needs one weight per source \(2: drums, bass\) "
        r"for each of its 2 models; got 1 lists of 2$",
    ):
        BagOfModels([small, small], [[1, 1]])


@pytest.mark.parametrize("data", [[], ["--data", "d"]], ids=["", "--data d"])
def test_a_bag_of_one_model_is_refused_by_the_parser(tmp_path, a_model, monkeypatch, capsys, data):
    """``bag --data d m.stemgui n.stemgui --overwrite``, OUTPUT forgotten, wrote a bag of n alone
    over the model m. A bag of one member is that member: nothing is lost by refusing it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    shutil.copy(a_model, tmp_path / "n.stemgui")
    before = a_model.read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["bag", *data, "m.stemgui", "n.stemgui", "--overwrite"])
    assert stop.value.code == 2
    assert (
        "error: argument models: one model, n.stemgui; a bag averages two or more: name OUTPUT, "
        "the bag to write, then two or more model files (m.stemgui, an existing model file, was "
        "taken for OUTPUT: nothing was written over it)\n"
    ) in capsys.readouterr().err
    assert a_model.read_bytes() == before
    with pytest.raises(SystemExit) as stop:  # a new OUTPUT: only the count is said
        main(["bag", *data, "b.stemgui", "n.stemgui"])
    assert stop.value.code == 2
    assert (
        "error: argument models: one model, n.stemgui; a bag averages two or more: name OUTPUT, "
        "the bag to write, then two or more model files\n"
    ) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "m.stemgui", "n.stemgui"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--data", "d", "b.stemgui", "m.th", "n"],  # said only the count: n, a member, is data
        ["--data", "d", "b.stemgui", "--data", "m.th", "n", "d"],  # n after m.th, not the last
        ["b.stemgui", "m.th", "--data", "d", "n"],  # none after --data: the last, no folder
    ],
    ids=" ".join,
)
def test_a_bag_of_one_names_the_member_taken_for_a_data_folder(tmp_path, monkeypatch, capsys, argv):
    """A member named without its suffix after --data is a data root: the bag was one member."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    with pytest.raises(SystemExit) as stop:
        main(["bag", *argv])
    assert stop.value.code == 2
    assert (
        "error: argument models: one model, m.th; a bag averages two or more: name OUTPUT, the "
        "bag to write, then two or more model files (after --data, n was taken for a data "
        "folder, and there is none; model files are told by their suffix: .th, .yaml, .yml, "
        ".stemgui, .pt, .safetensors)\n"
    ) in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
