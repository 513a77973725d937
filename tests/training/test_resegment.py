"""``training segment``: the same weights, run on chunks of another length."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from stemgui.separation.checkpoint import load_model, read_checkpoint, save_model
from stemgui.separation.rewrite import save_with_segment
from stemgui.separation.separator import Separator
from tests.separation.model_files_helpers import tiny_htdemucs
from training.__main__ import main

RATE = 8000


def chunks_for(model, seconds: float) -> int:
    reports = []
    song = np.random.default_rng(0).standard_normal((2, int(seconds * RATE))).astype(np.float32)
    Separator(model, device="cpu", overlap=0.25).separate(song, reports.append)
    return reports[-1].chunks


def test_the_weights_stay_and_the_chunks_grow(tmp_path):
    source, output = tmp_path / "half.stemgui", tmp_path / "one.stemgui"
    save_model(tiny_htdemucs(), source, provenance={"steps": 7, "valid_sdr": {"drums": 1.0}})
    assert main(["segment", str(source), str(output), "--seconds", "1"]) == 0
    before, after = load_model(source), load_model(output)
    assert before.segment == Fraction(1, 2) and after.segment == 1.0
    for name, tensor in before.state_dict().items():
        assert torch.equal(after.state_dict()[name], tensor), name
    # A 2 s song, chunks starting every 3/4 of a chunk up to the end: 5 of 0.5 s, or 3 of 1 s.
    assert chunks_for(before, 2.0) == 5 and chunks_for(after, 2.0) == 3
    provenance = read_checkpoint(output)["provenance"]
    assert provenance["steps"] == 7
    assert provenance["valid_sdr"] == {}  # measured on 0.5 s chunks: not this file's (no --data)
    assert provenance["segment_changed"] == {"from_file": "half.stemgui", "from": 0.5, "to": 1.0}


def test_figures_measured_on_the_new_chunks_replace_the_sources(tmp_path):
    source, output = tmp_path / "half.stemgui", tmp_path / "one.stemgui"
    save_model(tiny_htdemucs(), source, provenance={"steps": 7, "valid_sdr": {"drums": 1.0}})
    save_with_segment(source, output, 1.0, provenance={"valid_sdr": {"drums": 2.5}})
    provenance = read_checkpoint(output)["provenance"]
    assert provenance["valid_sdr"] == {"drums": 2.5} and provenance["steps"] == 7


def test_a_bag_or_a_bad_length_is_refused(tmp_path, caplog):
    from stemgui.separation.bag import BagOfModels

    bag = tmp_path / "bag.stemgui"
    save_model(BagOfModels([tiny_htdemucs(), tiny_htdemucs()]), bag)
    assert main(["segment", str(bag), str(tmp_path / "a.stemgui"), "--seconds", "1"]) == 1
    assert "holds a bag" in caplog.text
    single = tmp_path / "single.stemgui"
    save_model(tiny_htdemucs(), single)
    # the command's parser refuses it first (tests/training/test_cli_parser.py)
    with pytest.raises(ValueError, match="positive number of seconds"):
        save_with_segment(single, tmp_path / "b.stemgui", 0)
    assert not (tmp_path / "a.stemgui").exists() and not (tmp_path / "b.stemgui").exists()


def test_stopped_while_measuring_the_file_holds_no_figures_of_the_source(
    tmp_path, monkeypatch, caplog
):
    """Ctrl-C while --data measured left the source's figures (other chunks) in the new file."""
    from training import evaluate, resegment

    source, output = tmp_path / "half.stemgui", tmp_path / "one.stemgui"
    four = ("drums", "bass", "other", "vocals")  # stems --data can score
    save_model(tiny_htdemucs(sources=four), source, provenance={"valid_sdr": {"drums": 1.0}})
    monkeypatch.setattr(evaluate, "validation_tracks", lambda *args, **kwargs: ["a track"])

    def stopped(args, tracks):
        raise KeyboardInterrupt

    monkeypatch.setattr(resegment, "measure", stopped)
    argv = ["segment", str(source), str(output), "--seconds", "1", "--data", str(tmp_path)]
    assert main(argv) == 130
    assert read_checkpoint(output)["provenance"]["valid_sdr"] == {}
    assert "resumes" not in caplog.text  # only a fit run does
