"""ModelStore: manifest, user files, the official catalogue, loading by name or path, download."""

from __future__ import annotations

import contextlib
import json
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation import store as store_module
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import save_model
from stemgui.separation.hashing import hashed_name
from stemgui.separation.official_models import OFFICIAL_MODELS, OfficialModel
from stemgui.separation.store import ModelStore
from tests.loopback import serving
from tests.separation.model_files_helpers import (
    TinyNet,
    fake_demucs_class,
    half_state,
    make_tiny,
    write_official,
)

pytestmark = pytest.mark.usefixtures("_tiny")


@pytest.fixture
def mix() -> torch.Tensor:
    """(batch=1, channels=2, time=40)"""
    return torch.randn(1, 2, 40, generator=torch.Generator().manual_seed(2))


def write_manifest(folder: Path, models: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"schema": 1, "models": models}))


def test_shipped_manifest_is_valid_and_every_bundled_model_loads(tmp_path):
    store = ModelStore(user_dir=tmp_path / "user")
    assert store.bundled_dir.name == "models" and store.bundled_dir.parent.name == "resources"
    entries = store.list_models()
    bundled = [e for e in entries if e.origin == "bundled"]
    assert [e.name for e in bundled] == [m["name"] for m in store.manifest()]
    assert all(e.available for e in bundled)
    assert sum(e.default for e in bundled) <= 1
    official = [e for e in entries if e.origin == "official"]
    assert [e.name for e in official] == list(OFFICIAL_MODELS)
    assert not any(e.available for e in official)
    for entry in bundled:  # the sha256 of the manifest is checked on load
        assert list(store.load(entry.name).sources) == list(entry.sources)
    defaults = [e.name for e in bundled if e.default]
    assert store.default_name() == (defaults[0] if defaults else None)


def test_catalogue_matches_the_reference_package():
    """Our table against the reference's own remote/*.yaml and remote/files.txt."""
    demucs = pytest.importorskip("demucs", reason="the reference demucs package is not installed")
    import yaml

    remote = Path(demucs.__file__).parent / "remote"
    folder, file_folders = "", {}
    for line in (remote / "files.txt").read_text().splitlines():
        line = line.strip()
        if line.startswith("root:"):
            folder = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            file_folders[line] = folder
    for name, model in OFFICIAL_MODELS.items():
        bag = yaml.safe_load((remote / f"{name}.yaml").read_text())
        assert model.signatures == bag["models"], name
        assert model.weights == (tuple(map(tuple, bag["weights"])) if "weights" in bag else None)
        assert model.segment == bag.get("segment")
        for file in model.files:
            assert file_folders[file] == model.folder, file
            assert model.url(file) == f"https://dl.fbaipublicfiles.com/demucs/{model.folder}{file}"


def test_bundled_model_loads_by_name_with_its_sha256(tmp_path, mix):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    model = make_tiny(seed=8)
    digest = save_model(model, bundled / "tiny.stemgui")
    write_manifest(
        bundled,
        [
            {"name": "first", "file": "tiny.stemgui", "sha256": digest, "sources": model.sources},
            {
                "name": "main",
                "file": "tiny.stemgui",
                "sha256": digest,
                "default": True,
                "description": "the one",
            },
            {"name": "gone", "file": "absent.stemgui", "sha256": digest},
        ],
    )
    store = ModelStore(bundled, tmp_path / "user")
    entries = {e.name: e for e in store.list_models() if e.origin == "bundled"}
    assert entries["first"].available and entries["first"].sources == tuple(model.sources)
    assert not entries["gone"].available
    assert store.names() == ["first", "main"]
    assert store.default_name() == "main"
    with torch.no_grad():
        assert torch.equal(store.load("main")(mix), model(mix))
    with pytest.raises(ModelLoadError, match="reinstall"):
        store.load("gone")
    # an earlier run's output folder named after the model, in the working folder
    (tmp_path / "work" / "main").mkdir(parents=True)
    with contextlib.chdir(tmp_path / "work"), torch.no_grad():
        assert torch.equal(store.load("main")(mix), model(mix))  # was "model file not found"

    write_manifest(bundled, [{"name": "main", "file": "tiny.stemgui", "sha256": "0" * 64}])
    with pytest.raises(ModelLoadError, match="damaged"):
        store.load("main")


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not readable JSON"),
        ('{"schema": 2, "models": []}', "schema"),
        ('{"schema": 1}', 'no \\"models\\" list'),
        ('{"schema": 1, "models": [{"name": "a", "file": "a"}]}', "needs name, file, sha256"),
        (
            '{"schema": 1, "models": [{"name": "a", "file": "a", "sha256": "00000000"},'
            ' {"name": "a", "file": "b", "sha256": "00000000"}]}',
            "twice",
        ),
        # every load of it was a ValueError, its traceback on stemgui-separate's screen
        (
            '{"schema": 1, "models": [{"name": "a", "file": "a", "sha256": "abc"}]}',
            "entry 'a' has a sha256 of 'abc', not a sha256 \\(64 hex digits\\)$",
        ),
        ('{"schema": 1, "models": [{"name": "a", "file": "a", "sha256": ""}]}', "sha256 of ''"),
        # export --replace deleted the file an entry named, outside the folder too
        (
            '{"schema": 1, "models": [{"name": "a", "file": "../a", "sha256": "00000000"}]}',
            "entry 'a' has a file of '../a', not the name of a file in",
        ),
    ],
)
def test_bad_manifest_refused(tmp_path, text, message):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ModelLoadError, match=message):
        ModelStore(tmp_path, tmp_path / "user").list_models()


