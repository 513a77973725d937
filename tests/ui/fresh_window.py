"""A window made in a fresh Python process, for what a test process that imported torch long
ago cannot show: what the window imports on its own (``sys.modules``)."""

from __future__ import annotations

import subprocess
import sys

START = (
    "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
    "from PySide6.QtWidgets import QApplication; app = QApplication([]);"
    "from stemgui.ui.window import MainWindow;"
)


def fresh_process_says(code: str) -> str:
    """The last line that a fresh Python prints as it runs ``code`` after ``START`` (offscreen
    Qt, ``app`` a QApplication, ``MainWindow`` imported, ``sys`` at hand); the test fails with
    its stderr where it fails."""
    out = subprocess.run(
        [sys.executable, "-c", START + code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]
