"""Fixtures of the command-line tests: every test runs isolated, with the tiny known-answer model
at hand or installed as the bundled default (tests/reliability/helpers.py has the fixtures, with
readers of what a run wrote and said).

The model multiplies the mixture by a fixed factor per stem, so every written stem has a known
answer: ``stem_k = factor_k * mix``.
"""

from __future__ import annotations

import pytest

from tests.reliability.helpers import bundled, isolated, model_file  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _every_test_isolated(request):
    """Every test here runs isolated, whether it asks for ``isolated`` or not."""
    request.getfixturevalue("isolated")
