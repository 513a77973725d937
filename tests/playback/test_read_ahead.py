"""A change of the transport made while the stretcher reads the song ahead
(``stemgui.playback.read_ahead``): a loop set, a pause or a seek from the GUI thread lands
anywhere in the audio callback, after the check for one at the block's start too, and is heard
at the next block all the same."""

from __future__ import annotations

import numpy as np
import pytest

from tests.playback.stretch_rig import RATE, player

BLOCK = 256


def play_until_changed(speed: float, read: int, when: str, change) -> tuple[list, int, object]:
    """Play from 1 s at ``speed`` for half a second, then call ``change(output, transport)``
    from inside the ``read``-th read of the song after that, ``when`` "before" or "after" the
    renderer renders it; play on a quarter second of song after the block it landed in.
    Return the runs (song frame, count) of those blocks, the song frame after the last one
    the block it landed in played, and the output."""
    output, transport = player()
    output.transposer.speed = speed
    transport.seek(RATE)
    transport.play()
    out = np.empty((BLOCK, 2), np.float32)
    for _ in range(round(RATE / 2 / BLOCK)):
        output.render(out)
    render_stems, reads = output.renderer.render_stems, []

    def reading(block, note):  # as the GUI thread would, at that moment
        reads.append(None)
        if len(reads) == read and when == "before":
            change(output, transport)
        got = render_stems(block, note)
        if len(reads) == read and when == "after":
            change(output, transport)
        return got

    output.renderer.render_stems = reading
    while len(reads) < read:
        output.render(out)
    sent, runs = output.played_position(), []
    for _ in range(round(RATE / 4 / BLOCK / speed)):
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    return runs, sent, output


WHEN = {"a": "before", "b": "after"}
TIMINGS = [(speed, read, when) for speed in (0.5, 1.5) for read in (1, 2, 3) for when in WHEN]


@pytest.mark.parametrize("ends", ["before the frame sent", "after it, before the frame read"])
@pytest.mark.parametrize(("speed", "read", "when"), TIMINGS)
def test_a_loop_set_as_the_song_is_read_goes_round(speed, read, when, ends):
    """The state after the read, new loop and all, was taken as the one the song was read
    with: no cut came, and having read past the loop's end, the song played on to its end
    (the loop set between blocks went round: ``test_stretch.py``). The player sends the
    transport to the start of a loop that ends before the frame sent, but not of one that
    the frame sent is in (``stemgui.ui.player``): that one too played on."""
    loop = []

    def set_loop(output, transport):
        sent = output.played_position()
        end = sent - 100 if ends.startswith("before") else sent + 2 * BLOCK
        assert transport.position > end  # read past it
        loop.extend((sent - RATE // 4, end))
        transport.set_loop(*loop)

    runs, _, _ = play_until_changed(speed, read, WHEN[when], set_loop)
    start, end = loop
    assert any(song == start for song, _ in runs)  # round it (at once, or at its end)
    assert max(song + count for song, count in runs) <= end


@pytest.mark.parametrize("how", ["pause", "stop"])
@pytest.mark.parametrize(("speed", "read", "when"), TIMINGS)
def test_a_pause_or_stop_as_the_song_is_read_stops_at_the_frame_heard_or_the_start(
    speed, read, when, how
):
    """Taken in as the song was read, the pause cut nothing: the windows played out what they
    held (70 ms at 50 %), and play went on from where the reading had run ahead to."""
    runs, sent, output = play_until_changed(
        speed, read, WHEN[when], lambda output, transport: getattr(transport, how)()
    )
    assert runs == []  # silent from the next block, after the fade
    heard = sent if how == "pause" else 0
    assert abs(output.transport.position - heard) < output.stretcher.search


@pytest.mark.parametrize(("speed", "read", "when"), TIMINGS)
def test_a_seek_as_the_song_is_read_is_heard_where_it_was_sent(speed, read, when):
    """Taken in as the song was read, the seek cut nothing: the windows cross-faded into the
    song sent to as they came, 70 ms late at 50 %."""
    runs, _, _ = play_until_changed(
        speed, read, WHEN[when], lambda output, transport: transport.seek(4 * RATE)
    )
    assert runs[0][0] == 4 * RATE  # from where it was sent, not past what was read after it


@pytest.mark.parametrize("speed", [0.5, 1.5])
@pytest.mark.parametrize("blocks", [0, 1, 2, 3])
def test_a_loop_set_as_the_pace_goes_back_to_one_ending_before_the_frame_sent_goes_round(
    speed, blocks
):
    """Set in the block that hands back to speed 1, after its check, the loop made the last
    window fade out and the renderer go on where the reading had run ahead to, past the loop's
    end: the song played on to its end."""
    output, transport = player()
    output.transposer.speed = speed
    transport.seek(RATE)
    transport.play()
    out = np.empty((BLOCK, 2), np.float32)
    for _ in range(round(RATE / 2 / BLOCK) + blocks):  # ending anywhere in a half window
        output.render(out)
    output.transposer.speed = 1.0
    stretcher, mix_stems, loop = output.stretcher, output.renderer.mix_stems, []

    def mixing(stems, into, *, advance=True):  # the GUI thread, as the last half window plays
        mix_stems(stems, into, advance=advance)
        last = stretcher._played + len(stems) == len(stretcher._ready)
        if advance and last and not (loop or stretcher._handing_over):
            sent = output.played_position()
            loop.extend((sent - RATE // 4, sent - 100))
            transport.set_loop(*loop)

    output.renderer.mix_stems = mixing
    while not loop:
        output.render(out)
    runs = []
    for _ in range(round(RATE / 4 / BLOCK)):
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    start, end = loop
    assert any(song == start for song, _ in runs)  # round it, as the player would
    assert max(song + count for song, count in runs) <= end
