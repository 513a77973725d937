"""Fixtures of the command-line tests (tests/cli/rig.py has them, with their helpers)."""

from __future__ import annotations

from tests.cli.rig import bundled, isolated, model_file  # noqa: F401 (fixtures)
