"""What the window shows whole at its smallest size."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from stemgui.ui import settings as S
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput

# the banner's words for a chosen model that is gone (``model_status``), about 200 characters
MODEL = "stemgui-htdemucs-finetuned-on-my-whole-library-2026-v3-final-final"
NOT_AVAILABLE = (
    f"The chosen model “{MODEL}” is not available (/home/someone/Music/models/{MODEL}.stemgui). "
    "Download one (Model ▸ Get models…) or choose a model file (Model ▸ Choose model file…)."
)


def test_a_long_banner_is_whole_over_the_drop_hint_at_the_smallest_size(qtbot, settings_store):
    """Its last line was cut: the label got 141 px of the 154 it needs, the drop hint's page
    asking for the room of the failed song's page (174 px) kept in the same stack."""
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    actions = [("Get models…", lambda: None), ("Choose model file…", lambda: None)]
    win.show_error(NOT_AVAILABLE, "model", actions)
    win.resize(1, 1)
    qtbot.waitUntil(lambda: win.size() == win.minimumSize())
    QApplication.processEvents()  # the layouts laid out at that size
    assert win.pages.currentWidget() is win.empty
    label = win.banner.label
    assert label.heightForWidth(label.width()) <= label.height()
    win.close()
