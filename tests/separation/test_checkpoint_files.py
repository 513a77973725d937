"""Our checkpoint format: sha256 checks, and files that are no model of ours refused by name."""

from __future__ import annotations

import os
import zipfile

import pytest
import torch

from stemgui.errors import ModelLoadError
from stemgui.separation.bag import BagOfModels
from stemgui.separation.checkpoint import load_model, save_model
from stemgui.separation.hashing import hashed_name
from tests.pipes import without_waiting
from tests.separation.model_files_helpers import (
    TinyNet,
    fake_demucs_class,
    half_state,
    make_tiny,
    refusal,
    saved_payload,
    write_official,
)

pytestmark = pytest.mark.usefixtures("_tiny")


@pytest.mark.parametrize("segment", [0, -1.0, float("nan"), float("inf"), "44", 1e6, 0.001])
def test_a_bag_segment_that_is_no_length_is_refused_at_load(tmp_path, segment):
    """nan, inf and a string loaded, then failed at the first chunk with a traceback; 1e6 s
    for memory (a cross-fade window of 8e9 frames)."""
    path = tmp_path / "bag.stemgui"
    payload = saved_payload(BagOfModels([make_tiny(seed=1), make_tiny(seed=2)], segment=2.0), path)
    payload["segment"] = segment
    assert refusal(payload, path) == (
        f"{path}: malformed bag of models: the bag's segment must be a number of seconds "
        f"from 0.1 to 60, not {segment!r}; export it again"
    )


def test_sha256_argument_checked(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    assert isinstance(load_model(path, sha256=digest), TinyNet)
    assert isinstance(load_model(path, sha256=digest[:8].upper()), TinyNet)
    wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
    with pytest.raises(ModelLoadError) as info:
        load_model(path, sha256=wrong)
    assert info.value.path == path
    assert "download it again" in str(info.value)
    assert "tiny.stemgui" in str(info.value)


def test_hash_prefix_in_file_name_checked(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    named = hashed_name(path, digest)
    assert named.name == f"tiny-{digest[:8]}.stemgui"
    path.rename(named)
    assert isinstance(load_model(named), TinyNet)

    wrong = tmp_path / f"tiny-{'0' * 8 if digest[:8] != '0' * 8 else '1' * 8}.stemgui"
    named.rename(wrong)
    with pytest.raises(ModelLoadError, match="its name says"):
        load_model(wrong)


def test_a_date_at_the_end_of_a_name_is_said_to_be_read_as_a_checksum(tmp_path):
    """mine-20241203.stemgui, named by hand, was 'damaged or was changed; download it again
    (or export it again)': done, and the same message again, as the name was the fault."""
    path = tmp_path / "mine.stemgui"
    digest = save_model(make_tiny(), path)
    assert not digest.startswith("20241203")
    dated = path.rename(tmp_path / "mine-20241203.stemgui")
    with pytest.raises(ModelLoadError) as refused:
        load_model(dated)
    assert str(refused.value).endswith(
        "; or, if you named it so, rename it without '-20241203' (a name ending in '-' and 8 "
        "hex digits carries the file's sha256)"
    )
    with pytest.raises(ModelLoadError) as refused:  # a checksum given: the name is not at fault
        load_model(dated, sha256="0" * 8)
    assert "rename" not in str(refused.value)


def test_tampered_byte_is_caught_by_the_hash(tmp_path):
    path = tmp_path / "tiny.stemgui"
    digest = save_model(make_tiny(), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(path, sha256=digest)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22])
def test_truncated_file_refused(tmp_path, keep):
    path = tmp_path / "tiny.stemgui"
    save_model(make_tiny(), path)
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:cut])
    with pytest.raises(ModelLoadError) as info:
        load_model(path)
    assert info.value.path == path


def test_missing_file_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "absent.stemgui")
    with pytest.raises(ModelLoadError, match="is a folder; name a model file in it"):
        load_model(tmp_path)  # a run folder given for its best.stemgui: not "not found"
    pipe = tmp_path / "model.stemgui"
    os.mkfifo(pipe)  # there, so not "not found"; never opened: a read would wait for a writer
    with pytest.raises(ModelLoadError) as info:
        without_waiting(lambda: load_model(pipe), pipe)
    said = "is not a regular file (a named pipe, a socket or a device); name a model file"
    assert str(info.value) == f"{pipe}: {said}"


