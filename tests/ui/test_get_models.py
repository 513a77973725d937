"""Get models: an official model downloads from a local server, is selected, and separates."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler

import pytest

from stemgui.separation.hashing import file_sha256
from stemgui.separation.official_models import OFFICIAL_MODELS, OfficialModel
from stemgui.ui import settings as S
from stemgui.ui.queue import JobState
from stemgui.ui.window import MainWindow
from tests.fakes import FakeOutput
from tests.loopback import serving
from tests.ui.conftest import TIMEOUT_MS


@pytest.fixture
def published(tmp_path, monkeypatch, tiny_model_file):
    """The tiny checkpoint served over HTTP on loopback as official model "tiny_ui"."""
    folder = tmp_path / "served" / "tiny"
    folder.mkdir(parents=True)
    name = f"tinyui-{file_sha256(tiny_model_file)[:8]}.stemgui"
    shutil.copy(tiny_model_file, folder / name)
    monkeypatch.setitem(
        OFFICIAL_MODELS, "tiny_ui", OfficialModel("tiny_ui", "test", "tiny/", (name,))
    )
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # No bundled model either: the test starts from a store that has none.
    monkeypatch.setattr(
        "stemgui.separation.store.default_bundled_dir", lambda: tmp_path / "bundled"
    )
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    with serving(handler) as url:
        yield url


def tiny_dialog(qtbot, published):
    """The Get models dialog listing the official tiny_ui alone, its row selected."""
    from stemgui.ui.get_models import ModelsDialog

    dialog = ModelsDialog([("tiny_ui", "test", False)], published)
    qtbot.addWidget(dialog)
    dialog.table.selectRow(0)
    return dialog


def download(qtbot, dialog) -> None:
    """The selected model downloaded, or failed, to the end."""
    dialog.download_selected()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=TIMEOUT_MS)


def test_download_an_official_model_then_separate_with_it(qtbot, settings_store, published, songs):
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
        assert win.menus.has_model() is False
        (job,) = win.add_paths(songs[:1])
        assert job.state is JobState.WAITING and "no model" in job.status_text()
        assert "No separation model" in win.banner.text()
        assert ("tiny_ui", "test", False) in win.menus.catalogue
        win.menus.root_url = published
        dialog = win.menus.get_models()
        dialog.table.selectRow(dialog.rows["tiny_ui"])
        assert dialog.download_button.isEnabled()
        task = dialog.download_selected()
        assert task is not None
        qtbot.waitUntil(lambda: dialog.task is None, timeout=TIMEOUT_MS)
        assert dialog.table.item(dialog.rows["tiny_ui"], 2).text() == "downloaded"
        assert win.settings.get(S.MODEL) == "tiny_ui"
        assert dialog.status.text() == "tiny_ui is downloaded and verified; the next songs use it."
        assert win.menus.has_model() is True and not win.banner.isVisibleTo(win)
        win.menus.fill_model_menu()  # as when the menu opens
        (action,) = [a for a in win.menus.model_menu.actions() if a.iconText() == "tiny_ui"]
        assert action.toolTip() == "test"  # the catalogue's description
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE, job.error
        assert job.model_name == "tiny_ui"
        dialog.close()
    finally:
        win.close()


def test_a_model_downloaded_while_the_chosen_one_does_not_load_is_used(
    qtbot, settings_store, published, songs, tiny_model_file, tmp_path
):
    """The banner says the chosen model does not load and offers Get models…: the model
    downloaded there was left unchosen ("choose it in the Model menu"), the songs waiting."""
    damaged = tmp_path / "mine.stemgui"
    damaged.write_bytes(tiny_model_file.read_bytes()[:500])
    settings = S.Settings(settings_store)
    settings.set(S.MODEL, str(damaged))
    win = MainWindow(settings, output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    try:
        (job,) = win.add_paths(songs[:1])
        qtbot.waitUntil(lambda: "does not load" in job.hold, timeout=TIMEOUT_MS)
        win.menus.root_url = published
        dialog = win.menus.get_models()
        dialog.table.selectRow(dialog.rows["tiny_ui"])
        dialog.download_selected()
        qtbot.waitUntil(lambda: dialog.task is None, timeout=TIMEOUT_MS)
        assert settings.get(S.MODEL) == "tiny_ui"
        assert dialog.status.text() == "tiny_ui is downloaded and verified; the next songs use it."
        qtbot.waitUntil(lambda: job.state.ended, timeout=TIMEOUT_MS)
        assert job.state is JobState.DONE and job.model_name == "tiny_ui", job.error
        dialog.close()
    finally:
        win.close()


def test_a_failed_download_says_why(qtbot, settings_store, published, tmp_path):
    shutil.rmtree(tmp_path / "served" / "tiny")  # the server answers 404
    dialog = tiny_dialog(qtbot, published)
    download(qtbot, dialog)
    assert dialog.table.item(0, 2).text() == "failed"
    assert dialog.status.text().startswith("Could not download model") and "404" in (
        dialog.status.text()
    )
    assert dialog.download_button.isEnabled()  # try again


def test_a_bag_s_download_says_which_file_of_how_many(qtbot, published, tmp_path, monkeypatch):
    """A bag's files each filled the bar from empty, named by their file alone: the download
    seemed to start over at each."""
    (first,) = OFFICIAL_MODELS["tiny_ui"].files
    second = "tinyu2" + first.removeprefix("tinyui")
    shutil.copy(tmp_path / "served" / "tiny" / first, tmp_path / "served" / "tiny" / second)
    bag = OfficialModel("tiny_ui", "test", "tiny/", (first, second))
    monkeypatch.setitem(OFFICIAL_MODELS, "tiny_ui", bag)
    dialog = tiny_dialog(qtbot, published)
    shown, progress = [], dialog._progress

    def showing(*args):
        progress(*args)
        shown.append(dialog.status.text())

    monkeypatch.setattr(dialog, "_progress", showing)
    download(qtbot, dialog)
    assert dialog.table.item(0, 2).text() == "downloaded"
    size = (tmp_path / "served" / "tiny" / first).stat().st_size / 1e6
    assert shown[0] == f"{first} (file 1 of 2): 0.0 of {size:.1f} MB"
    assert shown[-1] == f"{second} (file 2 of 2): {size:.1f} of {size:.1f} MB"


def test_a_full_disk_names_the_models_folder(qtbot, published, tmp_path, monkeypatch):
    """The dialog shows the message alone: it said "could not save model tiny_ui there … free
    some space on that disk", naming no folder, and the models folder is a hidden one."""
    import errno
    import io

    class FullDisk(io.BytesIO):
        def write(self, block):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(
        "stemgui.separation.download.open", lambda path, mode: FullDisk(), raising=False
    )
    dialog = tiny_dialog(qtbot, published)
    download(qtbot, dialog)
    folder = tmp_path / "data" / "stemgui" / "models" / "official"
    assert dialog.status.text() == (
        f"Could not save model tiny_ui in {folder}: No space left on device; free some space "
        "on that disk, or make the folder writable, and try again"
    )


