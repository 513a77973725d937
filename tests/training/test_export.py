"""Export -> engine load -> identical outputs, with a manifest the model store reads."""

from __future__ import annotations

import json
import re

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation.checkpoint import load_model
from stemgui.separation.store import ModelStore
from tests.training.fitting import TINY, make
from training.export import export_model


def test_exported_model_loads_through_the_store_with_identical_outputs(tmp_path):
    trainer = make(tmp_path, overrides={"schedule": {"steps": 4, "eval_every": 4}})
    trainer.run()
    models = tmp_path / "models"
    entry = export_model(tmp_path / "run" / "best.stemgui", "tiny", models, description="t")
    assert entry["file"].startswith("tiny-") and entry["steps"] == 4
    assert set(entry["valid_sdr"]) == {"drums", "bass", "other", "vocals", "all"}
    manifest = json.loads((models / "manifest.json").read_text())
    assert [m["name"] for m in manifest["models"]] == ["tiny"]

    store = ModelStore(bundled_dir=models, user_dir=tmp_path / "user")
    assert store.default_name() == "tiny"
    loaded = store.load("tiny")
    mix = torch.randn(1, 2, 44100)
    with torch.no_grad():
        expected = trainer.ema.eval()(mix)
        assert torch.equal(loaded(mix), expected)

    # A second export of the same name is refused: the shipped model and its entry stay.
    trainer.run(steps=8)
    manifest = (models / "manifest.json").read_bytes()
    with pytest.raises(ValueError, match=r"already ships a model named 'tiny' .*--replace"):
        export_model(tmp_path / "run" / "best.stemgui", "tiny", models)
    assert (models / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in models.glob("tiny-*")) == [entry["file"]]
    # With replace it replaces the entry and removes the old file.
    entry2 = export_model(tmp_path / "run" / "best.stemgui", "tiny", models, replace=True)
    files = sorted(p.name for p in models.glob("tiny-*"))
    assert files == [entry2["file"]]
    assert len(json.loads((models / "manifest.json").read_text())["models"]) == 1
    assert "earlier" not in entry  # the first export's run had not been resumed
    assert [session["until_step"] for session in entry2["earlier"]] == [4]


def test_a_fine_tuned_model_names_the_checkpoint_it_started_from(tmp_path):
    first = make(tmp_path, "first", overrides={"schedule": {"steps": 2, "eval_every": 2}})
    first.run()
    models = tmp_path / "models"
    base = export_model(tmp_path / "first" / "best.stemgui", "base", models)
    assert "init" not in base

    tuned = make(
        tmp_path,
        "tuned",
        overrides={"schedule": {"steps": 2, "eval_every": 2}},
        init=models / base["file"],
    )
    start = {k: v.clone() for k, v in tuned.model.state_dict().items()}
    shipped = ModelStore(bundled_dir=models, user_dir=tmp_path / "user").load("base")
    for name, tensor in shipped.state_dict().items():
        torch.testing.assert_close(start[name], tensor, rtol=0, atol=0)
    tuned.run()
    entry = export_model(tmp_path / "tuned" / "best.stemgui", "tuned", models, default=False)
    assert entry["init"] == base["file"]


def test_starting_from_a_model_of_other_arguments_is_refused_naming_it(tmp_path):
    make(tmp_path, "first", overrides={"schedule": {"steps": 1, "eval_every": 1}}).run()
    start = tmp_path / "first" / "best.stemgui"
    wider = {**TINY["model"]["kwargs"], "channels": 6}
    with pytest.raises(ValueError, match=r"best.stemgui: its weights do not fit .*size mismatch"):
        make(tmp_path, "wider", overrides={"model": {"kwargs": wider}}, init=start)


