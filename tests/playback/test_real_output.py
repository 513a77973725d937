"""The app's output through the real PortAudio, on ALSA's null PCM (``tests/playback/alsa_null``):
what reaches the device is the mix, frame for frame; the playhead moves by the frames the device
was given; pause, seek and stop hold; a device that fails gives the app's message."""

from __future__ import annotations

import numpy as np
import pytest

from stemgui.playback import sounddevice_output
from stemgui.playback.output_devices import ChosenOutput, list_outputs
from stemgui.playback.renderer import FADE_SECONDS
from stemgui.playback.sounddevice_output import DEVICE_LOST, AudioDeviceError, open_output
from stemgui.playback.transport import PlayState, Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.alsa_null import callbacks_on, null_devices, sounds, wait_until
from tests.playback.output_rig import mix_of

RATE = 44100
FRAMES = RATE  # a second of song
FADE = round(FADE_SECONDS * RATE)
SETTLE = 10  # callbacks after a command: its cut, its fade's tail, then silence, reach the device


@pytest.fixture()
def devices(tmp_path, device_list):
    made = null_devices(tmp_path)
    yield made
    made.close()


@pytest.fixture()
def song():
    """(stems, mixer, transport, mix): three stems of noise, their sum below the limiter."""
    rng = np.random.default_rng(1)
    data = (0.05 * rng.standard_normal((3, 2, FRAMES))).astype(np.float32)
    stems = StemSet(("drums", "bass", "vocals"), RATE, data)
    transport = Transport(stems.frames, stems.samplerate)
    return stems, MixerState(stems.names), transport, mix_of(stems, 0, FRAMES)


def faded_in(block):
    """``block`` as a start from silence plays it: its first ``FADE`` frames fade in."""
    block = block.copy()
    n = min(FADE, len(block))
    block[:n] *= (np.arange(1, n + 1) / FADE)[:, None]
    return block


def assert_plays(heard, expected):
    """``heard`` starts with ``expected`` (frames, channels), as float32 mixes it."""
    assert len(heard) >= len(expected)
    np.testing.assert_allclose(heard[: len(expected)], expected, rtol=1e-5, atol=1e-6)


def test_a_seek_then_play_gives_the_device_the_mix_to_the_songs_end(devices, song):
    stems, mixer, transport, mix = song
    start = 10_000
    transport.seek(start)
    transport.play()
    output = open_output(stems, mixer, transport)  # the system default: the tap
    wait_until(lambda: transport.ends == 1, "the song's end")
    callbacks_on(output, SETTLE)
    output.close()

    assert output.error is None
    assert (transport.state, transport.position) == (PlayState.STOPPED, 0)
    (sound,) = sounds(devices.heard())
    assert len(sound) == FRAMES - start  # the frames the transport moved on by, no more
    assert_plays(sound, faded_in(mix[start:]))


def test_pause_holds_the_playhead_at_the_last_frame_the_device_got(devices, song):
    stems, mixer, transport, mix = song
    transport.set_loop(0, FRAMES)  # plays until told otherwise
    transport.play()
    output = open_output(stems, mixer, transport)
    wait_until(lambda: output.laps >= 2, "two laps of the loop")
    assert output.poll() is None  # playing: callbacks come, nothing stalled
    transport.pause()
    callbacks_on(output, SETTLE)
    assert output.poll() is None  # paused, the stream runs on
    held, laps = transport.position, transport.wraps
    callbacks_on(output, SETTLE)
    assert transport.position == held  # the callbacks go on: silence, the playhead still
    assert output.heard_position() is None  # silence at the device
    output.close()

    (sound,) = sounds(devices.heard())
    given = laps * FRAMES + held  # each lap from the loop's start, then up to the pause
    assert given <= len(sound) <= given + FADE  # then the pause's fade-out, then silence
    lap = faded_in(mix)  # each lap starts from the loop end's silence: it fades in
    assert_plays(sound, np.concatenate([lap] * laps + [lap[:held]]))


def test_seek_while_paused_then_play_on_gives_the_device_the_song_from_there(devices, song):
    stems, mixer, transport, mix = song
    transport.set_loop(0, FRAMES)
    transport.play()
    output = open_output(stems, mixer, transport)
    wait_until(lambda: output.laps >= 1, "a lap of the loop")
    transport.pause()
    callbacks_on(output, SETTLE)
    transport.clear_loop()
    transport.seek(30_000)
    callbacks_on(output, SETTLE)
    assert transport.position == 30_000  # paused: sought, not moved on
    transport.play()
    wait_until(lambda: transport.ends == 1, "the song's end")
    callbacks_on(output, SETTLE)
    output.close()

    first, second = sounds(devices.heard())
    assert_plays(first, faded_in(mix))
    assert len(second) == FRAMES - 30_000
    assert_plays(second, faded_in(mix[30_000:]))


