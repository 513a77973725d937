"""The export dialog and File ▸ Export stems as a musician uses them: what the dialog shows,
what it refuses, and what the export remembers."""

from __future__ import annotations

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
