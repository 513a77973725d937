"""Transport: play/pause/stop/seek, loop wrap-around, end of song."""

from __future__ import annotations

import pytest

from stemgui.playback.transport import MIN_LOOP_SECONDS, PlayState, Transport


def _runs(transport, frames):
    """What a callback of `frames` frames asks for: the runs until full or silent."""
    runs, filled = [], 0
    while filled < frames:
        start, count = transport.on_block(frames - filled)
        if count == 0:
            break
        runs.append((start, count))
        filled += count
    return runs


def test_starts_stopped_and_silent():
    t = Transport(1000, 100)
    assert t.state is PlayState.STOPPED and t.position == 0
    assert t.on_block(64) == (0, 0)


def test_play_advances_pause_holds_stop_resets():
    t = Transport(1000, 100)
    t.play()
    assert t.state is PlayState.PLAYING
    assert t.on_block(64) == (0, 64)
    assert t.on_block(64) == (64, 64)
    assert t.position == 128
    t.pause()
    assert t.state is PlayState.PAUSED and t.on_block(64) == (128, 0) and t.position == 128
    t.toggle()
    assert t.on_block(10) == (128, 10)
    t.stop()
    assert t.state is PlayState.STOPPED and t.position == 0
    t.play()
    assert t.on_block(5) == (0, 5)


def test_seek_while_playing_continues_from_there():
    t = Transport(1000, 100)
    t.play()
    t.on_block(100)
    t.seek(700)
    assert t.position == 700 and t.playing
    assert t.on_block(50) == (700, 50)
    t.seek(-5)
    assert t.position == 0
    t.seek(5000)
    assert t.position == 1000
    t.seek_seconds(2.5)
    assert t.position == 250


def test_end_of_song_holds_until_it_has_played_then_stops_and_rewinds():
    t = Transport(1000, 100)
    t.play()
    t.seek(900)
    assert _runs(t, 64) == [(900, 64)]
    assert t.on_block(64) == (964, 36)  # the last frames
    assert t.position == 1000 and t.playing and t.ends == 0
    assert t.on_block(28) == (1000, 0)  # the callback asks for the rest of its block: the end
    assert t.playing and t.position == 1000 and t.ends == 0  # what was read still plays
    t.finish()  # played: the output says so
    assert t.state is PlayState.STOPPED and t.position == 0 and t.ends == 1
    assert t.on_block(64) == (0, 0) and t.ends == 1
    t.finish()  # stopped: nothing more
    assert t.ends == 1


def test_finish_away_from_the_end_changes_nothing():
    """The output finishes once what it was given has played: sought away from the end, or
    looping, since the transport held there, it plays on."""
    t = Transport(1000, 100)
    t.play()
    t.finish()  # a block of silence at the start (a fade, waiting): not the end
    assert t.playing and t.position == 0 and t.ends == 0
    t.seek(1000)
    assert t.on_block(64) == (1000, 0)
    t.seek(500)
    t.finish()
    assert t.playing and t.position == 500 and t.ends == 0
    t.seek(1000)
    t.set_loop(100, 200)
    t.finish()
    assert t.playing and t.ends == 0 and t.on_block(64) == (100, 64)
    t.pause()
    t.seek(1000)
    t.finish()
    assert t.state is PlayState.PAUSED and t.position == 1000 and t.ends == 0


def test_play_at_the_very_end_plays_from_the_start():
    t = Transport(1000, 100)
    t.seek(1000)  # a click at the right edge, or Ctrl+Right near the end, paused
    t.play()
    assert t.on_block(64) == (0, 64) and t.playing and t.ends == 0
    t.set_loop(200, 400)
    t.set_loop_enabled(True)
    t.pause()
    t.seek(1000)
    t.play()  # with a loop on, the loop takes over as when the end is reached playing
    assert t.on_block(64) == (200, 64)


def test_resume_at_the_very_end_holds_there_and_ends():
    t = Transport(1000, 100)
    t.seek(1000)
    t.resume()  # a new output takes over a song held at its end: it ends, not plays again
    assert t.playing and t.on_block(64) == (1000, 0)
    t.finish()
    assert t.state is PlayState.STOPPED and t.position == 0 and t.ends == 1
    t.seek(500)
    t.resume()
    assert t.on_block(64) == (500, 64)
    empty = Transport(0, 100)
    empty.resume()
    assert empty.state is PlayState.STOPPED


