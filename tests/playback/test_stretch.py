"""Playing slower or faster with the pitch kept (``Stretcher``, WSOLA): the same notes, as
loud, without clicks, the song's pace changed by the speed, and speed 1 untouched; pause, seek,
loops and the mixer heard at once at any pace (where notes begin and end:
``tests/playback/test_stretch_notes.py``)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from stemgui.playback.null_output import NullOutput
from stemgui.playback.renderer import BlockRenderer
from stemgui.playback.stretch import Stretcher
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.stretch_rig import FADE, RATE, SECONDS, T, play, player


def peaks(signal: np.ndarray, count: int = 3) -> list[float]:
    """The ``count`` strongest frequencies of ``signal`` (Hz, to 0.5 Hz), low to high."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size), 8 * signal.size))
    hz = np.fft.rfftfreq(8 * signal.size, 1 / RATE)
    found: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(hz[index] - f) > 20 for f in found):
            found.append(float(hz[index]))
        if len(found) == count:
            return sorted(found)
    return sorted(found)


def test_at_speed_one_in_the_song_s_key_the_renderer_s_samples_come_through_untouched():
    output, transport = player()
    transport.play()
    heard = play(output, RATE)
    fresh, again = player()
    again.play()
    reference = np.zeros_like(heard)
    BlockRenderer(fresh.stemset, fresh.mixer, again).render(reference)
    np.testing.assert_array_equal(heard, reference)
    assert not output.stretcher.active


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.25, 1.5])
def test_the_notes_keep_their_pitch_and_loudness_and_the_song_its_pace_times_speed(speed):
    output, transport = player()
    output.transposer.speed = speed
    transport.play()
    frames = 3 * RATE
    heard = play(output, frames)[:, 0]
    steady = heard[RATE // 2 :]  # past the first windows
    # within 7 cents: the windows follow the strongest note, the others' overlaps add sidebands
    assert peaks(steady) == pytest.approx([220, 330, 554.37], rel=0.004)
    # as loud as the song where it is heard: the windows add up in phase, not beating
    song_at = (np.arange(steady.size) + RATE // 2) * speed
    level = (1.0 - 0.3 * song_at / RATE / SECONDS) * np.sqrt((0.2**2 + 0.15**2 + 0.1**2) / 2)
    rms = np.sqrt(np.mean(steady.astype(np.float64) ** 2))
    assert 20 * np.log10(rms / np.sqrt(np.mean(level**2))) == pytest.approx(0.0, abs=0.5)
    # the transport is where the song is: ahead of the output only by what is buffered
    buffered = output.stretcher.size + 2 * output.stretcher.search + output.stretcher.hop
    assert 0 <= transport.position - frames * speed <= buffered + 512


@pytest.mark.parametrize("speed", [0.5, 0.8, 1.25])
def test_no_click_where_windows_meet(speed):
    """A pure tone's largest step from one sample to the next stays the tone's own."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    natural = float(np.abs(np.diff(tone)).max())
    output, transport = player(tone)
    output.transposer.speed = speed
    transport.play()
    heard = play(output, 2 * RATE)[:, 0]
    assert float(np.abs(np.diff(heard)).max()) < 1.1 * natural


def test_each_half_window_says_which_song_frame_it_plays():
    output, transport = player()
    stretcher = Stretcher(output.renderer, 2, RATE)
    stretcher.speed = 0.5
    transport.play()
    runs = []
    out = np.zeros((512, 2), np.float32)
    for block in range(200):
        stretcher.render(
            out, lambda offset, song, count, b=block: runs.append((b * 512 + offset, song))
        )
    (first_out, first_song), (last_out, last_song) = runs[1], runs[-1]
    # the song moves half as fast as the output, to a window
    assert (last_song - first_song) == pytest.approx(
        0.5 * (last_out - first_out), abs=stretcher.size
    )
    songs = [song for _, song in runs]
    assert songs == sorted(songs)


def slowed_tone():
    """A 220 Hz tone played for a second at half speed: (its largest step from one sample to
    the next, the output, its transport, what it played)."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    output, transport = player(tone)
    output.transposer.speed = 0.5
    transport.play()
    return float(np.abs(np.diff(tone)).max()), output, transport, play(output, RATE)


def test_back_at_speed_one_playback_goes_on_from_the_frame_heard_without_a_click():
    natural, output, transport, before = slowed_tone()
    ahead = transport.position  # the transport ran ahead of the windows being heard
    output.transposer.speed = 1.0
    after = play(output, RATE // 2)
    assert not output.stretcher.active
    # went back to about half a second of song (a second at half speed), not on from "ahead"
    assert abs((transport.position - RATE // 2) - RATE // 2) < output.stretcher.size + 512
    assert transport.position < ahead + RATE // 2
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural


@pytest.mark.parametrize("how", ["seek", "stop and play"])
def test_a_seek_as_the_speed_goes_back_to_one_is_not_undone_and_makes_no_click(how):
    natural, output, transport, before = slowed_tone()
    output.transposer.speed = 1.0  # the windows still buffered play out first, then the hand-over
    if how == "seek":
        transport.seek(3 * RATE + 77)
    else:
        transport.stop()
        transport.play()
    sought = transport.position
    after = play(output, 10 * 512)
    assert not output.stretcher.active
    assert sought <= transport.position <= sought + 10 * 512  # not back where it played slowly
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural


def test_paused_it_falls_silent_and_starts_afresh():
    output, transport = player()
    output.transposer.speed = 0.75
    transport.play()
    play(output, RATE // 2)
    transport.pause()
    tail = play(output, RATE // 2)
    assert not np.any(tail[-RATE // 4 :])  # silent once what was buffered has played
    paused_at = transport.position
    transport.play()
    heard = play(output, RATE)
    assert np.any(heard) and transport.position > paused_at
    assert peaks(heard[RATE // 2 :, 0]) == pytest.approx([220, 330, 554.37], rel=0.004)


@pytest.mark.parametrize("paused_blocks", range(0, 40, 3))
def test_play_after_a_pause_sounds_at_once(paused_blocks):
    """Paused at half speed, the stretcher went on starting afresh on silence, a window and
    its search at a time: Play sounded up to 58 ms late, as that silence played out."""
    output, transport = player(np.full(T.size, 0.5, np.float32))
    output.transposer.speed = 0.5
    transport.play()
    play(output, RATE // 2)
    transport.pause()
    play(output, RATE // 4 + paused_blocks * 512)
    transport.play()
    heard = play(output, 2048)[:, 0]
    assert heard[0] != 0.0 and heard[FADE:].min() > 0.45


PACES = [(0.5, 0), (0.25, 0), (0.25, 6), (0.5, -6), (1.5, 3), (2.0, -6), (1.0, 4)]


@pytest.mark.parametrize("how", ["pause", "stop", "seek"])
@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_pause_stop_and_seek_land_within_a_fade_at_any_pace_without_a_click(how, speed, semitones):
    """What the stretcher held of the song ahead played out first: pause and stop fell
    silent, and a seek was heard, 111 ms late at 50 % and 295 ms at 25 %."""
    tone = (0.5 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    ratio = 2 ** (semitones / 12)
    natural = float(np.abs(np.diff(tone)).max()) * max(1.0, ratio)
    output, transport = player(tone)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.play()
    before = play(output, RATE // 2)
    if how == "pause":
        transport.pause()
    elif how == "stop":
        transport.stop()
    else:
        transport.seek(4 * RATE + 300)  # the tone's phase elsewhere: a cross-fade
    after = play(output, RATE // 4)
    joined = np.concatenate([before, after])[:, 0]
    assert float(np.abs(np.diff(joined)).max()) < 1.5 * natural
    if how != "seek":  # silent after the fade and the transposer's kernel, at the key's ratio
        assert not after[round((FADE + 2 * output.transposer.reach) / min(1.0, ratio)) :].any()


def ramp_player(speed: float, semitones: int) -> tuple[NullOutput, Transport]:
    """A song whose every frame says where it is on its left: 0.2 at its start, 0.8 at its
    end; noise on its right, which the windows follow (on the ramp alone, the louder the
    better it correlates: they would be cut as late as they may)."""
    data = np.zeros((2, 2, T.size), np.float32)
    data[0, 0] = 0.2 + 0.6 * np.arange(T.size) / T.size
    data[0, 1] = 0.2 * np.random.default_rng(0).standard_normal(T.size)
    return vocals_and_other_player(data, speed, semitones)


def vocals_and_other_player(
    data: np.ndarray, speed: float, semitones: int
) -> tuple[NullOutput, Transport]:
    """A player of ``data`` as stems "vocals" and "other", at ``speed`` and ``semitones``."""
    stems = StemSet(("vocals", "other"), RATE, data)
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, MixerState(stems.names), transport, blocksize=512)
    output.transposer.speed, output.transposer.semitones = speed, semitones
    return output, transport


def song_frame_of(heard: np.ndarray) -> float:
    return float((heard.mean() - 0.2) / 0.6 * T.size)


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_play_after_a_pause_goes_on_from_the_song_frame_heard(speed, semitones):
    """The transport had run ahead of what was heard by what the stretcher held: play after
    a pause went on 35 ms of song further on (at 50 % and at 25 %), skipping it."""
    output, transport = ramp_player(speed, semitones)
    transport.play()
    heard = song_frame_of(play(output, RATE // 2)[-64:, 0])
    transport.pause()
    play(output, RATE // 4)
    search = output.stretcher.search  # where a window is cut: WSOLA's own give
    assert abs(transport.position - heard) < search
    transport.play()
    # past the fade-in, in the first half window: the song at its pace, read at the ratio
    ratio = 2 ** (semitones / 12)
    again = song_frame_of(play(output, 1024)[2 * FADE : 2 * FADE + 64, 0])
    assert abs(again - 2 * FADE * ratio - heard) < search


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_a_seek_is_heard_within_a_fade_at_any_pace(speed, semitones):
    output, transport = ramp_player(speed, semitones)
    transport.play()
    play(output, RATE // 2)
    transport.seek(4 * RATE)
    # past the cross-fade, in the first half window: the song at its pace, read at the ratio
    ratio = 2 ** (semitones / 12)
    heard = song_frame_of(play(output, 1024)[2 * FADE : 2 * FADE + 64, 0])
    assert abs(heard - 2 * FADE * ratio - 4 * RATE) < output.stretcher.search


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.25])
def test_a_stem_muted_does_not_steer_where_the_windows_are_cut(speed):
    """A tone with a loud noise stem muted stays a pure tone: matched on every stem, the
    windows were cut where the noise continued best, and the tone's overlaps did not add in
    phase (what is not the tone rose from 45 dB below it to 25 dB)."""
    tone = (0.2 * np.sin(2 * np.pi * 220 * T)).astype(np.float32)
    data = np.zeros((2, 2, T.size), np.float32)
    data[0] = tone
    data[1] = 0.3 * np.random.default_rng(0).standard_normal((2, T.size))
    stems = StemSet(("bass", "drums"), RATE, data)
    mixer = MixerState(stems.names)
    mixer.set_mute("drums")
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, mixer, transport, blocksize=512)
    output.transposer.speed = speed
    transport.play()
    heard = play(output, 2 * RATE)[RATE // 2 :, 0].astype(np.float64)
    piece = RATE // 20
    t = np.arange(piece) / RATE
    sines = np.stack([np.sin(2 * np.pi * 220 * t), np.cos(2 * np.pi * 220 * t)], axis=1)
    for a in range(0, heard.size - piece, piece):
        y = heard[a : a + piece]
        rest = y - sines @ np.linalg.lstsq(sines, y, rcond=None)[0]
        assert 10 * np.log10(np.mean(rest**2) / np.mean(y**2)) < -35


def steady_vocals_player(speed: float, semitones: int) -> tuple[NullOutput, Transport]:
    """Vocals a steady 0.3 on the left, "other" noise on the right (the windows follow it)."""
    data = np.zeros((2, 2, T.size), np.float32)
    data[0, 0] = 0.3
    data[1, 1] = 0.1 * np.random.default_rng(0).standard_normal(T.size)
    return vocals_and_other_player(data, speed, semitones)


@pytest.mark.parametrize(("speed", "semitones"), PACES)
def test_solo_mute_and_gain_are_heard_within_a_fade_at_any_pace_and_skip_nothing(speed, semitones):
    """The gains went in ahead of the stretcher, and what it held of the song ahead played
    out first: a mute was heard 110 ms late at 50 % and 193 ms at 25 %."""
    output, transport = steady_vocals_player(speed, semitones)
    transport.play()
    runs = []

    def hear(frames: int, block: int = 512) -> np.ndarray:
        out = np.empty((frames, 2), np.float32)
        for at in range(0, frames, block):
            output.clicker.render(out[at : at + block], lambda *run: runs.append(run[1:]))
        return out

    hear(RATE // 2)
    ratio = 2 ** (semitones / 12)
    settled = round(FADE / min(1.0, ratio)) + 2 * output.transposer.reach  # under 10 ms
    quieter = 0.3 * 10 ** (-6 / 20)
    for change, level in [
        (lambda mixer: mixer.set_gain_db("vocals", -6.0), quieter),
        (lambda mixer: mixer.set_mute("vocals", True), 0.0),
        (lambda mixer: mixer.set_solo("other", True), 0.0),
        (lambda mixer: mixer.set_mute("vocals", False), 0.0),  # "other" soloed alone
        (lambda mixer: mixer.set_solo("vocals", True), quieter),  # both soloed
        (lambda mixer: mixer.reset(), 0.3),
    ]:
        before = hear(1)  # a last frame as it was
        change(output.mixer)
        left = np.concatenate([before, hear(4096)])[:, 0]
        assert settled < 0.01 * RATE
        np.testing.assert_allclose(left[1 + settled :], level, atol=1e-4)
        assert float(np.abs(np.diff(left)).max()) < 1.5 * 0.3 * max(1.0, ratio) / FADE  # no click
    # the song frames heard run on, each from where the last ended: nothing skipped or heard
    # twice, and as many as the pace plays
    assert all(song == last + count for (last, count), (song, _) in pairwise(runs))
    played = RATE // 2 // 512 * 512 + 6 * (1 + 4096)
    said = runs[-1][0] + runs[-1][1] - runs[0][0]
    assert abs(said - speed * played) < output.stretcher.size * max(1.0, speed / ratio)


@pytest.mark.parametrize(("speed", "semitones"), [(0.5, 0), (0.25, 0), (0.25, 6)])
@pytest.mark.parametrize("blocks", [1, 4, 8])
def test_a_stem_muted_as_a_loop_goes_round_stays_muted_through_its_wrap(speed, semitones, blocks):
    """The fade-out at a wrap read ahead (the tail) was mixed as it was read: muted ``blocks``
    blocks after that, the vocals came back at full level around the wrap heard, for up to
    57 ms at 50 % and 178 ms at 25 % (the windows play the tail several times over)."""
    output, transport = steady_vocals_player(speed, semitones)
    transport.set_loop(RATE, RATE + RATE // 2)
    transport.seek(RATE)
    transport.play()
    while transport.wraps < 2:
        output.pump(512)
    play(output, blocks * 512)
    output.mixer.set_mute("vocals")
    ratio = 2 ** (semitones / 12)
    settled = round(FADE / min(1.0, ratio)) + 2 * output.transposer.reach
    assert not play(output, 60 * 512)[settled:, 0].any()


@pytest.mark.parametrize(("speed", "semitones"), PACES)
@pytest.mark.parametrize("on", [False, True])
def test_a_loop_turned_off_or_on_just_before_its_end_is_heard_so(speed, semitones, on):
    """The stretcher had read the song ahead past the loop's end: turned off 20 ms of song
    before it, the loop still went round once at 50 % (and up to 40 ms at 25 %); turned on,
    the song played on past its end once."""
    output, transport = ramp_player(speed, semitones)
    start, end = RATE, 2 * RATE
    transport.set_loop(start, end, enabled=not on)
    transport.seek(end - RATE // 4)
    transport.play()
    runs = []
    out = np.empty((128, 2), np.float32)  # (at 200 % -6 a block of 512 plays 33 ms of song)
    while not runs or runs[-1][0] + runs[-1][1] < end - RATE // 50:
        output.clicker.render(out, lambda offset, song, count: runs.append((song, count)))
    assert runs[-1][0] + runs[-1][1] < end  # just before its end
    transport.set_loop_enabled(on)
    for _ in range(round(RATE / 2 / 128 / speed)):  # half a second of song
        output.clicker.render(out, lambda offset, song, count: runs.append((song, count)))
    wrapped = any(song == start for song, _ in runs)
    assert wrapped == on
    past_the_end = max(song + count for song, count in runs) > end
    assert past_the_end != on


@pytest.mark.parametrize("speed", [0.5, 1.5])
@pytest.mark.parametrize("behind", [1, 100, 400])
def test_a_loop_set_ending_before_the_frame_sent_goes_round_not_on(speed, behind):
    """The stretcher had read the song past the loop's end and sent it past that end too (a
    block rendered as the loop was set, or the frames a transposer holds, after the player
    judged it): it sent the transport back to that frame, past the loop's end, and the song
    played on to its end before going round."""
    output, transport = ramp_player(speed, 0)
    transport.seek(RATE)
    transport.play()
    out = np.empty((256, 2), np.float32)
    for _ in range(round(RATE / 2 / 256)):
        output.render(out)
    sent = output.played_position()
    assert transport.position - sent > 1000  # read ahead, past the loop's end to come
    start, end = sent - RATE // 4, sent - behind
    transport.set_loop(start, end)
    runs = []
    for _ in range(round(RATE / 4 / 256 / speed)):  # a quarter of a second of song
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    assert runs[0][0] == start  # round it at once (after the fade), as the player would
    assert max(song + count for song, count in runs) <= end


def test_play_as_the_song_ends_slowly_plays_it_from_its_start():
    """The transport had stopped at the song's end as the stretcher read it, the end still
    playing: play then went back to the frame heard, near the end, and stopped again."""
    output, transport = player()
    output.transposer.speed = 0.5
    transport.seek(transport.frames - RATE // 10)
    transport.play()
    while transport.ends == 0:
        output.pump(512)
    transport.play()
    play(output, 10 * 512)
    assert transport.playing and 0 < transport.position <= 10 * 512


@pytest.mark.parametrize(("speed", "semitones"), [(1.0, 0), *PACES])
def test_the_song_ends_as_its_last_frame_plays_not_as_it_is_read(speed, semitones):
    """The transport stopped at the song's end as the stretcher read it: the window showed the
    song ended (back at the start, Play) while its last notes still played, 115 ms of them at
    50 % and 245 ms at 25 %. It now stops in the block that plays the song's last frame (one
    block later transposed: the transposer holds a few frames)."""
    output, transport = player()
    output.transposer.speed, output.transposer.semitones = speed, semitones
    transport.seek(transport.frames - RATE // 4)
    transport.play()
    blocks = []
    while transport.playing:
        blocks.append(output.pump(256).copy())
    assert transport.ends == 1 and transport.position == 0
    assert np.abs(blocks[-2]).max() > 0.01  # the song played up to the block that ended it,
    after = play(output, RATE // 4, 256)  # and is over (a window cut fades out over 5 ms)
    assert not after[2 * FADE :].any()
    transport.play()
    play(output, RATE // 10, 256)
    transport.seek(transport.frames)  # End while playing: nothing left to play, it ends
    play(output, 1024, 256)
    assert transport.ends == 2 and not transport.playing


@pytest.mark.parametrize("block", [64, 512])
def test_a_short_song_stretched_most_plays_to_its_last_frame_before_it_ends(block):
    """At 25 % up 6 semitones (stretched 5.7 times) the windows, cut back where the song goes
    on best, lay no song over a block now and then: the end, read before the song began to
    play, is not taken from such a block, nor from one that lays what is left of it over the
    half window to come."""
    data = (0.1 * np.random.default_rng(2000).standard_normal((2, 2, 2000))).astype(np.float32)
    stems = StemSet(("vocals", "other"), RATE, data, data.sum(axis=0))
    transport = Transport(stems.frames, RATE)
    output = NullOutput(stems, MixerState(stems.names, original=True), transport)
    output.transposer.speed, output.transposer.semitones = 0.25, 6
    transport.play()
    runs = []
    out = np.empty((block, 2), np.float32)
    while transport.playing:
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    assert max(song + count for song, count in runs) == transport.frames and transport.ends == 1


@pytest.mark.parametrize(("speed", "semitones"), [(1.0, 0), *PACES])
def test_a_lap_counts_when_the_wrap_plays_not_when_it_is_read(speed, semitones):
    """The transport wraps as the stretcher reads the song ahead, 73 ms (at 50 %) before the
    wrap plays: the speed trainer, which stepped up on it, sped up the lap's last notes."""
    output, transport = ramp_player(speed, semitones)
    transport.set_loop(RATE, RATE + RATE // 4)
    transport.seek(RATE + 1000)
    transport.play()
    out = np.empty((256, 2), np.float32)
    runs = []
    for lap in range(1, 4):
        while output.laps < lap:
            assert not any(song == RATE for song, _ in runs)
            runs.clear()
            output.render(out, lambda offset, song, count: runs.append((song, count)))
        assert any(song == RATE for song, _ in runs)  # the block that plays the wrap
        runs.clear()
    assert output.laps == 3


@pytest.mark.parametrize("start", [8000, 12000])
@pytest.mark.parametrize("left", [0, 1500, 3000, 5000])
def test_back_at_speed_one_as_the_song_ends_its_last_frames_are_told_and_it_ends_there(left, start):
    """150 % -> 100 % with the song's end inside the last window: the window played out
    without saying which song frames it played (the last ~500 frames never reached the
    playhead or the click), and the song ended a block after its last frame played."""
    output, transport = player()
    output.transposer.speed = 1.5
    transport.seek(transport.frames - start)
    transport.play()
    out = np.empty((256, 2), np.float32)
    runs = []
    while transport.frames - transport.position > left:
        output.render(out, lambda offset, song, count: runs.append((song, count)))
    output.transposer.speed = 1.0
    played: list[tuple[int, int]] = []
    for _ in range(100):
        played.clear()
        output.render(out, lambda offset, song, count: played.append((song, count)))
        runs += played
        if not transport.playing:
            break
    assert transport.ends == 1
    assert max(song + count for song, count in runs) == transport.frames
    assert any(song + count == transport.frames for song, count in played)  # ends as it plays
