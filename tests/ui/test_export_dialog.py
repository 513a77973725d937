"""The export dialog and File ▸ Export stems as a musician uses them: what the dialog shows,
what it refuses, and what the export remembers."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from stemgui.ui import settings as S
from stemgui.ui.export_dialog import ExportDialog
from tests.ui.song_window import NAMES, RATE, click, done_job, null_window


def test_a_mix_with_every_stem_muted_is_refused_naming_the_song(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)
    for name in NAMES:
        click(qtbot, win.stems.rows[name].mute)
    dialog = ExportDialog(job.stemset.names, win.settings, tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.mix.setChecked(True)
    assert win.export_job(job, dialog.request(job.mixer)) is None  # refused before writing
    assert win.message == (
        f"Export failed: {job.path}: the mix as heard is silent: every stem is muted or turned "
        "all the way down; unmute or turn up a stem, or export without the mix"
    )
    assert not (tmp_path / "out").exists()
    win.close()


def test_the_folder_is_remembered_only_once_an_export_has_written_there(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """It was kept when Export was clicked: a folder that failed was offered again next time."""
    from stemgui.errors import ExportError
    from stemgui.export import exporter

    win = null_window(qtbot, settings_store, [])
    done_job(win, tmp_path)
    (tmp_path / "a file").write_bytes(b"not a folder")
    chosen = []

    def exec_(dialog):
        dialog.folder.setText(chosen[-1])
        dialog.template.setText("{stem}.{ext}")
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)

    def export_to(folder):
        chosen.append(str(folder))
        win.menu_bar.export_action.trigger()
        qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)

    export_to(tmp_path / "a file")  # refused before writing
    assert "is a file where the export needs a folder" in win.message
    assert win.settings.get(S.EXPORT_FOLDER) == ""
    assert win.settings.get(S.EXPORT_TEMPLATE) == "{stem}.{ext}"  # the other choices are kept
    real = exporter.export

    def full_disk(stemset, request, track, model, *args, **kwargs):
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


def test_a_song_s_stems_are_exported_at_its_own_rate_unless_the_stems_is_chosen(
    qtbot, settings_store, tmp_path, monkeypatch
):
    """A 48 kHz song's stems were written at the model's rate, and did not line up with it in
    a DAW session at 48 kHz."""
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)  # stems at 8 kHz
    sf.write(job.path, np.zeros((4800, 2), np.float32), 48000)
    choices, offered = [], []

    def exec_(dialog):
        offered.append(dialog.rate.currentText())
        dialog.rate.setCurrentIndex(dialog.rate.findData(choices[-1]))
        dialog.folder.setText(str(tmp_path / choices[-1]))
        dialog.template.setText("{stem}.{ext}")
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    for choice in ("song", "stems"):
        choices.append(choice)
        win.menu_bar.export_action.trigger()
        qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    assert offered == ["The song's own (48 kHz)", "The song's own (48 kHz)"]
    song, stems = (sf.info(tmp_path / choice / "vocals.wav") for choice in ("song", "stems"))
    assert (song.samplerate, song.frames) == (48000, 6 * job.stemset.frames)
    assert (stems.samplerate, stems.frames) == (RATE, job.stemset.frames)
    assert win.settings.get(S.EXPORT_RATE) == "stems"  # offered first next time
    dialog = ExportDialog(NAMES, win.settings, tmp_path, song_rate=96000, stems_rate=44100)
    qtbot.addWidget(dialog)
    assert dialog.rate.currentText() == "The stems' own (44.1 kHz, as separated)"
    dialog.rate.setCurrentIndex(0)
    assert dialog.request().samplerate == 96000
    dialog.format.setCurrentIndex(dialog.format.findData("mp3"))  # mp3 holds no 96 kHz
    assert dialog.request().samplerate is None
    # LAME wrote 320 kbps asked at 22.05 kHz as 160 kbps (the most there; the dialog offers 128
    # to 320): the stems' rate keeps the bit rate
    dialog = ExportDialog(NAMES, win.settings, tmp_path, song_rate=22050, stems_rate=44100)
    qtbot.addWidget(dialog)
    dialog.rate.setCurrentIndex(0)
    dialog.format.setCurrentIndex(dialog.format.findData("mp3"))
    dialog.bitrate.setCurrentIndex(dialog.bitrate.findData(320))
    assert dialog.request().samplerate is None and dialog.request().fmt.mp3_bitrate == 320
    dialog.format.setCurrentIndex(dialog.format.findData("flac16"))
    assert dialog.request().samplerate == 22050
    win.close()


def test_a_stem_row_drags_out_at_the_rate_an_export_is_written_at(
    qtbot, settings_store, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)  # stems at 8 kHz
    sf.write(job.path, np.zeros((4800, 2), np.float32), 48000)
    for choice, rate in (("song", 48000), ("stems", RATE)):
        win.settings.set(S.EXPORT_RATE, choice)
        (url,) = win.stems.drag_mime("vocals").urls()
        info = sf.info(url.toLocalFile())
        assert (info.samplerate, info.frames) == (rate, rate // RATE * job.stemset.frames)
    # its own frame count at its rate, which its stems resampled back can miss by a frame
    job.stemset.song = (48000, 6 * job.stemset.frames - 5)
    win.settings.set(S.EXPORT_RATE, "song")
    (url,) = win.stems.drag_mime("bass").urls()
    assert sf.info(url.toLocalFile()).frames == 6 * job.stemset.frames - 5
    job.path.unlink()  # the song gone: its stems' own rate
    win.settings.set(S.EXPORT_RATE, "song")
    (url,) = win.stems.drag_mime("vocals").urls()
    assert sf.info(url.toLocalFile()).samplerate == RATE
    win.close()


def test_a_long_example_path_is_cut_not_added_to_the_dialog_s_width(
    qtbot, settings_store, tmp_path
):
    """A song name of 160 characters without a space made the dialog over 1100 pixels wide:
    the example was a QLabel, wrapped only at spaces."""
    track = "Night_Drive_(Extended_Club_Mix)_" * 5
    folder = tmp_path / ("very long folder name " * 4).strip()
    dialog = ExportDialog(NAMES, S.Settings(settings_store), folder, track=track, model="m")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() < 700
    path = folder / "m" / track / "drums.wav"
    assert dialog.example.text() == f"e.g. {path}"  # the whole path, cut only on screen
    assert str(path) in dialog.example.toolTip()
    dialog.template.setText("{track}/{song}.{ext}")
    assert "unknown key {song}" in dialog.problem.text() and dialog.problem.isVisible()
    assert not dialog.example.isVisible() and not dialog.export_button.isEnabled()
    assert dialog.width() < 700
    dialog.template.setText("{track}/{stem}.{ext}")
    assert dialog.example.isVisible() and not dialog.problem.isVisible()


def test_a_folder_typed_with_a_tilde_is_the_home_folder_or_a_name(qtbot, settings_store, tmp_path):
    """ "~Exports" (no user of that name) raised RuntimeError at every key typed."""
    from pathlib import Path

    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path)
    qtbot.addWidget(dialog)
    dialog.folder.setText("~Exports")
    assert dialog.request().folder == tmp_path / "~Exports"  # beside the song, as typed
    assert dialog.export_button.isEnabled()
    dialog.folder.setText("~/stems")
    assert dialog.request().folder == Path.home() / "stems"


def test_the_loop_is_shown_in_times_and_as_its_files_are_named(qtbot, settings_store, tmp_path):
    dialog = ExportDialog(
        NAMES, S.Settings(settings_store), tmp_path, track="Night Drive", model="m", loop=(62.5, 78)
    )
    qtbot.addWidget(dialog)
    assert dialog.only_loop.text() == (
        "Only the loop region: 1:02.50–1:18.00 (15.50 s), named 1m02.50s-1m18.00s"
    )
    dialog.only_loop.setChecked(True)
    dialog.template.setText("{stem}.{ext}")  # no {track}: the loop in the file names
    assert dialog.example.text() == f"e.g. {tmp_path / 'drums 1m02.50s-1m18.00s.wav'}"


def test_the_dialog_says_a_mix_with_every_stem_muted_is_silent(qtbot, settings_store, tmp_path):
    from stemgui.stems.mixer import MixerState

    mixer = MixerState(NAMES)
    for name in NAMES:
        mixer.set_mute(name)
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="Song", mixer=mixer)
    qtbot.addWidget(dialog)
    assert dialog.export_button.isEnabled()  # the stems alone: fine
    dialog.mix.setChecked(True)
    assert dialog.problem.text() == (
        "The mix of Song as heard is silent: every stem is muted or turned all the way down; "
        "unmute or turn up a stem, or export without the mix."
    )
    assert not dialog.export_button.isEnabled()


def test_a_problem_of_several_lines_is_shown_whole(qtbot, settings_store, tmp_path):
    """What is wrong had the height of one line and a half, whatever its length: a song's name
    in it made three lines, cut at the top and the bottom, and drawn over the Export button."""
    from stemgui.stems.mixer import MixerState

    mixer = MixerState(NAMES)
    for name in NAMES:
        mixer.set_mute(name)
    track = "Some Artist feat. Another Artist - Night Drive (Extended Club Mix)"
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track=track, mixer=mixer)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.mix.setChecked(True)
    problem = dialog.problem
    lines = problem.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: problem.heightForWidth(problem.width()) >= 3 * lines)
    button = dialog.export_button

    def whole() -> bool:
        above_button = button.mapTo(dialog, button.rect().topLeft()).y()
        return problem.height() >= problem.heightForWidth(problem.width()) and (
            problem.mapTo(dialog, problem.rect().bottomLeft()).y() < above_button
        )

    qtbot.waitUntil(whole)  # was 29 px high for 42 px of lines


def test_the_files_can_be_at_the_speed_and_key_heard(qtbot, settings_store, tmp_path, monkeypatch):
    """A backing track for practice at 75 %, for a singer two semitones up: the player played
    it so, and the export wrote the song as it is. The files' tags say the tempo and key of
    each, for DJ software."""
    from stemgui.stems.analysis import Analysis
    from stemgui.stems.key import Key
    from stemgui.stems.tempo import Tempo
    from stemgui.stems.waveform import StemWaveforms
    from tests.audio.media import tags_of

    win = null_window(qtbot, settings_store, [])
    job = done_job(win, tmp_path)  # 4 s at 8 kHz
    job.waveforms = StemWaveforms(job.stemset)
    job.waveforms.analysis = Analysis(Tempo(120.0), Key(2, "major"))  # as the worker found
    seen = []

    def exec_(dialog):
        seen.append(dialog.at_pace)
        if dialog.at_pace is not None:
            assert dialog.at_pace.text() == (
                "At the speed and key heard (75 % speed, 2 semitones up), named 75% +2st"
            )
            dialog.at_pace.setChecked(True)
            assert dialog.example.text().endswith("My Song 75% +2st/drums.wav")
        dialog.folder.setText(str(tmp_path / "out"))
        dialog.mix.setChecked(True)
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    win.menu_bar.export_action.trigger()  # as the song is: nothing offered
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    assert seen == [None]
    win.player.set_speed(0.75)
    win.player.set_semitones(2)
    win.menu_bar.export_action.trigger()
    qtbot.waitUntil(lambda: not win.exporter.tasks, timeout=20_000)
    paced = tmp_path / "out" / "tiny" / "My Song 75% +2st"
    assert sorted(p.name for p in paced.iterdir()) == sorted(f"{n}.wav" for n in (*NAMES, "mix"))
    assert sf.info(paced / "vocals.wav").frames == round(job.stemset.frames / 0.75)
    assert sf.info(tmp_path / "out" / "tiny" / "My Song" / "vocals.wav").frames == (
        job.stemset.frames
    )
    tags = tags_of(paced / "vocals.wav")
    assert (tags["TBPM"], tags["TKEY"]) == ("90", "E")
    tags = tags_of(tmp_path / "out" / "tiny" / "My Song" / "mix.wav")
    assert (tags["TBPM"], tags["TKEY"]) == ("120", "D")
    win.close()


def test_the_dialog_says_each_speed_as_its_files_are_named():
    """The words rounded the percent: 0.333 and 0.334 both said "33 % speed", the files
    they name "33.3%" and "33.4%" (a restored song's speed may be any the player takes)."""
    from stemgui.export.pace import Pace
    from stemgui.ui.export_dialog import pace_words

    assert pace_words(Pace(0.333)) == "33.3 % speed" and Pace(0.333).label == "33.3%"
    assert pace_words(Pace(0.334, -1)) == "33.4 % speed, 1 semitone down"
    assert pace_words(Pace(0.75, 2)) == "75 % speed, 2 semitones up"
    assert pace_words(Pace(1.0, 3)) == "3 semitones up"


def test_each_stem_of_a_song_with_a_long_name_drags_out_as_its_own_file(tmp_path, monkeypatch):
    """The name was cut at its end, the stem's name with it: every stem of a song named in 80
    Japanese characters (240 bytes) had one file, and dragging the drums dropped the vocals."""
    from stemgui.ui.drag_out import DragFiles
    from tests.ui.song_window import make_stemset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    stemset, files = make_stemset(), DragFiles()
    paths = {name: files.file(stemset, "夜" * 80, name, None) for name in NAMES}
    for index, name in enumerate(NAMES):
        assert paths[name].name.endswith(f" - {name}.wav")
        read, _rate = sf.read(paths[name], dtype="float32", always_2d=True)
        np.testing.assert_array_equal(read.T, stemset.data[index])


def test_the_dialog_names_the_file_or_folder_that_is_in_the_way(qtbot, settings_store, tmp_path):
    """It said "is a folder; choose another folder or file name" of no file: which one, the
    dialog did not say (the export's own message names it)."""
    (tmp_path / "m" / "Song" / "drums.wav").mkdir(parents=True)
    (tmp_path / "a file").write_bytes(b"not a folder")
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="Song", model="m")
    qtbot.addWidget(dialog)
    assert dialog.problem.text() == (
        f"{tmp_path / 'm' / 'Song' / 'drums.wav'}: is a folder; choose another folder or file name"
    )
    dialog.folder.setText(str(tmp_path / "a file" / "stems"))
    assert dialog.problem.text() == (
        f"{tmp_path / 'a file'}: is a file where the export needs a folder; choose another folder"
    )
    dialog.template.setText("{stem}.mp3")  # about the template: the folder is not named
    assert dialog.problem.text().startswith("File name template '{stem}.mp3' ends in .mp3")


