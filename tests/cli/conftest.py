"""Fixtures of the command-line tests (tests/cli/rig.py has them, with their helpers)."""

from __future__ import annotations

from tests.cli.rig import bundled_fixture, isolated, model_file_fixture  # noqa: F401 (fixtures)
