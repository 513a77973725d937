"""Fixtures of the command-line tests: every test runs isolated, with the tiny known-answer model
at hand (``isolated`` and ``model_file``, from tests/conftest.py) or installed as the bundled
default (``bundled``); tests/reliability/helpers.py builds them and has readers of what a run
wrote and said.

The model multiplies the mixture by a fixed factor per stem, so every written stem has a known
answer: ``stem_k = factor_k * mix``.
"""

from __future__ import annotations

import pytest

from tests.reliability.helpers import install_bundled


@pytest.fixture(autouse=True)
def _every_test_isolated(request):
    """Every test here runs isolated, whether it asks for ``isolated`` or not."""
    request.getfixturevalue("isolated")


@pytest.fixture
def bundled(tmp_path, model_file) -> str:
    """``model_file`` installed as the bundled default model ``tiny-bundled``
    (``tests.reliability.helpers.install_bundled``)."""
    return install_bundled(tmp_path, model_file)
