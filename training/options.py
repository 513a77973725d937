"""Argument types shared by the ``python -m training`` commands: a bad number or device is
refused by argparse (usage, the option's name, exit 2) before any work starts."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def count(low: int) -> Callable[[str], int]:
    """A whole number from ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"a whole number from {low}, got {text!r}")
        return value

    return parse


def positive(text: str) -> float:
    """A number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"a number above 0, got {text!r}")
    return value


def device(text: str) -> str:
    """A device this machine has: cpu, cuda, cuda:N, mps or auto (the best one), as torch names
    it; a GPU that is not there is refused here, not by a traceback from the first tensor."""
    from stemgui.separation.device import resolve_device

    try:
        return str(resolve_device(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
