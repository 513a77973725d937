"""Fixtures of the reliability tests: an isolated command-line run with the tiny model
(tests/reliability/helpers.py has them)."""

from __future__ import annotations

from tests.reliability.helpers import isolated, model_file  # noqa: F401 (fixtures)