def test_stop_while_playing_rewinds_and_play_starts_the_song_again(devices, song):
    stems, mixer, transport, mix = song
    transport.set_loop(0, FRAMES)
    transport.play()
    output = open_output(stems, mixer, transport)
    wait_until(lambda: output.laps >= 1, "a lap of the loop")
    transport.stop()
    callbacks_on(output, SETTLE)
    assert (transport.state, transport.position) == (PlayState.STOPPED, 0)
    callbacks_on(output, SETTLE)
    assert transport.position == 0
    transport.clear_loop()
    transport.play()
    wait_until(lambda: transport.ends == 1, "the song's end")
    callbacks_on(output, SETTLE)
    output.close()

    first, second = sounds(devices.heard())
    assert_plays(first, faded_in(mix))
    assert len(second) == FRAMES  # from the start, to the end
    assert_plays(second, faded_in(mix))


def test_a_device_unplugged_while_playing_pauses_with_the_apps_message(devices, song):
    stems, mixer, transport, _ = song
    shown = []  # the message anyone could read as playback paused: None, it was not out yet
    pause = transport.pause
    transport.pause = lambda: (shown.append(output.error), pause())
    transport.set_loop(0, FRAMES)
    transport.play()
    output = open_output(
        stems, mixer, transport, device=devices.index("stemgui_pipe"), name="stemgui_pipe"
    )
    wait_until(lambda: output.poll() is not None, "noticing the device gone")
    assert not transport.playing  # seen with the message: the UI never shows both
    assert shown[0] is None
    assert output.poll() == DEVICE_LOST
    output.close()  # on a stream PortAudio ended: no error

    again = open_output(stems, mixer, transport)  # PortAudio listed again, as after a loss
    transport.play()
    wait_until(lambda: again.laps >= 1, "a lap on the default device")
    again.close()
    assert again.error is None


def test_a_callback_that_fails_stops_the_stream_with_its_reason(devices, song):
    stems, _, transport, _ = song

    class Breaking(MixerState):
        calls = 0

        @property
        def gains(self):
            Breaking.calls += 1
            if Breaking.calls > 5:
                raise RuntimeError("the mixer broke")
            return (1.0, 1.0, 1.0)

    transport.set_loop(0, FRAMES)
    transport.play()
    output = open_output(stems, Breaking(stems.names), transport)
    wait_until(lambda: not output.stream.active, "PortAudio ending the stream")
    assert output.poll() == "Playback failed: the mixer broke"
    assert not transport.playing
    output.close()


def test_a_chosen_device_not_listed_plays_on_the_default_and_says_so(devices, song):
    stems, mixer, transport, mix = song
    missing = []
    factory = ChosenOutput("USB Audio CODEC", on_missing=missing.append)
    transport.play()
    output = factory(stems, mixer, transport)
    wait_until(lambda: transport.ends == 1, "the song's end on the default")
    callbacks_on(output, SETTLE)
    output.close()

    assert missing == ["USB Audio CODEC"]
    (sound,) = sounds(devices.heard())
    assert_plays(sound, faded_in(mix))


def test_a_chosen_device_listed_by_portaudio_is_the_one_that_plays(devices, song):
    stems, mixer, transport, mix = song
    labels = [device.label for device in list_outputs(devices.sd)]
    assert {"default", "stemgui_tap", "stemgui_chosen"} <= set(labels)  # one host API: names
    transport.play()
    output = ChosenOutput("stemgui_chosen")(stems, mixer, transport)
    wait_until(lambda: transport.ends == 1, "the song's end on the chosen device")
    callbacks_on(output, SETTLE)
    output.close()

    (sound,) = sounds(devices.heard("chosen"))
    assert_plays(sound, faded_in(mix))
    assert len(devices.heard()) == 0  # the default was given nothing


def test_listing_the_devices_while_one_plays_leaves_its_stream_playing(devices, song):
    stems, mixer, transport, _ = song
    transport.set_loop(0, FRAMES)
    transport.play()
    output = ChosenOutput("stemgui_chosen")(stems, mixer, transport)
    wait_until(lambda: output.laps >= 1, "a lap of the loop")
    devices.asoundrc.unlink()  # the chosen device goes; PortAudio would see it only afresh
    labels = [device.label for device in list_outputs(devices.sd)]  # as the menu opening does
    assert "stemgui_chosen" in labels  # PortAudio not initialised again: it would end the stream
    laps = output.laps
    wait_until(lambda: output.laps > laps, "another lap after the listing")
    assert output.poll() is None
    output.close()


def test_a_device_name_portaudio_does_not_know_is_refused_in_plain_words(devices, song):
    stems, mixer, transport, _ = song
    with pytest.raises(AudioDeviceError) as raised:
        open_output(stems, mixer, transport, device="USB Audio CODEC", name="USB Audio CODEC")
    message = str(raised.value)
    assert message.startswith("The audio output device USB Audio CODEC could not be opened")
    assert sounddevice_output.CHOSEN_DEVICE_ADVICE in message


def test_no_device_at_all_says_none_was_found(devices, song):
    devices.close()  # this machine without the null devices
    if devices.sd.query_devices():
        pytest.skip("this machine has sound devices of its own: 'none at all' cannot be made")
    stems, mixer, transport, _ = song
    with pytest.raises(AudioDeviceError) as raised:
        open_output(stems, mixer, transport)
    assert str(raised.value) == (
        f"No audio output device was found. {sounddevice_output.NO_DEVICE_ADVICE}"
    )
