"""``stemgui.folders.remove_tree``: a folder the app wrote goes with all it holds; what cannot be
deleted is logged and left, never raised (closing the app or evicting a cache entry goes on)."""

from __future__ import annotations

import logging
import os

from stemgui.folders import remove_tree


def test_a_folder_goes_with_all_it_holds(tmp_path):
    folder = tmp_path / "run-1"
    (folder / "inner").mkdir(parents=True)
    (folder / "stems.npy").write_bytes(b"x" * 100)
    (folder / "inner" / "mix.npy").write_bytes(b"y")
    remove_tree(folder)
    assert not folder.exists()
    remove_tree(folder)  # gone already: nothing to do, nothing said
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_deleted_is_logged_and_the_rest_goes(tmp_path, monkeypatch, caplog):
    folder = tmp_path / "entry"
    folder.mkdir()
    (folder / "held.npy").write_bytes(b"x")  # still mapped, as on Windows
    (folder / "free.npy").write_bytes(b"y")
    unlink = os.unlink

    def refuse_held(path, *args, **kwargs):
        if os.fspath(path).endswith("held.npy"):
            raise PermissionError(13, "in use by another process")
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse_held)
    with caplog.at_level(logging.WARNING, logger="stemgui.folders"):
        remove_tree(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["held.npy"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not delete" in w and "held.npy" in w for w in warnings), warnings


def test_a_file_or_link_in_the_folder_s_place_goes_not_what_a_link_names(tmp_path):
    """rmtree refused both ("Cannot call rmtree on a symbolic link", NotADirectoryError): a
    stem cache entry replaced by one could not be dropped."""
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "stems.npy").write_bytes(b"x")
    for name, make in (
        ("file", lambda p: p.write_bytes(b"x")),
        ("link", lambda p: p.symlink_to(kept)),
        ("dangling", lambda p: p.symlink_to(tmp_path / "gone")),
    ):
        make(tmp_path / name)
        remove_tree(tmp_path / name)
        assert not os.path.lexists(tmp_path / name)
    assert (kept / "stems.npy").read_bytes() == b"x"