def test_a_song_chosen_as_a_model_is_called_a_song(tmp_path):
    """ "download or export it again" sent someone who picked their mp3 the wrong way."""
    song = tmp_path / "Night Drive.mp3"
    song.write_bytes(os.urandom(2000))
    with pytest.raises(ModelLoadError, match="is a song, not a model; choose a model file"):
        load_model(song)


def test_a_bag_yaml_given_as_a_model_is_called_one(tmp_path):
    """A valid htdemucs_ft.yaml given to a training command was "truncated, damaged or another
    format; download or export it again"."""
    bag = tmp_path / "htdemucs_ft.yaml"
    bag.write_text("models: ['f7e0c4bc', 'd12395a8']\n")
    with pytest.raises(ModelLoadError, match="is a bag description, not a model file; give the"):
        load_model(bag)


def test_a_pytorch_file_of_no_model_says_which_file_to_choose(tmp_path):
    """A training run's last.pt given to eval or quantize was "not a stemgui model file (no
    stemgui-model header)", saying neither what it was nor what to choose instead."""
    state = tmp_path / "last.pt"
    torch.save({"step": 4, "model": {}, "optimizer": {}}, state)
    with pytest.raises(ModelLoadError) as refused:
        load_model(state)
    assert str(refused.value) == (
        f"{state}: not a stemgui model file: a PyTorch file without its header (a training "
        "run's last.pt, another program's weights); choose a .stemgui model (a run's "
        "best.stemgui) or an official Demucs .th file"
    )


def test_an_official_file_named_stemgui_is_told_to_be_renamed(tmp_path, monkeypatch):
    """A good htdemucs file renamed (or saved by a browser) as .stemgui was "truncated, damaged
    or another format; download or export it again": downloading it again gives the same bytes."""
    klass = fake_demucs_class(monkeypatch)
    model = make_tiny()
    official = write_official(
        tmp_path / "955717e8.th", klass, dict(model._init_kwargs), half_state(model)
    )
    renamed = official.rename(official.with_suffix(".stemgui"))
    with pytest.raises(ModelLoadError) as refused:
        load_model(renamed)
    assert str(refused.value) == (
        f"{renamed}: is an official Demucs checkpoint, not a stemgui model file; rename it to "
        f"{official.name}"
    )
    damaged = tmp_path / "damaged.stemgui"  # neither: as it was
    damaged.write_bytes(renamed.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="truncated, damaged or another format"):
        load_model(damaged)


def test_random_bytes_and_foreign_files_refused(tmp_path):
    junk = tmp_path / "junk.stemgui"
    junk.write_bytes(os.urandom(2000))
    with pytest.raises(ModelLoadError, match="not a readable"):
        load_model(junk)

    foreign = tmp_path / "foreign.stemgui"
    torch.save({"state": {"w": torch.ones(2)}}, foreign)
    with pytest.raises(ModelLoadError, match="not a stemgui model file"):
        load_model(foreign)

    newer = tmp_path / "newer.stemgui"
    torch.save({"format": "stemgui-model", "format_version": 99}, newer)
    with pytest.raises(ModelLoadError, match="newer"):
        load_model(newer)
    for version in ("1", None, 0, True):  # they were told to update stemgui
        torch.save({"format": "stemgui-model", "format_version": version}, newer)
        with pytest.raises(ModelLoadError) as refused:
            load_model(newer)
        assert str(refused.value) == (
            f"{newer}: malformed stemgui model file (format version {version!r}); download or "
            "export it again"
        )


class _Boom:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickled_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    boom = _Boom()
    boom.marker = marker
    path = tmp_path / "evil.stemgui"
    torch.save({"format": "stemgui-model", "format_version": 1, "payload": boom}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(ModelLoadError):
        load_model(path)
    assert not marker.exists()
