"""``python -m stemgui`` opens the window; ``python -m stemgui separate ...`` runs the CLI.

The window's module (and with it PySide6) is imported only when the window is asked for, so the
command line runs on machines without a display or Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

_GUI_MODULE = "stemgui.ui.app"


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch: ``separate`` to the command line, anything else to the app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "separate":
        from stemgui.cli import main as separate

        return separate(args[1:])  # sets up the allocator itself (it is also stemgui-separate)
    from stemgui import memory

    memory.reuse_freed_memory()  # first: before numpy, torch, Qt and their threads allocate
    try:
        from stemgui.ui.app import main as app_main
    except ModuleNotFoundError as error:
        # Only the window's own module missing is expected (a build without the app); a missing
        # dependency inside it is a real error and is raised.
        if error.name not in (_GUI_MODULE, "stemgui.ui"):
            raise
        print(
            "stemgui: the window is not available in this installation; "
            "use `stemgui-separate TRACK...` (or `python -m stemgui separate TRACK...`)",
            file=sys.stderr,
        )
        return 2
    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