def test_a_space_pasted_after_the_template_is_left_out(qtbot, settings_store, tmp_path):
    """ "{stem}.{ext} " was refused as having no extension, of a template that ends in .{ext}."""
    settings = S.Settings(settings_store)
    dialog = ExportDialog(NAMES, settings, tmp_path, track="Song", model="m")
    qtbot.addWidget(dialog)
    dialog.template.setText("{stem}.{ext} ")
    assert not dialog.problem.text() and dialog.export_button.isEnabled()
    assert dialog.example.text() == f"e.g. {tmp_path / 'drums.wav'}"
    dialog.remember()
    assert settings.get(S.EXPORT_TEMPLATE) == "{stem}.{ext}"


def test_browse_opens_where_the_files_would_go(qtbot, settings_store, tmp_path, monkeypatch):
    """It opened in the app's working folder when the folder was left "beside each song" or
    typed without its full path ("stems"), not in the song's folder."""
    from PySide6.QtWidgets import QFileDialog

    opened = []

    def choose(parent, caption, folder):
        opened.append(folder)
        return str(tmp_path / "chosen")

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose)
    (tmp_path / "album").mkdir()
    settings = S.Settings(settings_store)
    dialog = ExportDialog(NAMES, settings, tmp_path / "album", songs=2)
    qtbot.addWidget(dialog)
    album = tmp_path / "album"
    for typed, start in (("", album), ("stems", album), (str(tmp_path / "new" / "x"), tmp_path)):
        dialog.folder.setText(typed)
        dialog._browse()
        assert opened[-1] == str(start)
        assert dialog.folder.text() == str(tmp_path / "chosen")


def test_the_title_names_the_song_exported(qtbot, settings_store, tmp_path):
    """The song in the player is exported, which may not be the one selected in the queue:
    the title said only "Export stems"."""
    dialog = ExportDialog(NAMES, S.Settings(settings_store), tmp_path, track="Night Drive")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Export stems — Night Drive"
