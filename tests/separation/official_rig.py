"""What the official-import tests share: a pickle that would run a command, a quantizable net."""

from __future__ import annotations

import os

from tests.separation.model_files_helpers import TinyNet, make_tiny


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _quantizable_tiny(seed: int) -> TinyNet:
    """A TinyNet whose conv weight (8 sources x 2 x 2 = 32 entries) is large enough to quantize."""
    return make_tiny(seed=seed, sources=[f"s{i}" for i in range(8)])
