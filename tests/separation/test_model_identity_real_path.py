"""A model file's identity (the stem cache's key) names the file it is, not the path it was
reached by: through a link, or by a relative path, the same file gives the same identity, so its
songs' stems are kept once and found again."""

from __future__ import annotations

import hashlib
import os

import pytest

from stemgui.separation.model_identity import model_identity


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_the_same_model_file_through_a_link_or_a_relative_path_has_one_identity(
    tmp_path, monkeypatch
):
    model = tmp_path / "models" / "tiny.stemgui"
    model.parent.mkdir()
    model.write_bytes(b"weights")
    (tmp_path / "linked").symlink_to(model.parent, target_is_directory=True)
    (tmp_path / "tiny-link.stemgui").symlink_to(model)
    monkeypatch.chdir(tmp_path)
    expected = f"{os.path.realpath(model)}|{hashlib.sha256(b'weights').hexdigest()}"
    for spec in (
        str(model),
        str(tmp_path / "linked" / "tiny.stemgui"),
        str(tmp_path / "tiny-link.stemgui"),
        os.path.join("models", "tiny.stemgui"),
    ):
        assert model_identity(spec) == expected, spec
