"""Playback ▸ Key of the song on a song of rock drums (no key found, 120 BPM): the key set is the
title's, the key heard at another pitch follows it, exports and dragged stems are tagged with it,
and it is kept with the stems in the stem cache through a restart and newer estimates; the
relative key is one click, the tempo's corrections and reset keep the key, Reset key undoes it."""

from __future__ import annotations

from stemgui.export.pace import Pace
from stemgui.stems.analysis import KEY_FIELD
from stemgui.stems.key import Key
from stemgui.ui.drag_part import DragPart
from tests.audio.test_tempo_key_tags import tags_of
from tests.ui.conftest import TIMEOUT_MS
from tests.ui.drums_window import (
    entry_info,
    next_start,
    shown,
)

F_SHARP_MINOR, A_MAJOR = Key(6, "minor"), Key(9, "major")


def _stored(qtbot, drums_win, drums_song):
    job = shown(qtbot, drums_win, drums_song)
    qtbot.waitUntil(lambda: bool(job.stem_entry), timeout=TIMEOUT_MS)
    drums_win.menu_bar.key.update()  # as the Playback menu opens
    return job


def test_a_key_set_is_the_titles_the_key_heards_and_the_tags(
    qtbot, drums_win, drums_song, tmp_path
):
    from stemgui.export.exporter import ExportRequest

    menu = drums_win.menu_bar.key
    assert not menu.menu.menuAction().isEnabled()  # no song on screen
    job = _stored(qtbot, drums_win, drums_song)
    assert job.analysis.key is None and "— 120 BPM — drums" in drums_win.song_title.text()
    assert menu.menu.menuAction().isEnabled() and len(menu.key_actions) == 24
    assert not any(action.isChecked() for action in menu.key_actions.values())
    assert not menu.relative_action.isEnabled() and not menu.reset_action.isEnabled()
    assert menu.key_actions[F_SHARP_MINOR].text().replace("&", "") == "F♯ minor (11A)"
    menu.key_actions[F_SHARP_MINOR].trigger()
    assert "— 120 BPM, F♯ minor (11A) — drums" in drums_win.song_title.text()
    assert drums_win.statusBar().currentMessage() == (
        "rock.wav: key set to F♯ minor, 11A (Playback ▸ Key of the song ▸ Reset key to the "
        "estimate undoes it)."
    )
    checked = [key for key, action in menu.key_actions.items() if action.isChecked()]
    assert checked == [F_SHARP_MINOR]
    assert menu.relative_action.text() == "&Relative major/minor: A major (11B)"
    assert menu.reset_action.text() == "Reset key to the &estimate: none found"
    assert entry_info(drums_win, job)[KEY_FIELD] == [6, "minor"]
    assert entry_info(drums_win, job)["song_key"] is None  # the estimate, as found
    assert not drums_win.menu_bar.tempo.reset_action.isEnabled()  # the tempo is the estimate's
    drums_win.player.set_semitones(2)
    assert "— 120 BPM, F♯ minor → G♯ minor (1A) — drums" in drums_win.song_title.text()
    drums_win.player.set_semitones(0)
    assert drums_win.stems.drag_tags("drums", DragPart())["key"] == "F#m"
    assert drums_win.stems.drag_tags("drums", DragPart(pace=Pace(1.0, 2)))["key"] == "G#m"
    drums_win.export_job(job, ExportRequest(folder=tmp_path / "out", stems=["drums"]))
    qtbot.waitUntil(lambda: not drums_win.exporter.tasks, timeout=TIMEOUT_MS)
    (written,) = (tmp_path / "out").rglob("drums.wav")
    assert tags_of(written)["TKEY"] == "F#m"


def test_the_relative_key_and_reset(qtbot, drums_win, drums_song):
    menu = drums_win.menu_bar.key
    job = _stored(qtbot, drums_win, drums_song)
    menu.key_actions[A_MAJOR].trigger()
    menu.relative_action.trigger()  # the commonest miss: A major for F♯ minor
    assert job.analysis.key == F_SHARP_MINOR
    assert "— 120 BPM, F♯ minor (11A) — drums" in drums_win.song_title.text()
    assert menu.key_actions[F_SHARP_MINOR].isChecked()
    assert not menu.key_actions[A_MAJOR].isChecked()
    menu.key_actions[F_SHARP_MINOR].trigger()  # the key it has: checked still, nothing said
    assert menu.key_actions[F_SHARP_MINOR].isChecked() and job.analysis.key == F_SHARP_MINOR
    menu.reset_action.trigger()
    assert job.analysis.key is None and job.analysis.found is None
    assert "— 120 BPM — drums" in drums_win.song_title.text()
    assert drums_win.statusBar().currentMessage() == (
        "rock.wav: no key was found, as before (Playback ▸ Key of the song gives it one)."
    )
    assert not menu.reset_action.isEnabled() and not menu.relative_action.isEnabled()
    assert entry_info(drums_win, job)[KEY_FIELD] is None


def test_the_tempos_corrections_and_reset_keep_the_key(qtbot, drums_win, drums_song):
    tempo, menu = drums_win.menu_bar.tempo, drums_win.menu_bar.key
    job = _stored(qtbot, drums_win, drums_song)
    menu.key_actions[F_SHARP_MINOR].trigger()
    tempo.actions[0.5].trigger()
    menu.update()
    assert not menu.menu.menuAction().isEnabled()  # while the halving is worked out
    qtbot.waitUntil(lambda: not tempo.busy, timeout=TIMEOUT_MS)
    assert "— 60 BPM, F♯ minor (11A) — drums" in drums_win.song_title.text()
    assert tempo.reset_action.isEnabled()
    tempo.reset_action.trigger()
    assert "— 120 BPM, F♯ minor (11A) — drums" in drums_win.song_title.text()
    assert not tempo.reset_action.isEnabled() and job.analysis.key == F_SHARP_MINOR
    info = entry_info(drums_win, job)
    assert (info["tempo_factor"], info[KEY_FIELD]) == (1, [6, "minor"])


def test_a_key_set_holds_through_a_restart_and_new_estimates(
    qtbot, drums_win, drums_song, monkeypatch
):
    from stemgui.stems import analysis
    from stemgui.ui.stem_cache_size import stem_cache_of

    job = _stored(qtbot, drums_win, drums_song)
    drums_win.menu_bar.key.key_actions[F_SHARP_MINOR].trigger()
    root = stem_cache_of(drums_win).root
    drums_win.controller.shutdown()
    again = next_start(root, drums_song)
    assert again.key == F_SHARP_MINOR and again.estimated.key is None
    assert again == job.analysis
    estimated = []
    monkeypatch.setattr(analysis, "VERSION", analysis.VERSION + 1)  # found by older estimates
    analyse = analysis.analyse
    monkeypatch.setattr(analysis, "analyse", lambda *a: estimated.append(a) or analyse(*a))
    newer = next_start(root, drums_song)
    assert len(estimated) == 1 and newer.key == F_SHARP_MINOR  # analysed again, set again
    assert newer.tempo == job.analysis.tempo
