"""The stem rows drive the mixer: solo, mute and gain as clicked, double-clicked, wheeled or
kept in a session, the original mix's row beside them; their waveforms fill in as the song
is separated."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from stemgui.stems.mixer import MIN_DB, ORIGINAL, MixerState, StemControl
from stemgui.ui import settings as S
from stemgui.ui.stemview import StemPanel
from stemgui.ui.timeline import Timeline
from tests.ui.song_window import NAMES, RATE, click, make_stemset, null_window


def test_solo_mute_truth_table_reaches_the_mixer(qtbot, panel):
    mixer, rows = panel.mixer, panel.rows
    assert mixer.gains == (1.0, 1.0, 1.0, 1.0)
    click(qtbot, rows["drums"].solo)
    assert mixer.control("drums").solo
    assert mixer.gains == (1.0, 0.0, 0.0, 0.0)
    assert rows["bass"].view.dimmed and not rows["drums"].view.dimmed
    click(qtbot, rows["vocals"].solo)
    assert mixer.gains == (1.0, 0.0, 0.0, 1.0)
    click(qtbot, rows["vocals"].mute)  # muted wins over soloed
    assert mixer.gains == (1.0, 0.0, 0.0, 0.0)
    click(qtbot, rows["drums"].solo)
    click(qtbot, rows["vocals"].solo)  # no solo left: everything but the muted vocals
    assert mixer.gains == (1.0, 1.0, 1.0, 0.0)
    click(qtbot, rows["vocals"].mute)
    assert mixer.gains == (1.0, 1.0, 1.0, 1.0)


def test_original_mix_row_solo_compares_the_song_with_its_stems(qtbot):
    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    mixer = MixerState(NAMES, original=True)
    widget.show_song(make_stemset(), mixer)
    row = widget.mix_row
    assert row.label.text() == "Original mix" and row.solo.accessibleName() == "Solo original mix"
    assert row.view.dimmed and not widget.rows["bass"].view.dimmed  # not heard until soloed
    click(qtbot, row.solo)
    assert mixer.gains == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert not row.view.dimmed and all(r.view.dimmed for r in widget.rows.values())
    click(qtbot, widget.rows["vocals"].solo)  # the vocals over the original
    assert mixer.gains == (0.0, 0.0, 0.0, 1.0, 1.0)
    row.gain.setValue(-6)
    assert mixer.gains[-1] == pytest.approx(10 ** (-6 / 20))


def test_the_original_mix_row_has_solo_and_gain_but_no_mute(qtbot):
    """Heard only when soloed, the original had an M that did nothing audible ("M off" read as
    "the original plays on top of the stems")."""
    from PySide6.QtWidgets import QToolButton

    widget = StemPanel(Timeline())
    qtbot.addWidget(widget)
    mixer = MixerState(NAMES, original=True)
    mixer.take_controls({ORIGINAL: StemControl(-3.0, solo=True, mute=True)})  # saved with M on
    widget.show_song(make_stemset(), mixer)
    widget.show()
    row = widget.mix_row
    assert row.mute is None and [b.text() for b in row.findChildren(QToolButton)] == ["S"]
    assert row.solo.isChecked() and row.gain.value() == -3
    assert mixer.is_audible(ORIGINAL) and not row.view.dimmed  # not silenced for good
    widget.toggle(-1, "mute")  # no M to press
    assert not mixer.control(ORIGINAL).mute and mixer.is_audible(ORIGINAL)
    widget.toggle(-1, "solo")  # A: back to the stems
    assert not mixer.is_audible(ORIGINAL) and row.view.dimmed
    assert all(r.mute is not None for r in widget.rows.values())  # the stems keep theirs
    qtbot.waitUntil(lambda: row.solo.isVisible())

    def x(r) -> int:
        return r.solo.mapTo(widget, QPoint(0, 0)).x()

    assert x(row) == x(widget.rows["drums"])  # the S buttons still line up


def test_a_double_click_on_a_gain_or_its_value_sets_0_db(qtbot, panel):
    row = panel.rows["bass"]
    row.gain.setValue(-9)
    qtbot.mouseDClick(row.gain_label, Qt.MouseButton.LeftButton)
    assert row.gain.value() == 0 and panel.mixer.control("bass").gain_db == 0.0
    row.gain.setValue(7)
    qtbot.mouseDClick(row.gain, Qt.MouseButton.LeftButton)
    assert row.gain.value() == 0 and row.gain_label.text() == "+0 dB"
    for key in (Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):  # End was +12 dB
        qtbot.keyClick(row.gain, key)
        assert row.gain.value() == 0
    qtbot.keyClick(row.gain, Qt.Key.Key_Right)  # arrows step one dB
    assert row.gain.value() == 1
    row.gain.resize(200, row.gain.height())
    left = QPoint(5, row.gain.height() // 2)  # the groove, far left of the handle
    qtbot.mouseClick(row.gain, Qt.MouseButton.LeftButton, pos=left)
    assert row.gain.value() == 0  # a click beside the handle: one dB, not ten


def test_gain_slider_sets_decibels(qtbot, panel):
    row = panel.rows["bass"]
    row.gain.setValue(-6)
    assert panel.mixer.control("bass").gain_db == -6.0
    assert panel.mixer.gains[1] == pytest.approx(10 ** (-6 / 20))
    assert row.gain_label.text() == "\u22126 dB"  # the minus of "−∞ dB", not a hyphen
    row.gain.setValue(int(MIN_DB))
    assert panel.mixer.gains[1] == 0.0
    assert row.gain_label.text() == "−∞ dB"
    assert row.view.dimmed


def test_waveforms_fill_in_as_frames_become_ready(qtbot):
    timeline = Timeline()
    widget = StemPanel(timeline)
    qtbot.addWidget(widget)
    stemset = make_stemset(ready=0)
    widget.show_song(stemset, MixerState(NAMES))
    wave = widget.waveforms["drums"]
    assert wave.frames_ready == 0
    stemset.frames_ready = RATE
    widget.update_ready()
    assert wave.frames_ready == RATE
    mins, maxs = wave.envelope(0, stemset.frames, 4)
    assert maxs[0] > 0 and mins[0] < 0  # the first second is drawn
    assert mins[1:].tolist() == [0, 0, 0] and maxs[1:].tolist() == [0, 0, 0]  # the rest is not yet
    assert widget.rows["drums"].view.envelope_image().width() == widget.rows["drums"].view.width()


def test_a_fractional_gain_kept_is_played_as_its_slider_shows_it(qtbot):
    """A session's 2.5 dB (hand-edited, or older) played 2.5 dB while the slider showed +2."""
    from stemgui.stems.mixer import restored_strip
    from stemgui.ui.stemview import StemRow

    mixer = MixerState(NAMES)
    strips = {"drums": [2.5], "bass": [-7.4], "other": [-3.5], "vocals": [11.6]}
    mixer.take_controls({name: restored_strip(strip) for name, strip in strips.items()})
    for name, shown in (("drums", 3), ("bass", -7), ("other", -3), ("vocals", 12)):
        row = StemRow(name, QColor("red"), Timeline(), mixer)
        qtbot.addWidget(row)
        assert row.gain.value() == shown and mixer.control(name).gain_db == shown
        assert row.gain_label.text() == f"{shown:+d} dB".replace("-", "\u2212")


