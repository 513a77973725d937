"""``python -m stemgui.cli ...``: ``stemgui-separate`` without its installed script."""

import sys

from stemgui.cli import main

if __name__ == "__main__":
    sys.exit(main())
