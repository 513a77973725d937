"""The loop readout at the window's narrowest: it was given no room at all ("Loop 0:04.5–0:11.6
(7.1 s)" gone from the transport bar, nothing in its place). Short of room it drops "Loop ",
then the length, then the tenths, and shows what is left whole, the whole in its tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tests.ui.song_window import RATE, make_stemset, null_window, show_song

WHOLE = "Loop 0:04.5–0:11.6 (7.1 s)"
MARKS = "\u200e\u200f\u2068\u2069"  # those that isolate the text's direction


def _shown(label: QLabel) -> str:
    """What ``label`` draws, without the marks."""
    return "".join(c for c in QLabel.text(label) if c not in MARKS)


def test_the_loop_region_stays_in_view_at_the_narrowest(qtbot, settings_store, tmp_path):
    win = null_window(qtbot, settings_store, [])
    show_song(win, tmp_path / "Night Drive.wav", make_stemset(frames=28 * RATE))
    qtbot.wait(10)
    narrowest = win.minimumSizeHint().width()
    win.player.set_loop(int(4.5 * RATE), int(11.6 * RATE))
    qtbot.wait(10)
    assert win.minimumSizeHint().width() == narrowest  # a loop does not widen the window
    span = win.transport_bar.loop_span
    seen = []
    for width in range(narrowest, narrowest + 300, 4):  # from the narrowest, wider and wider
        win.resize(width, win.height())
        qtbot.waitUntil(lambda w=width: win.width() == w)
        if not seen or seen[-1] != _shown(span):
            seen.append(_shown(span))
        assert span.fontMetrics().horizontalAdvance(QLabel.text(span)) <= span.width()
        tip = "".join(c for c in span.toolTip() if c not in MARKS)
        assert span.text() == WHOLE and (seen[-1] == WHOLE or WHOLE in tip)
    # was "…" in 0 px at the narrowest
    assert seen == ["0:05–0:12", "0:04.5–0:11.6", "0:04.5–0:11.6 (7.1 s)", WHOLE]
    win.close()
