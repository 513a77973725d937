"""What the Makefile's recipes would run: ``make -n`` on a target of the checkout's Makefile."""

from __future__ import annotations

import subprocess

import pytest

from tests.paths import ROOT


def dry_run(target: str) -> str:
    """The commands ``make`` would run for ``target``, as it prints them without running them;
    the test is skipped where make is not usable."""
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        pytest.skip(f"make is not usable here: {result.stderr.strip()}")
    return result.stdout