@pytest.mark.parametrize("kept, shown", [(2.5, 3), (-3.5, -3), (-7.4, -7), (11.6, 12)])
def test_a_fractional_master_volume_kept_is_rounded_as_a_stem_gain_is(
    qtbot, settings_store, kept, shown
):
    """The master rounded half to even (a saved 2.5 dB was +2) where a stem's gain rounds a half
    up (+3): the same number kept played louder on a stem than on the master."""
    from stemgui.stems.mixer import restored_strip

    settings_store.setValue(S.MASTER_DB.key, kept)
    win = null_window(qtbot, settings_store, [])
    assert restored_strip([kept]).gain_db == shown
    assert win.transport_bar.volume.value() == shown and win.player.master_db == shown
    win.close()


def test_the_wheel_turns_a_gain_slider_only_once_it_has_the_focus(qtbot, panel):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    gain = panel.rows["bass"].gain

    def notch_down():
        middle = QPointF(gain.width() / 2, gain.height() / 2)
        QApplication.sendEvent(
            gain,
            QWheelEvent(
                middle,
                gain.mapToGlobal(middle),
                QPoint(0, 0),
                QPoint(0, -120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            ),
        )

    notch_down()  # scrolling the rows past it
    assert gain.value() == 0
    gain.setFocus()
    qtbot.waitUntil(gain.hasFocus)
    notch_down()
    assert gain.value() < 0
