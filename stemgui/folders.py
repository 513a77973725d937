"""Removing a folder the app wrote (a stem cache entry, a run's scratch stems) without failing:
what cannot be deleted (a file still mapped on Windows, a permission taken away) is logged and
left, for the next start or the user to remove."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and all it holds, if it is there, or the file or link in its place
    (not what a link names); what cannot be deleted is logged."""

    def report(function: object, path: str, error: BaseException) -> None:
        logger.warning("could not delete %s: %s", path, error)

    if os.path.islink(folder) or os.path.isfile(folder):
        try:
            folder.unlink()
        except OSError as error:
            report(os.unlink, str(folder), error)
        return
    if not folder.exists():
        return
    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=report)
    else:
        shutil.rmtree(folder, onerror=lambda function, path, info: report(function, path, info[1]))
