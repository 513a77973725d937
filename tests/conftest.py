"""Shared fixtures: offscreen Qt, a small torch thread count, per-test user folders."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    """Keep torch on the machine's two cores and out of the way of other processes."""
    try:
        import torch
    except ImportError:
        yield
        return
    torch.set_num_threads(2)
    yield


@pytest.fixture(autouse=True)
def _own_user_folders(tmp_path_factory, monkeypatch):
    """The user cache and data folders (stem cache, scratch stems, downloaded models) of each
    test are fresh: no test reads what an earlier run or the real user left there."""
    root = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