def test_starting_from_a_model_of_other_stems_or_rate_is_refused_naming_it(tmp_path):
    """A model listing its stems in another order (or running at another rate) has weights of
    the same shapes: fine-tuning started each output from the weights of another stem. Another
    network is named with the recipe's."""
    from stemgui.separation.checkpoint import save_model
    from stemgui.separation.nets.demucs import Demucs
    from tests.separation.model_files_helpers import tiny_htdemucs

    kwargs = TINY["model"]["kwargs"]
    start = tmp_path / "hybrid.stemgui"  # said "its architecture differs", naming neither
    save_model(tiny_htdemucs(sources=["drums", "bass", "other", "vocals"]), start)
    with pytest.raises(ValueError, match=r"hybrid.stemgui: a HTDemucs, the recipe's a Demucs"):
        make(tmp_path, "hybrid", init=start)
    for name, changed in (
        ("reordered", {"sources": ["vocals", "drums", "bass", "other"]}),
        ("slower", {"samplerate": 22050}),
    ):
        start = tmp_path / f"{name}.stemgui"
        save_model(
            Demucs(**{"sources": ["drums", "bass", "other", "vocals"], **kwargs, **changed}), start
        )
        with pytest.raises(ValueError, match=rf"{name}.stemgui: it separates .* the recipe's"):
            make(tmp_path, name, init=start)


@pytest.mark.parametrize(
    ("name", "instead"),
    [("bad/name", "bad_name"), ("", "_"), (".hidden", "hidden"), ("a:b", "a_b"), ("NUL", "NUL_")],
)
def test_a_name_that_cannot_be_a_file_name_is_refused_before_anything_is_written(
    tmp_path, name, instead
):
    models = tmp_path / "models"
    expected = rf"model name {re.escape(repr(name))}: .* such as {re.escape(repr(instead))} "
    with pytest.raises(ValueError, match=expected):
        export_model(tmp_path / "never read.stemgui", name, models)
    assert not models.exists()


def test_a_name_too_long_for_its_file_is_refused_suggesting_one_that_exports(tmp_path, a_model):
    """A 240-byte name was suggested for a 250-byte one, then failed with "[Errno 36] File name
    too long" once "-<8 hex>.stemgui" was added to it, leaving an empty models folder."""
    models = tmp_path / "models"
    with pytest.raises(ValueError, match=r"such as '(a{223})' .*at most 223 bytes") as refused:
        export_model(a_model, "a" * 240, models)
    assert not models.exists()
    instead = re.search(r"such as '(a+)'", str(refused.value))[1]
    entry = export_model(a_model, instead, models)
    assert len(entry["file"]) == 240 and (models / entry["file"]).is_file()


@pytest.mark.parametrize("source", ["best", "best.pt", "best.stemgui.bak"])
def test_the_exported_file_is_a_stemgui_file_whatever_the_source_is_named(
    tmp_path, a_model, source
):
    """It took the source's ending: "best" was exported as tiny-<hash> with none, "best.pt" as
    tiny-<hash>.pt, files no models folder of the app lists."""
    from stemgui.separation.hashing import file_sha256

    copy = tmp_path / source
    copy.write_bytes(a_model.read_bytes())
    models = tmp_path / "models"
    entry = export_model(copy, "tiny", models)
    assert entry["file"] == f"tiny-{file_sha256(a_model)[:8]}.stemgui"
    assert sorted(p.name for p in models.iterdir()) == sorted([entry["file"], "manifest.json"])
    store = ModelStore(bundled_dir=models, user_dir=tmp_path / "user")
    # copied into the user's models folder, the app lists it there too
    assert "tiny" in ModelStore(bundled_dir=tmp_path / "none", user_dir=models).names()
    mix = torch.randn(1, 2, 4000)
    with torch.no_grad():
        assert torch.equal(store.load("tiny")(mix), load_model(a_model)(mix))


def test_the_name_of_an_official_model_is_refused_before_anything_is_written(tmp_path):
    """Exported as "htdemucs", a model took the official htdemucs's place in the app and in
    stemgui-separate -n htdemucs (the bundled one wins a name), which then could not be had."""
    models = tmp_path / "models"
    with pytest.raises(ValueError, match=r"model name 'htdemucs': .*official Demucs model"):
        export_model(tmp_path / "never read.stemgui", "htdemucs", models)
    assert not models.exists()


