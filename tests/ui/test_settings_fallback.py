"""A damaged settings file: every bad setting falls back to its default, with one warning each,
the file is repaired, and the window says so once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from stemgui.ui import settings as S
from tests.fakes import FakeOutput

GARBAGE = b"""[separation]
model=a, b, c
device=toaster
quality=ultra
two_stems=3
[export]
folder=@ByteArray(\\x1\\x2)
format=ogg
mp3_bitrate=loud
template=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x12garbage)
samplerate=96000
[playback]
master_db=nan
snap_to_beats=sometimes
click=loud
output_device=left, right
speed_trainer=2
[appearance]
theme=purple
[cache]
keep_stems=maybe
size_gb=0
[session]
songs="{\\"path\\": 3}"
"""


def _store(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "stemgui.ui.settings" and r.levelno == logging.WARNING
    ]


def test_every_garbage_value_falls_back_to_its_default_with_one_warning(tmp_path, caplog):
    path = tmp_path / "settings.ini"
    path.write_bytes(GARBAGE)
    caplog.set_level(logging.WARNING)
    settings = S.Settings(_store(path))
    for setting in S.ALL_SETTINGS:
        assert settings.get(setting) == setting.default, setting.key
        settings.get(setting)  # read again: no second warning
    keys = [setting.key for setting in S.ALL_SETTINGS]
    assert len(settings.problems) == len(keys)
    for key, problem in zip(keys, settings.problems):
        if key == S.SESSION.key:  # said in its own words: test_a_damaged_session_says_...
            continue
        assert problem.startswith(f"The setting {key} was damaged (")
        assert problem.endswith("and is back to its default.")
    warned = _warnings(caplog)
    assert len(warned) == len(keys)
    for key in keys:
        assert sum(f"setting {key} in {path}" in line for line in warned) == 1, key
    said = dict(zip(keys, settings.problems))
    assert "'ultra' is not one of 'fast', 'balanced', 'best'" in said[S.QUALITY.key]
    assert "not a finite number" in said[S.MASTER_DB.key]
    assert "'purple' is not one of 'system', 'light', 'dark'" in said[S.THEME.key]
    assert "'maybe' is not true or false" in said[S.KEEP_STEMS.key]
    assert "0 is outside [1, 1000]" in said[S.STEM_CACHE_GB.key]
    assert said[S.SESSION.key].startswith("The last session's queue could not be read")
    assert any("is not a list of songs" in line for line in warned)  # why: in the log

    settings.store.sync()  # the bad values are gone from the file: next start is clean
    again = S.Settings(_store(path))
    assert again.problems == []
    assert all(again.get(setting) == setting.default for setting in S.ALL_SETTINGS)


@pytest.mark.parametrize(
    ("setting", "stored", "expected"),
    [
        (S.MASTER_DB, "-6.5", -6.5),  # a number stored as text in the ini file
        (S.MASTER_DB, "-61", 0.0),  # outside the mixer's range
        (S.MASTER_DB, "inf", 0.0),
        (S.MASTER_DB, ["1", "2"], 0.0),
        (S.MP3_BITRATE, "192", 192),
        (S.MP3_BITRATE, "192.5", 320),  # not a whole number
        (S.MP3_BITRATE, "true", 320),
        (S.DEVICE, "cuda:1", "cuda:1"),  # a GPU this machine may lack: the menu says so
        (S.DEVICE, "cuda:-1", "auto"),
        (S.EXPORT_FOLDER, ["a", "b"], ""),  # a list is not turned into "['a', 'b']"
        (S.QUALITY, "best", "best"),
    ],
)
def test_wrong_types_and_values(tmp_path, setting, stored, expected):
    store = _store(tmp_path / "settings.ini")
    store.setValue(setting.key, stored)
    store.sync()
    settings = S.Settings(_store(tmp_path / "settings.ini"))
    assert settings.get(setting) == expected
    assert bool(settings.problems) is (expected != stored and str(expected) != stored)


def test_a_truncated_file_keeps_what_it_can_read_and_is_repaired(tmp_path, caplog):
    path = tmp_path / "settings.ini"
    path.write_bytes(b"[separation]\nquality=best\ndevice=cpu\n[exp")
    caplog.set_level(logging.WARNING)
    settings = S.Settings(_store(path))
    assert settings.get(S.QUALITY) == "best" and settings.get(S.DEVICE) == "cpu"
    assert settings.get(S.EXPORT_FORMAT) == "wav16"
    (problem,) = settings.problems
    assert problem == (
        f"The settings file {path} is damaged (truncated or not a settings file); "
        "what could be read is kept, the rest is back to the defaults."
    )
    assert len(_warnings(caplog)) == 1
    again = S.Settings(_store(path))  # rewritten cleanly: no warning the next time
    assert again.problems == [] and again.get(S.QUALITY) == "best"


def test_a_file_of_binary_junk_gives_the_defaults(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_bytes(bytes(range(256)) * 8)
    settings = S.Settings(_store(path))
    assert all(settings.get(setting) == setting.default for setting in S.ALL_SETTINGS)
    assert settings.problems == [
        f"The settings file {path} is damaged (it is not text); using the default settings."
    ]
    assert S.Settings(_store(path)).problems == []


def test_an_unreadable_file_gives_the_defaults(tmp_path):
    path = tmp_path / "settings.ini"
    path.mkdir()  # unreadable as a file, even for root
    settings = S.Settings(_store(path))
    assert settings.get(S.QUALITY) == "balanced"
    assert settings.problems == [
        f"The settings file {path} could not be read; using the default settings."
    ]
    settings.set(S.QUALITY, "best")  # the app goes on (the value lives for this run)
    assert settings.get(S.QUALITY) == "best"


def test_a_file_that_cannot_be_written_is_said(tmp_path):
    """Read-only (here: its folder is a file, which stops root too), every choice and the
    queue were lost at the close without a word."""
    (tmp_path / "folder").write_bytes(b"a file where the settings' folder goes")
    path = tmp_path / "folder" / "settings.ini"
    settings = S.Settings(_store(path))
    assert settings.problems == [
        f"The settings file {path} cannot be written (it or its folder is read-only): the "
        "settings chosen now and the queue are not kept for the next start; make it writable."
    ]
    settings.set(S.QUALITY, "best")  # the app goes on (the value lives for this run)
    assert settings.get(S.QUALITY) == "best"


def test_the_window_shows_the_reset_settings_once(qtbot, tmp_path, tiny_model_file):
    from stemgui.ui.window import MainWindow

    path = tmp_path / "settings.ini"
    store = _store(path)
    store.setValue(S.MODEL.key, str(tiny_model_file))
    store.setValue(S.QUALITY.key, "ultra")
    store.setValue(S.MASTER_DB.key, "loud")
    store.sync()
    win = MainWindow(S.Settings(_store(path)), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(win)
    win.show()
    assert win.banner.isVisibleTo(win)
    assert win.banner.text().splitlines() == [
        "The setting separation/quality was damaged ('ultra' is not one of 'fast', 'balanced', "
        "'best') and is back to its default.",
        "The setting playback/master_db was damaged ('loud' is not a number) and is back to "
        "its default.",
    ]
    assert win.player.master_db == 0.0
    problems_before = win.settings.problems
    win.banner.close_button.click()
    assert not win.banner.isVisibleTo(win)
    win.menus.options()  # the settings are read again when a song starts: no new message
    assert not win.banner.isVisibleTo(win)
    assert win.settings.problems == problems_before
    win.close()
    second = MainWindow(S.Settings(_store(path)), output_factory=FakeOutput, probe=False)
    qtbot.addWidget(second)
    assert not second.banner.isVisibleTo(second)  # repaired: not shown again next time
    second.close()


def test_a_damaged_session_says_the_last_queue_could_not_be_read_and_starts_empty(tmp_path):
    """It said "The setting session/songs was damaged … back to its default": jargon."""
    path = tmp_path / "settings.ini"
    path.write_bytes(b'[session]\nsongs="{\\"path\\": 3}"\n')
    settings = S.Settings(_store(path))
    assert settings.problems == [
        f"The last session's queue could not be read from the settings file {path}; the queue "
        "starts empty. Open the songs again: the stems separated before come from the stem "
        "cache."
    ]
    assert settings.get(S.SESSION) == "[]"