def test_a_bug_in_a_download_is_said_as_one_with_the_way_to_the_log(
    qtbot, published, monkeypatch, caplog
):
    """It said "Unexpected error: list index out of range", no word of whose fault it is nor
    where the log is: the app's one wording for unexpected errors, naming the model."""
    from stemgui.separation.store import ModelStore

    def buggy(self, name, on_progress=None, cancel=None):
        raise IndexError("list index out of range")

    monkeypatch.setattr(ModelStore, "download", buggy)
    dialog = tiny_dialog(qtbot, published)
    download(qtbot, dialog)
    assert dialog.table.item(0, 2).text() == "failed"
    assert dialog.status.text() == (
        "Model tiny_ui: unexpected error (IndexError: list index out of range), a fault in "
        "stemgui. Details are in the log file (Help ▸ Open log folder)."
    )
    (record,) = [r for r in caplog.records if r.name == "stemgui.ui.get_models"]
    assert record.exc_info[0] is IndexError  # the traceback, in the log file


@pytest.fixture
def stalled(published, tmp_path):
    """A server that answers with headers and a few bytes, then nothing until released."""
    from http.server import BaseHTTPRequestHandler

    release = threading.Event()

    class Stalls(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            release.wait(30)

        def log_message(self, *args):
            pass

    with serving(Stalls) as url:
        try:
            yield url
        finally:
            release.set()  # before the server stops: it waits for its handlers


def _downloading(qtbot, settings_store, root_url):
    """(window, its Get models dialog, the task) downloading tiny_ui from ``root_url``, its
    first bytes shown."""
    win = MainWindow(S.Settings(settings_store), output_factory=FakeOutput, probe=True)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.menus.store_models is not None, timeout=TIMEOUT_MS)
    win.menus.root_url = root_url
    dialog = win.menus.get_models()
    dialog.table.selectRow(dialog.rows["tiny_ui"])
    task = dialog.download_selected()
    qtbot.waitUntil(lambda: "tiny" in dialog.status.text() and "MB" in dialog.status.text())
    return win, dialog, task


@pytest.mark.parametrize("how", ["close", "escape"])
def test_one_get_models_dialog_and_closing_it_stops_its_download_at_once(
    qtbot, settings_store, stalled, how
):
    import time

    from PySide6.QtCore import Qt

    win, dialog, task = _downloading(qtbot, settings_store, stalled)
    try:
        assert win.menus.get_models() is dialog  # not a second one, with its own download
        started = time.monotonic()
        if how == "close":
            dialog.close_button.click()
        else:
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert time.monotonic() - started < 2  # a stalled connection held the window 10 s
        assert not dialog.isVisible() and task.cancel_event.is_set()
        again = win.menus.get_models()  # while the download still ends: that same dialog
        assert again is dialog and not again.download_button.isEnabled()
        again.close()
    finally:
        win.close()


def test_cancel_on_a_stalled_download_is_said_at_once(qtbot, settings_store, stalled):
    """The server stopped sending: the dialog went on showing the bytes so far, with Cancel
    still enabled, until the connection timed out half a minute later."""
    win, dialog, _task = _downloading(qtbot, settings_store, stalled)
    try:
        dialog.cancel_button.click()
        assert dialog.status.text() == "Cancelling the download of tiny_ui…"
        assert not dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
        # and done within a second: it waited for the connection's timeout, half a minute,
        # before the model could be downloaded again
        qtbot.waitUntil(lambda: dialog.task is None, timeout=1500)
        assert dialog.status.text().startswith("Download cancelled; it resumes")
        assert dialog.table.item(dialog.rows["tiny_ui"], 2).text() == "cancelled"
        assert dialog.download_button.isEnabled()
        dialog.close()
    finally:
        win.close()


def test_a_song_never_downloads_its_official_model_itself(published, tmp_path):
    """A model's files deleted while the app ran: the song's separation downloaded them with no
    progress and no Cancel, from the default server, and on Windows (no console) crashed on
    the command line's progress bar. It says where to get the model instead."""
    from stemgui.errors import ModelLoadError
    from stemgui.separation.store import ModelStore
    from stemgui.ui.separation_options import SeparationOptions, default_separator_factory

    with pytest.raises(ModelLoadError, match=r"tiny_ui is not downloaded .* Get models…"):
        default_separator_factory(SeparationOptions(model="tiny_ui", device="cpu"))
    official = ModelStore().official_dir
    assert not official.exists() or not any(official.iterdir())  # nothing fetched