def test_a_damaged_manifest_is_refused_before_the_model_is_copied(tmp_path, caplog):
    from training.__main__ import main

    make(tmp_path, overrides={"schedule": {"steps": 2, "eval_every": 2}}).run()
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.json").write_text("{ not json")
    argv = ["export", str(tmp_path / "run" / "best.stemgui"), "--name", "tiny"]
    assert main([*argv, "--models-dir", str(models)]) == 1
    assert "model manifest is not readable JSON" in caplog.text
    assert caplog.text.rstrip().endswith(
        "; correct this manifest of --models-dir by hand, or remove it (export then writes one "
        "that lists this model alone)"
    )
    assert sorted(p.name for p in models.iterdir()) == ["manifest.json"]  # no stray copy


def test_a_damaged_manifest_entry_says_to_correct_the_manifest_not_to_reinstall(tmp_path, a_model):
    """export said 'reinstall stemgui' of the manifest of its own --models-dir."""
    models = tmp_path / "models"
    models.mkdir()
    entry = {"name": "old", "file": "old.stemgui", "sha256": "abc"}
    (models / "manifest.json").write_text(json.dumps({"schema": 1, "models": [entry]}))
    with pytest.raises(ModelLoadError) as refused:
        export_model(a_model, "tiny", models)
    assert str(refused.value) == (
        f"{models / 'manifest.json'}: manifest entry 'old' has a sha256 of 'abc', not a sha256 "
        "(64 hex digits); correct this manifest of --models-dir by hand, or remove it (export "
        "then writes one that lists this model alone)"
    )


def test_replacing_an_entry_whose_file_is_a_path_leaves_that_file_alone(tmp_path, a_model):
    """A manifest entry naming ``../notes.txt`` (edited by hand) had that file, outside the
    models folder, deleted by ``export --replace`` of its name."""
    models = tmp_path / "models"
    models.mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    entry = {"name": "tiny", "file": "../notes.txt", "sha256": "0" * 64}
    (models / "manifest.json").write_text(json.dumps({"schema": 1, "models": [entry]}))
    with pytest.raises(ModelLoadError, match=r"manifest.json: manifest entry 'tiny' has a file"):
        export_model(a_model, "tiny", models, replace=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in models.iterdir()) == ["manifest.json"]


@pytest.mark.parametrize(
    ("file", "what"), [("sub", "not a model file"), ("manifest.json", "the manifest itself")]
)
def test_replacing_an_entry_whose_file_is_no_model_file_is_refused_before_any_change(
    tmp_path, a_model, file, what
):
    """An entry naming a folder (edited by hand): the manifest was rewritten, then export said
    "[Errno 21] Is a directory" and exit 1; one naming manifest.json had the new manifest
    deleted, every model of the folder unlisted, and export said it had exported."""
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    entry = {"name": "tiny", "file": file, "sha256": "0" * 64}
    manifest = json.dumps({"schema": 1, "models": [entry]})
    (models / "manifest.json").write_text(manifest)
    expected = rf"manifest.json: the model named 'tiny' has the file '{file}', {what}, which"
    with pytest.raises(ValueError, match=expected):
        export_model(a_model, "tiny", models, replace=True)
    assert (models / "manifest.json").read_text() == manifest
    assert sorted(p.name for p in models.iterdir()) == ["manifest.json", "sub"]


def test_a_manifest_that_cannot_be_written_leaves_no_copy_of_the_model(tmp_path, monkeypatch):
    """The disk full as the manifest was written: the model's copy stayed, named by nothing."""
    import training.export as export

    make(tmp_path, overrides={"schedule": {"steps": 2, "eval_every": 2}}).run()
    models = tmp_path / "models"
    real = export.atomic_path

    def full(path, **kwargs):
        if path.name == "manifest.json":
            raise OSError(28, "No space left on device")
        return real(path, **kwargs)

    monkeypatch.setattr(export, "atomic_path", full)
    with pytest.raises(OSError, match="No space left"):
        export_model(tmp_path / "run" / "best.stemgui", "tiny", models)
    assert list(models.iterdir()) == []


def test_a_model_recording_only_its_data_roots_exports_them_as_another_machine_knows_them(
    tmp_path,
):
    from stemgui.separation.checkpoint import save_model
    from training import config as config_mod
    from training.network import build_model

    path = tmp_path / "old.stemgui"
    roots = [str(tmp_path / "musdb18-7" / "train")]  # a path of the machine that trained it
    model = build_model(config_mod.from_dict(TINY))
    save_model(model, path, provenance={"data_roots": roots, "steps": 3})
    entry = export_model(path, "old", tmp_path / "models")
    assert entry["data"] == ["musdb18-7/train"]  # was the full path
