"""What the stem cache tests of the window share: the real separator factory, counting the
models it loads."""

from __future__ import annotations

from stemgui.ui.separation_options import SeparationOptions, default_separator_factory


class CountingFactory:
    """The real separator factory, counting its calls (a call loads the model)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, options: SeparationOptions):
        self.calls += 1
        return default_separator_factory(options)
