"""The pause that starts taps over is the wall clock's between presses (2 s heard, at any
speed), the taps read in the song's time."""

from __future__ import annotations

from stemgui.stems.taps import Taps


def test_the_gap_is_the_wall_clock_between_presses():
    taps = Taps()
    for song, heard in ((10.0, 100.0), (11.0, 102.0), (12.0, 104.0)):  # at 50 %: 2 s heard
        taps.tap(song, heard)
    assert len(taps.times) == 3 and taps.reading().bpm == 60.0  # the song's tempo
    taps.tap(13.0, 106.01)  # a beat of the song on, but more than 2 s heard: a new run
    assert taps.times == [13.0]
    taps.tap(15.5, 107.0)  # 2.5 s of the song, 1 s heard (at 250 %): the same run
    assert taps.times == [13.0, 15.5]
    for seconds in (0.0, 0.5, 1.0):  # no clock given: the song's time is heard (100 %)
        taps.tap(30.0 + seconds)
    assert taps.times == [30.0, 30.5, 31.0]
