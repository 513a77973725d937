"""The song's tempo and key in the title stay while the model gives way: short of room, the
model goes first, then the middle of the name; the tempo and key as heard stay whole."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from stemgui.stems.analysis import Analysis
from stemgui.stems.key import Key
from stemgui.stems.tempo import Tempo
from stemgui.stems.waveform import StemWaveforms
from stemgui.ui.elided import ElidedLabel
from tests.ui.song_window import make_stemset, model_window, show_song

NAME = "Daft Punk - Harder, Better, Faster, Stronger (Alive 2007)"
MODEL = "stemgui-htdemucs-small"


def _shown(label) -> str:
    return QLabel.text(label)  # what is on screen, not the whole text


def _window_with_song(qtbot, settings_store, tmp_path):
    win = model_window(qtbot, settings_store, None)
    stemset = make_stemset()
    song = tmp_path / f"{NAME}.wav"
    job = show_song(win, song, stemset, model_name=MODEL)
    job.waveforms = StemWaveforms(stemset)
    job.waveforms.analysis = Analysis(Tempo(123.0), Key(9, "major"))  # A major
    win.screen.show_title(job)
    return win


def test_a_long_name_keeps_the_tempo_and_key_at_the_window_s_default_size(
    qtbot, settings_store, tmp_path
):
    """At 1200 px the title had room for the name and the tempo and key, not the model too:
    the tempo and key went with the model, the name left whole."""
    win = _window_with_song(qtbot, settings_store, tmp_path)
    win.resize(1200, 760)
    QApplication.processEvents()
    shown = _shown(win.song_title)
    assert "123 BPM, A major (11B)" in shown
    assert MODEL not in shown  # the model gave way first
    win.close()


def test_the_tempo_and_key_as_heard_stay_at_the_smallest_size(qtbot, settings_store, tmp_path):
    """The name is cut in its middle; what the speed and key make of the song stays whole."""
    win = _window_with_song(qtbot, settings_store, tmp_path)
    win.player.set_speed(0.9)
    win.player.set_semitones(1)
    win.resize(1, 1)
    qtbot.waitUntil(lambda: win.size() == win.minimumSize())
    QApplication.processEvents()
    shown = _shown(win.song_title)
    assert "123 → 110.7 BPM, A major → B♭ major (6B)" in shown
    assert "…" in shown and shown.startswith(("\u200e\u2068Daft", "\u2068Daft", "Daft"))
    assert win.song_title.text().endswith(f" — {MODEL}")  # the whole title, in the tooltip
    win.close()


def test_a_kept_part_follows_the_text_and_the_aside_goes_first(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.show()
    head, kept, aside, tail = "A fairly long song name", " — 120 BPM", " — some-model", "  (x)"
    label.setText(head, tail, aside=aside, kept=kept)
    metrics = label.fontMetrics()
    label.resize(metrics.horizontalAdvance(head + kept + aside + tail) + 10, 30)
    assert _shown(label).endswith(f"{head}\u2069{kept}{aside}{tail}")
    label.resize(metrics.horizontalAdvance(head + kept + tail) + 4, 30)
    assert _shown(label).endswith(f"{head}\u2069{kept}{tail}")
    label.resize(metrics.horizontalAdvance(head[:10] + kept + tail), 30)
    shown = _shown(label)
    assert "…" in shown and shown.endswith(f"\u2069{kept}{tail}") and aside not in shown
    assert label.text() == head + kept + aside + tail