def test_user_files_listed_and_loaded(tmp_path, monkeypatch, mix):
    user = tmp_path / "user"
    user.mkdir()
    ours = make_tiny(seed=1)
    digest = save_model(ours, user / "mine.stemgui")
    (user / "mine.stemgui").rename(hashed_name(user / "mine.stemgui", digest))
    klass = fake_demucs_class(monkeypatch)
    official = make_tiny(seed=2)
    write_official(user / "abcd1234.th", klass, dict(official._init_kwargs), half_state(official))
    (user / "pair.yaml").write_text("models: ['abcd1234', 'abcd1234']\nsegment: 2\n")
    (user / "notes.txt").write_text("not a model")

    store = ModelStore(tmp_path / "no-bundled", user)
    user_entries = [e for e in store.list_models() if e.origin == "user"]
    assert sorted(e.name for e in user_entries) == ["abcd1234", "mine", "pair"]
    with torch.no_grad():
        assert torch.equal(store.load("mine")(mix), ours(mix))
        assert isinstance(store.load("abcd1234"), TinyNet)
        bag = store.load("pair")
        assert isinstance(bag, BagOfModels) and bag.segment == 2.0
        by_path = store.load(str(hashed_name(user / "mine.stemgui", digest)))
        assert torch.equal(by_path(mix), ours(mix))
        assert isinstance(store.load(user / "pair.yaml"), BagOfModels)


def test_a_suffix_in_capitals_names_the_same_format(tmp_path, monkeypatch):
    """NET.TH and PAIR.YAML (a Windows user's files) are an official file and a bag, as
    ``spec.names_a_file`` reads them: they were opened as our format, 'not a readable stemgui
    model file', and left out of the user's models."""
    user = tmp_path / "user"
    user.mkdir()
    klass = fake_demucs_class(monkeypatch)
    official = make_tiny(seed=2)
    member = write_official(
        user / "abcd1234.TH", klass, dict(official._init_kwargs), half_state(official)
    )
    (user / "PAIR.YAML").write_text("models: ['abcd1234']\nsegment: 2\n")

    store = ModelStore(tmp_path / "no-bundled", user)
    user_entries = [e for e in store.list_models() if e.origin == "user"]
    assert sorted(e.name for e in user_entries) == ["PAIR", "abcd1234"]
    assert isinstance(store.load(member), TinyNet)
    assert isinstance(store.load(str(member)), TinyNet)
    assert isinstance(store.load("abcd1234"), TinyNet)
    bag = store.load(str(user / "PAIR.YAML"))
    assert isinstance(bag, BagOfModels) and bag.segment == 2.0


def test_unknown_name_and_missing_path(tmp_path):
    store = ModelStore(tmp_path / "b", tmp_path / "u")
    with pytest.raises(ModelLoadError) as refused:
        store.load("nope")
    assert str(refused.value).startswith("nope: no model named 'nope' (known: hdemucs_mmi, ")
    assert str(refused.value).endswith("); choose one of those, or a model file")
    with pytest.raises(ModelLoadError, match="not found"):
        store.load(tmp_path / "absent.stemgui")


def test_official_model_not_downloaded(tmp_path):
    store = ModelStore(tmp_path / "b", tmp_path / "u")
    with pytest.raises(
        ModelLoadError, match=r"htdemucs_ft is not downloaded .*f7e0c4bc-ba3fe64a\.th"
    ):
        store.load("htdemucs_ft")
    missing = store.missing_files("mdx_q")
    assert [dest.name for _, dest in missing] == list(OFFICIAL_MODELS["mdx_q"].files)
    assert missing[0][0] == "https://dl.fbaipublicfiles.com/demucs/mdx_final/6b9c2ca1-3fd82607.th"
    assert all(dest.parent == store.official_dir for _, dest in missing)


