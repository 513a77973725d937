"""Files shipped with the app, found in the source tree or in the frozen app alike: the
``resources/`` folder and the demo song in it."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """``resources/`` of the source tree or of the frozen app (beside ``resources/models``).
    Not from the model store's module, which imports torch: the window asks it at the start."""
    from stemgui.separation.spec import default_bundled_dir

    return default_bundled_dir().parent


def demo_path(root: Path | None = None) -> Path:
    """Where the demo song shipped with the app lies (Help ▸ Try the demo song, the smoke test)."""
    return (root if root is not None else resources_dir()) / "demo" / "demo.mp3"
