"""Fixtures the stems tests share: ``cache``, an empty ``StemCache`` in the test's folder (in
this folder it stands for pytest's own ``cache`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemgui.stemcache import StemCache


@pytest.fixture
def cache(tmp_path: Path) -> StemCache:
    return StemCache(tmp_path / "cache")