@pytest.fixture
def published(tmp_path, monkeypatch):
    """Two official-format files served from a local folder, and a catalogue entry for them."""
    served = tmp_path / "served" / "hybrid_transformer"
    served.mkdir(parents=True)
    klass = fake_demucs_class(monkeypatch)
    files, members = [], []
    for seed, signature in ((3, "aaaa0001"), (4, "bbbb0002")):
        member = make_tiny(seed=seed)
        path = write_official(
            served / f"{signature}.th", klass, dict(member._init_kwargs), half_state(member)
        )
        files.append(path.name)
        members.append(member)
    entry = OfficialModel(
        "tiny_ft",
        "test bag",
        "hybrid_transformer/",
        tuple(files),
        weights=((1.0, 0.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0)),
        segment=3.0,
    )
    monkeypatch.setitem(OFFICIAL_MODELS, "tiny_ft", entry)

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with serving(partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))) as root:
        yield root, members


def test_download_then_load_an_official_bag(tmp_path, published, mix):
    root, members = published
    store = ModelStore(tmp_path / "b", tmp_path / "u", official_root_url=root)
    assert not {e.name: e for e in store.list_models()}["tiny_ft"].available
    progress = []
    paths = store.download("tiny_ft", on_progress=lambda f, d, t: progress.append((f, d, t)))
    assert [p.parent for p in paths] == [store.official_dir] * 2
    # which file of how many: each file's progress starts again from 0
    assert list(dict.fromkeys(f for f, _, _ in progress)) == [
        f"{paths[0].name} (file 1 of 2)",
        f"{paths[1].name} (file 2 of 2)",
    ]
    assert {e.name: e for e in store.list_models()}["tiny_ft"].available
    assert store.names() == ["tiny_ft"]
    assert store.default_name() == "tiny_ft"
    assert store.download("tiny_ft") == []  # nothing left to fetch

    bag = store.load("tiny_ft")
    assert isinstance(bag, BagOfModels)
    assert bag.weights == [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]] and bag.segment == 3.0
    expected = make_tiny()
    expected.load_state_dict(half_state(members[1]))
    with torch.no_grad():
        assert torch.equal(bag.models[1](mix), expected.float()(mix))


def test_a_downloaded_file_damaged_since_is_deleted_and_downloaded_again(tmp_path, published):
    """It was 'damaged or was changed; download it again', but the file counted as here: the
    command line never fetched it again, and Get models said 'downloaded' with no button."""
    root, _ = published
    store = ModelStore(tmp_path / "b", tmp_path / "u", official_root_url=root)
    _, second = store.download("tiny_ft")
    second.write_bytes(second.read_bytes()[:-10])  # a disk that lost its end
    with pytest.raises(ModelLoadError) as refused:
        store.load("tiny_ft")
    assert str(refused.value) == (
        f"{second}: a file of model tiny_ft is damaged (its sha256 does not match its name) "
        "and was deleted; download tiny_ft again"
    )
    assert [dest for _, dest in store.missing_files("tiny_ft")] == [second]
    assert store.download("tiny_ft") == [second]
    assert isinstance(store.load("tiny_ft"), BagOfModels)


def test_a_download_removes_the_partial_files_of_versions_no_longer_published(tmp_path, published):
    """A file published again under a new sha256 (in its name) left the partial download of
    the old one in the models folder for good: it is removed once the model downloads again,
    but not one another download is writing, nor one of another model."""
    from stemgui.separation.download import part_path
    from stemgui.separation.download_lock import only_download

    root, _ = published
    store = ModelStore(tmp_path / "b", tmp_path / "u", official_root_url=root)
    folder = store.official_dir
    folder.mkdir(parents=True)
    old, held, other = (folder / f"{sig}-0badc0de.th" for sig in ("aaaa0001", "bbbb0002", "cc03"))
    for dest in (old, held, other):
        part_path(dest).write_bytes(b"the first bytes of an earlier version")
    with only_download(held, "tiny_ft"):  # another window downloads that version now
        paths = store.download("tiny_ft")
    assert [path.name for path in paths] == list(OFFICIAL_MODELS["tiny_ft"].files)
    assert not part_path(old).exists()
    assert part_path(held).exists() and part_path(other).exists()
    assert store.download("tiny_ft") == []  # nothing left to fetch, nothing else removed
    assert part_path(held).exists()


def test_download_unknown_official_name(tmp_path):
    with pytest.raises(KeyError, match="not an official model"):
        ModelStore(tmp_path / "b", tmp_path / "u").download("nope")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_default_user_dir_follows_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert ModelStore().user_dir == tmp_path / "xdg" / "stemgui" / "models"
    assert store_module.default_user_dir() == tmp_path / "xdg" / "stemgui" / "models"
