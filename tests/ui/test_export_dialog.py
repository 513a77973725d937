"""The export dialog and File ▸ Export stems as a musician uses them: what the dialog shows,
what it refuses, and what the export remembers."""

from __future__ import annotations

from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.test_stems_playback import NAMES, _done_job, _null_window, click


def test_a_mix_with_every_stem_muted_is_refused_naming_the_song(qtbot, settings_store, tmp_path):
    win = _null_window(qtbot, settings_store, [])
    job = _done_job(win, tmp_path)
    for name in NAMES:
        click(qtbot, win.stems.rows[name].mute)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.mix.setChecked(True)
    assert win.export_job(job, dialog.request(job.mixer)) is None  # refused before writing
    assert win.message == (
        f"Export failed: {job.path}: the mix as heard is silent: every stem is muted; unmute a "
        "stem, or export without the mix"
    )
    assert not (tmp_path / "out").exists()
    win.close()


def test_the_folder_is_remembered_only_once_an_export_has_written_there(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """It was kept when Export was clicked: a folder that failed was offered again next time."""
    from stemgui.errors import ExportError
    from stemgui.export import exporter

    win = _null_window(qtbot, settings_store, [])
    _done_job(win, tmp_path)
    (tmp_path / "a file").write_bytes(b"not a folder")
    chosen = []

    def exec_(dialog):
        dialog.folder.setText(chosen[-1])
        dialog.template.setText("{stem}.{ext}")
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)

    def export_to(folder):
        chosen.append(str(folder))
        win.export_action.trigger()
        qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)

    export_to(tmp_path / "a file")  # refused before writing
    assert "is a file where the export needs a folder" in win.message
    assert win.settings.get(S.EXPORT_FOLDER) == ""
    assert win.settings.get(S.EXPORT_TEMPLATE) == "{stem}.{ext}"  # the other choices are kept
    real = exporter.export

    def full_disk(stemset, request, track, model):
        raise ExportError(request.folder, "No space left on device")

    monkeypatch.setattr(exporter, "export", full_disk)
    export_to(tmp_path / "full")  # failed while writing
    assert "No space left on device" in win.message
    assert win.settings.get(S.EXPORT_FOLDER) == ""
    monkeypatch.setattr(exporter, "export", real)
    export_to(tmp_path / "stems")
    assert (tmp_path / "stems" / "vocals.wav").is_file()
    assert win.settings.get(S.EXPORT_FOLDER) == str(tmp_path / "stems")
    win.close()
