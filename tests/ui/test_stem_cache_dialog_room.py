"""File ▸ Stem cache size… is wide enough to read: it was as narrow as its OK and Cancel (200 px),
the cache's folder broken over three lines ("(/", "root/.cache/stemgui/", "stemcache)") and the
note over six. The first line holds the first words and the folder whole."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from stemgui.stemcache import StemCache
from stemgui.ui.stem_cache_size import StemCacheSizeDialog


def _lines(label) -> int:
    return round(label.heightForWidth(label.width()) / label.fontMetrics().lineSpacing())


def test_the_cache_folder_is_on_one_line(qtbot):
    root = Path("/home/alexandra/.cache/stemgui/stemcache")  # none there: 0 songs, nothing made
    dialog = StemCacheSizeDialog(StemCache(root), 4, True)
    qtbot.addWidget(dialog)
    dialog.show()
    QApplication.processEvents()
    label = dialog.use_label
    assert label.text().startswith(f"The stem cache ({root})")
    assert label.fontMetrics().horizontalAdvance(f"The stem cache ({root})") <= label.width()
    assert _lines(label) <= 3
    dialog.close()
