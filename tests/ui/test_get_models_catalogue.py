"""Get models as the catalogue changes: the dialog follows the worker's list of official models
while open, says why none is listed, and a model downloaded under a name listed already shows
once."""

from __future__ import annotations

import threading

from stemgui.ui import settings as S
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.ui.conftest import TIMEOUT_MS


def _probes(monkeypatch) -> list[str]:
    """Each time the window asks the worker to list the models and devices again, from now on;
    the worker is not asked (the test answers with ``menus.probed``). The window hands its
    controller's ``probe`` to its menus and to their ``ModelWatch``, once, as it is built: call
    this before. (``win.menus._probe`` replaced afterwards was not what the watch calls.)"""
    from stemgui.ui.controller import QueueController

    asked: list[str] = []
    monkeypatch.setattr(QueueController, "probe", lambda self: asked.append("probe"))
    return asked


def test_the_get_models_dialog_follows_the_catalogue_while_open(qtbot, settings_store, monkeypatch):
    """Opened before the worker's first answer it said "not loaded yet" for good, and a model
    downloaded or deleted since it opened kept its old status (and Download its old state)."""
    from types import SimpleNamespace

    from stemgui.separation.store import ModelStore
    from stemgui.ui.get_models import NOT_LOADED

    asked = _probes(monkeypatch)
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    try:
        dialog = win.menus.get_models()
        assert asked == ["probe"]  # a look at the store: files deleted since show as such
        assert dialog.table.rowCount() == 0 and dialog.status.text() == NOT_LOADED
        win.menus.probed([], [("htdemucs", "usual", False), ("mdx", "other", True)], [])
        assert [dialog.table.item(row, 2).text() for row in range(2)] == [
            "not downloaded",
            "downloaded",
        ]
        assert dialog.selected() == "htdemucs" and dialog.download_button.isEnabled()
        assert dialog.status.text() == ""
        # htdemucs downloaded from the command line (its folder made), mdx's files deleted:
        # with no model to use, the watch sees the store change and asks for the list again
        ModelStore().official_dir.mkdir(parents=True)
        qtbot.waitUntil(lambda: len(asked) == 2, timeout=TIMEOUT_MS)
        win.menus.probed(
            [("htdemucs", "usual", "")], [("htdemucs", "usual", True), ("mdx", "o", False)], []
        )
        assert dialog.table.item(dialog.rows["htdemucs"], 2).text() == "downloaded"
        assert dialog.table.item(dialog.rows["mdx"], 2).text() == "not downloaded"
        assert dialog.table.item(dialog.rows["mdx"], 1).text() == "o"
        assert not dialog.download_button.isEnabled()  # htdemucs, still selected, is here
        dialog.table.selectRow(dialog.rows["mdx"])
        assert dialog.download_button.isEnabled()
        # the model downloading keeps its progress; a new model gets a row
        dialog.task = SimpleNamespace(name="mdx", cancel_event=threading.Event())
        dialog._set_status("mdx", "downloading…")
        win.menus.probed([], [("htdemucs", "usual", False), ("mdx", "o", False), ("x", "", 0)], [])
        assert dialog.table.item(dialog.rows["mdx"], 2).text() == "downloading…"
        assert dialog.table.item(dialog.rows["x"], 2).text() == "not downloaded"
        assert dialog.selected() == "mdx"
        dialog.task = None
        dialog.close()
        again = win.menus.get_models()  # a new one: the closed one is told no more
        assert again is not dialog and again.table.rowCount() == 3
        win.menus.probed([], [("htdemucs", "usual", True)], [])
        assert again.table.item(again.rows["htdemucs"], 2).text() == "downloaded"
        again.close()
    finally:
        win.close()


def test_the_dialog_says_why_no_model_is_listed(qtbot, settings_store, damaged_manifest):
    """A damaged bundled manifest: the banner offers Get models…, whose dialog said 'The list
    of official models is not loaded yet; it shows here once it is' for good."""
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    try:
        dialog = win.menus.get_models()  # opened before the worker answered, then after
        qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
        expected = (
            "The list of official models could not be loaded: "
            f"{damaged_manifest / 'manifest.json'}: model manifest is not readable JSON"
        )
        assert dialog.status.text().startswith(expected)
        assert dialog.status.text().endswith(
            "Reinstall stemgui, or choose a model file (Model ▸ Choose model file…)."
        )
        dialog.close()
        assert win.menus.get_models().status.text().startswith(expected)
    finally:
        win.close()


def test_a_model_downloaded_under_a_name_listed_already_shows_once(
    qtbot, settings_store, monkeypatch
):
    """A file of the models folder named like an official model (htdemucs.th) is listed under
    that name: the official one downloaded then showed twice in the Model menu."""
    asked = _probes(monkeypatch)
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    try:
        win.menus.probed(
            [("htdemucs", "", "/models/htdemucs.th")], [("htdemucs", "usual", False)], []
        )
        win.menus.get_models().downloaded.emit("htdemucs")
        assert asked == ["probe", "probe"]  # the dialog opened, the model downloaded: listed
        win.menus.fill_model_menu()
        texts = [a.iconText() for a in win.menus.model_menu.actions() if a.isCheckable()]
        assert texts == ["htdemucs"]
    finally:
        win.close()