def test_loop_wraps_across_the_block_boundary():
    t = Transport(1000, 100)
    t.set_loop(200, 300)
    t.seek(250)
    t.play()
    assert _runs(t, 64) == [(250, 50), (200, 14)]
    assert t.position == 214
    assert _runs(t, 64) == [(214, 64)]
    assert _runs(t, 64) == [(278, 22), (200, 42)]
    assert t.wraps == 2  # round the loop twice


def test_a_block_longer_than_the_loop_wraps_several_times():
    t = Transport(1000, 100)
    t.set_loop(10, 40)
    t.seek(10)
    t.play()
    assert _runs(t, 100) == [(10, 30), (10, 30), (10, 30), (10, 10)]
    assert t.wraps == 3


def test_loop_at_the_end_of_the_song_loops_instead_of_stopping():
    t = Transport(1000, 100)
    t.set_loop(900, 5000)  # end clipped to the song
    assert t.loop == (900, 1000)
    t.seek(980)
    t.play()
    assert _runs(t, 64) == [(980, 20), (900, 44)]
    assert t.playing and t.ends == 0


def test_after_the_loop_region_plays_to_the_end_then_loops():
    t = Transport(1000, 100)
    t.set_loop(100, 200)
    t.seek(950)
    t.play()
    assert _runs(t, 64) == [(950, 50), (100, 14)]


def test_loop_off_plays_through_and_clear_forgets():
    t = Transport(1000, 100)
    t.set_loop(100, 200)
    t.set_loop_enabled(False)
    t.seek(190)
    t.play()
    assert _runs(t, 20) == [(190, 20)]
    t.set_loop_enabled(True)
    t.seek(190)
    assert _runs(t, 20) == [(190, 10), (100, 10)]
    t.clear_loop()
    assert t.loop is None and not t.loop_enabled
    t.set_loop_enabled(True)
    assert not t.loop_enabled  # nothing to loop


@pytest.mark.parametrize("start, end", [(300, 300), (300, 200), (1000, 1200)])
def test_empty_loop_regions_are_refused(start, end):
    with pytest.raises(ValueError):
        Transport(1000, 100).set_loop(start, end)


def test_a_loop_shorter_than_the_shortest_is_lengthened():
    """A loop of one frame wrapped 1024 times in a 1024-frame callback block (20 ms of work
    for 23 ms of sound); none is shorter than 10 ms, 441 frames at 44.1 kHz."""
    shortest = round(MIN_LOOP_SECONDS * 44100)
    assert shortest == 441
    t = Transport(44100, 44100)
    t.set_loop(5000, 5001)
    assert t.loop == (5000, 5000 + shortest) and t.loop_enabled
    t.seek(5000)
    t.play()
    assert len(_runs(t, 1024)) == 3  # 441 + 441 + 142 frames: two wraps, not 1024
    t.set_loop(44099, 44100)  # at the end of the song: the start moves back
    assert t.loop == (44100 - shortest, 44100)
    t.set_loop(7000, 7000 + shortest)
    assert t.loop == (7000, 7000 + shortest)  # long enough: as asked
    short = Transport(100, 44100)  # a song shorter than the shortest loop: all of it
    short.set_loop(10, 11)
    assert short.loop == (0, 100)


def test_an_empty_song_never_plays():
    t = Transport(0, 100)
    t.play()
    assert t.state is PlayState.STOPPED and t.on_block(64) == (0, 0)


def test_playing_holds_at_the_first_frame_not_separated_yet_and_goes_on():
    ready = [0]
    t = Transport(1000, 100, lambda: ready[0])
    t.play()
    assert _runs(t, 64) == [] and t.position == 0 and t.playing  # nothing separated yet
    assert t.waiting
    t.pause()
    assert not t.waiting
    t.play()
    ready[0] = 100
    assert _runs(t, 64) == [(0, 64)] and not t.waiting
    assert _runs(t, 64) == [(64, 36)] and t.position == 100  # the rest of the block: silence
    assert _runs(t, 64) == [] and t.position == 100 and t.playing
    ready[0] = 1000
    assert _runs(t, 64) == [(100, 64)]
    t.seek(990)
    assert _runs(t, 64) == [(990, 10)] and t.position == 1000 and t.playing  # the end,
    t.finish()  # once played, as before
    assert t.state is PlayState.STOPPED


def test_a_loop_past_what_is_separated_waits_at_its_edge():
    ready = [150]
    t = Transport(1000, 100, lambda: ready[0])
    t.set_loop(100, 200)
    t.seek(100)
    t.play()
    assert _runs(t, 80) == [(100, 50)] and t.position == 150
    ready[0] = 300
    assert _runs(t, 80) == [(150, 50), (100, 30)]  # wraps at the loop end once it is there
