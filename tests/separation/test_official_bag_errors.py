"""Official bag-of-models YAML files refused, each saying what to do."""

from __future__ import annotations

import pytest

from stemgui.errors import ModelLoadError
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import save_model
from stemgui.separation.official import find_signature, load_bag_file, read_bag_file
from tests.separation.model_files_helpers import half_state, make_tiny, write_official

pytestmark = pytest.mark.usefixtures("_tiny")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("weights: [[1]]\n", "not a bag of models (no 'models:' list)"),
        ("models: []\n", "'models:' must list model signatures"),
        ("models: [{a: 1}]\n", "'models:' must list model signatures"),
        (
            "models: ['aaaa0001']\nsegment: 0\n",
            "'segment:' must be a number of seconds from 0.1 to 60, not 0",
        ),
        (b"models: ['\xff']\n", "bag file is not readable YAML (invalid start byte)"),
    ],
)
def test_a_bag_file_that_says_no_bag_says_what_to_do(tmp_path, text, said):
    """They said what was wrong and stopped there: a hand-made bag is to be corrected, an
    official one downloaded again."""
    path = tmp_path / "bag.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(path)
    assert str(refused.value) == f"{path}: {said}; correct it, or download it again"


def test_a_bag_file_that_cannot_be_read_says_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(tmp_path / "absent.yaml")
    assert str(refused.value) == (
        f"{tmp_path / 'absent.yaml'}: bag file not found; check its name and folder"
    )
    (tmp_path / "folder.yaml").mkdir()
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(tmp_path / "folder.yaml")
    assert str(refused.value) == (  # was "...: [Errno 21] Is a directory: '<the path again>'"
        f"{tmp_path / 'folder.yaml'}: bag file could not be read (Is a directory); check that "
        "it is a file you may read"
    )


def test_bag_file_errors(tmp_path, demucs_class):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (tmp_path / "missing.yaml").write_text("models: ['cccc0003']\n")
    with pytest.raises(ModelLoadError, match="model cccc0003 of this bag is not in"):
        load_bag_file(tmp_path / "missing.yaml", models_dir)

    (tmp_path / "bad.yaml").write_text("models: [unclosed\n")
    with pytest.raises(ModelLoadError, match="not readable YAML"):
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    # PyYAML's own text quotes the faulty line under a caret, in 7 lines: said in one
    (tmp_path / "bad.yaml").write_text("models: [a, b\nweights: [[1, 1]]\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    assert str(refused.value) == (
        f"{tmp_path / 'bad.yaml'}: bag file is not readable YAML: line 2, column 8: "
        "expected ',' or ']', but got ':'; correct it, or download it again"
    )
    (tmp_path / "bad.yaml").write_text("\x07models: []\n")  # a character YAML refuses
    with pytest.raises(ModelLoadError, match="YAML: unacceptable character #x0007") as refused:
        load_bag_file(tmp_path / "bad.yaml", models_dir)
    assert "\n" not in str(refused.value)
    (tmp_path / "empty.yaml").write_text("weights: [[1]]\n")
    with pytest.raises(ModelLoadError, match="no 'models:' list"):
        load_bag_file(tmp_path / "empty.yaml", models_dir)
    with pytest.raises(ModelLoadError, match="not found"):
        load_bag_file(tmp_path / "absent.yaml", models_dir)

    model = make_tiny()
    write_official(
        models_dir / "dddd0004.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    (models_dir / "dddd0004.th").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="several files for model dddd0004"):
        find_signature(models_dir, "dddd0004")

    (tmp_path / "weights.yaml").write_text("models: ['eeee0005']\nweights: [[1, 1]]\n")
    write_official(
        models_dir / "eeee0005.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    with pytest.raises(ModelLoadError, match="weights do not fit"):
        load_bag_file(tmp_path / "weights.yaml", models_dir)


def test_a_bag_listing_a_bag_file_is_refused_naming_it(tmp_path):
    """The bundled bag listed in a .yaml loaded, then every song longer than one chunk failed
    with 'input of 441000 samples is longer than the training segment' (the inner bag, taken
    for one network, got the default 10 s chunks)."""
    save_model(BagOfModels([make_tiny(seed=1), make_tiny(seed=2)]), tmp_path / "pair.stemgui")
    path = tmp_path / "nested.yaml"
    path.write_text("models: ['pair']\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(path, tmp_path)
    assert str(refused.value) == (
        f"{path}: model pair of this bag (pair.stemgui) is a bag itself, which a bag cannot "
        "hold; list single-model files"
    )


@pytest.mark.parametrize("weights", ["[1, 1, 1, 1]", "1", "[null]", "[[1, null, 1, 1]]"])
def test_bag_weights_not_a_list_per_model_are_said_so(tmp_path, demucs_class, weights):
    """A flat list (one model's weights without its brackets), a number or a null: it was
    "'int' object is not iterable"."""
    model = make_tiny()
    write_official(
        tmp_path / "aaaa0001.th", demucs_class, dict(model._init_kwargs), half_state(model)
    )
    path = tmp_path / "flat.yaml"
    path.write_text(f"models: ['aaaa0001']\nweights: {weights}\n")
    with pytest.raises(ModelLoadError) as refused:
        load_bag_file(path, tmp_path)
    assert str(refused.value).startswith(
        f"{path}: the bag's models or weights do not fit: a bag needs one weight per source "
        "(4: drums, bass, other, vocals) for each of its 1 models; got "
    )
    assert "not iterable" not in str(refused.value)


@pytest.mark.parametrize("segment", ["0", "-3", ".nan", ".inf", "'4'", "true", "1e6", "0.001"])
def test_a_bag_segment_that_is_no_length_is_refused_naming_the_file(tmp_path, segment):
    """0 or less made chunks of one sample (8000 forwards for one second at 8 kHz); .nan failed
    at the first chunk with 'cannot convert float NaN to integer', 1e6 for memory."""
    path = tmp_path / "odd.yaml"
    path.write_text(f"models: ['aaaa0001']\nsegment: {segment}\n")
    with pytest.raises(ModelLoadError) as refused:
        read_bag_file(path)
    assert str(refused.value).startswith(
        f"{path}: 'segment:' must be a number of seconds from 0.1 to 60, not "
    )
