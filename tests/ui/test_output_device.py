"""Playback ▸ Output device: the devices listed afresh, a choice that plays at once where the
song is and is kept by name for the next start, a device kept but not connected, and one that
does not open."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stemgui.playback.output_devices import FRESH_S
from stemgui.playback.transport import PlayState
from stemgui.ui import settings as S
from stemgui.ui.output_menu import PAUSE_TO_LIST, not_connected, not_opening
from tests.playback.output_rig import SoundCards
from tests.ui.song_window import make_stemset, show_song, song_window

pytestmark = pytest.mark.usefixtures("device_list")

BUILT_IN = ("Built-in Output", "Core Audio", 2)
MIC = ("Built-in Microphone", "Core Audio", 0)
SCARLETT = ("Scarlett 2i2 USB", "Core Audio", 2)
HEADPHONES = ("USB Headphones", "Core Audio", 2)


@pytest.fixture
def cards(monkeypatch):
    sd = SoundCards([BUILT_IN, MIC, SCARLETT])
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    return sd


def opened(win) -> list[tuple[str, bool, bool]]:
    """The Output device menu as it opens: (text without its mnemonic, checked, enabled) of
    each item."""
    menu = win.menu_bar.output_menu.menu
    menu.aboutToShow.emit()
    return [
        (action.iconText(), action.isChecked(), action.isEnabled())
        for action in menu.actions()
        if not action.isSeparator()
    ]


def choose(win, text: str) -> None:
    menu = win.menu_bar.output_menu.menu
    menu.aboutToShow.emit()
    (action,) = [action for action in menu.actions() if action.iconText() == text]
    action.trigger()


def said_once(qtbot, win, said: str, other: Path) -> None:
    """The banner says ``said``; closed, it stays closed as the song ``other`` is shown and
    another output is opened for it."""
    qtbot.waitUntil(lambda: win.banner.isVisibleTo(win))
    assert win.banner.text() == said
    win.banner.hide()
    show_song(win, other)
    qtbot.wait(10)
    assert not win.banner.isVisibleTo(win)


def test_a_device_chosen_plays_at_once_where_the_song_is(
    qtbot, settings_store, tmp_path, cards, device_clock
):
    win, _job = song_window(qtbot, settings_store, tmp_path, None)
    player = win.player
    assert opened(win) == [
        ("System default", True, True),
        ("Built-in Output", False, True),
        ("Scarlett 2i2 USB", False, True),
    ]
    first = cards.streams[-1]
    assert first.card == "Built-in Output" and not first.closed  # opened again at the same place
    player.toggle()
    first.play(800)
    player.poll()
    assert win.timeline.position == 800

    choose(win, "Scarlett 2i2 USB")
    second = cards.streams[-1]
    assert second.card == "Scarlett 2i2 USB" and first.closed and not second.closed
    assert player.transport.playing and player.transport.position == 800
    assert second.play(100).any() and player.transport.position == 900
    assert win.settings.get(S.OUTPUT_DEVICE) == "Scarlett 2i2 USB"
    assert win.statusBar().currentMessage() == "Sound goes to Scarlett 2i2 USB."

    # Plugged in while a song plays: PortAudio is not initialised under the stream; paused, it is.
    cards.plugged.append(HEADPHONES)
    initialisations = cards.initialisations
    assert opened(win) == [
        ("System default", False, True),
        ("Built-in Output", False, True),
        ("Scarlett 2i2 USB", True, True),
        (PAUSE_TO_LIST, False, False),
    ]
    assert cards.initialisations == initialisations and not second.closed
    player.toggle()
    device_clock.now += FRESH_S  # the menu's first opening read them afresh: not again this soon
    assert [text for text, _, _ in opened(win)] == [
        "System default",
        "Built-in Output",
        "Scarlett 2i2 USB",
        "USB Headphones",
    ]
    assert cards.initialisations == initialisations + 1 and second.closed
    third = cards.streams[-1]
    assert third.card == "Scarlett 2i2 USB" and not third.closed
    assert player.transport.state is PlayState.PAUSED and player.transport.position == 900
    win.close()


def test_the_devices_are_read_afresh_at_most_every_few_seconds(
    qtbot, settings_store, tmp_path, cards, device_clock
):
    """Reading them afresh closes a paused song's stream and initialises PortAudio again, which
    takes a second on some setups: a hover over the submenu now and then must not freeze."""
    win, _job = song_window(qtbot, settings_store, tmp_path)
    initialisations, streams = cards.initialisations, len(cards.streams)
    texts = [text for text, _, _ in opened(win)]
    assert texts == ["System default", "Built-in Output", "Scarlett 2i2 USB"]
    assert cards.initialisations == initialisations + 1 and len(cards.streams) == streams + 1
    cards.plugged.append(HEADPHONES)
    device_clock.now += FRESH_S - 0.5
    assert [text for text, _, _ in opened(win)] == texts  # PortAudio's list as it stands
    assert cards.initialisations == initialisations + 1 and len(cards.streams) == streams + 1
    assert not cards.streams[-1].closed
    device_clock.now += 0.5
    assert [text for text, _, _ in opened(win)] == [*texts, "USB Headphones"]
    assert cards.initialisations == initialisations + 2 and not cards.streams[-1].closed
    assert win.player.transport.state is PlayState.STOPPED and win.player.can_play
    win.close()


def test_the_device_kept_plays_at_the_next_start_and_its_absence_is_said_once(
    qtbot, settings_store, tmp_path, cards
):
    settings = S.Settings(settings_store)
    settings.set(S.OUTPUT_DEVICE, "Scarlett 2i2 USB")
    cards.plugged.insert(0, HEADPHONES)  # the numbers move: the interface is found by name
    cards._terminate()
    cards._initialize()
    win, _job = song_window(qtbot, settings_store, tmp_path, None)
    assert cards.streams[-1].card == "Scarlett 2i2 USB"
    assert cards.streams[-1].kwargs["device"] == 3
    win.close()

    cards.plugged.remove(SCARLETT)  # the next start: it is not connected
    cards._terminate()
    cards._initialize()
    win, _job = song_window(qtbot, settings_store, tmp_path, None)
    assert cards.streams[-1].card == "USB Headphones" and win.player.can_play
    said = not_connected("Scarlett 2i2 USB")
    assert said == (
        "The output device Scarlett 2i2 USB chosen in Playback ▸ Output device is not "
        "connected: the system default plays instead. Connect it and choose it there again, "
        "or choose another."
    )
    said_once(qtbot, win, said, tmp_path / "Other.wav")
    assert cards.streams[-1].card == "USB Headphones"
    assert opened(win)[-1] == ("Scarlett 2i2 USB (not connected)", True, False)

    choose(win, "System default")
    assert win.settings.get(S.OUTPUT_DEVICE) == ""
    assert [checked for _, checked, _ in opened(win)] == [True, False, False]
    win.close()


def test_songs_shown_while_the_device_kept_is_not_connected_list_the_devices_afresh_once(
    qtbot, settings_store, tmp_path, cards, device_clock
):
    """Each song shown opens an output, and listing the devices afresh to look for the one kept
    takes a second on some setups: three songs in a row do it once, a song a few seconds on
    again (and finds it plugged in since)."""
    S.Settings(settings_store).set(S.OUTPUT_DEVICE, "Focusrite Clarett")
    initialisations = cards.initialisations
    win, _job = song_window(qtbot, settings_store, tmp_path, None)

    show_song(win, tmp_path / "Second.wav")
    show_song(win, tmp_path / "Third.wav")
    assert cards.initialisations == initialisations + 1
    assert [stream.card for stream in cards.streams] == ["Built-in Output"] * 3
    assert [stream.closed for stream in cards.streams] == [True, True, False]
    cards.plugged.append(("Focusrite Clarett", "Core Audio", 10))
    device_clock.now += FRESH_S
    show_song(win, tmp_path / "Fourth.wav")
    assert cards.initialisations == initialisations + 2
    assert cards.streams[-1].card == "Focusrite Clarett"
    win.close()


def test_a_device_that_does_not_open_is_named_with_what_to_do_and_the_default_plays(
    qtbot, settings_store, tmp_path, cards
):
    win, _job = song_window(qtbot, settings_store, tmp_path, None)
    cards.busy.add("Scarlett 2i2 USB")  # another program holds it
    choose(win, "Scarlett 2i2 USB")
    assert win.player.can_play and win.settings.get(S.OUTPUT_DEVICE) == "Scarlett 2i2 USB"
    assert cards.streams[-1].card == "Built-in Output"
    said = not_opening("Scarlett 2i2 USB")
    assert said == (
        "The output device Scarlett 2i2 USB chosen in Playback ▸ Output device could not be "
        "opened: the system default plays instead. Check that it is connected and switched on "
        "and that no other program holds it, then try again; or choose another in Playback ▸ "
        "Output device."
    )
    said_once(qtbot, win, said, tmp_path / "Other.wav")
    assert cards.streams[-1].card == "Built-in Output"

    cards.busy.clear()  # let go: chosen again, it plays on it
    choose(win, "Scarlett 2i2 USB")
    assert win.player.can_play and cards.streams[-1].card == "Scarlett 2i2 USB"
    win.close()


def test_without_portaudio_the_menu_says_why(qtbot, settings_store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import sounddevice fails
    win, _job = song_window(qtbot, settings_store, tmp_path, None)
    items = opened(win)
    assert items[0] == ("System default", True, True) and len(items) == 2
    assert items[1][0].startswith("Sound output is not available (") and not items[1][2]
    win.close()


def test_a_switch_goes_on_from_the_frame_heard(qtbot):
    """The old device had the latency's frames yet to play: the new one plays them, from the
    frame it heard as it closed (the playhead shown is up to a poll older)."""
    from stemgui.stems.mixer import MixerState
    from stemgui.ui.player import Player
    from stemgui.ui.timeline import Timeline
    from tests.fakes import FakeOutput

    class Late(FakeOutput):  # 300 frames of latency: heard behind what was handed over
        def __init__(self, stemset, mixer, transport):
            super().__init__()
            self.transport = transport

        def heard_position(self):
            return self.transport.position - 300

    outputs = []
    player = Player(Timeline(), lambda *song: outputs.append(Late(*song)) or outputs[-1])
    stemset = make_stemset()
    player.load(stemset, MixerState(stemset.names))
    player.toggle()
    player.transport.seek(800)
    player.poll()
    assert player.timeline.position == 500
    player.transport.on_block(40)  # the callback handed the device 40 frames more since
    assert player.switch_output()
    assert outputs[0].closed and not outputs[1].closed and player.output is outputs[1]
    assert player.transport.playing and player.transport.position == 540
    player.unload()


def test_a_switch_as_the_song_ends_does_not_start_it_again(qtbot):
    """Held at its end, its last frame heard: the new device ends the song, not replays it."""
    from stemgui.stems.mixer import MixerState
    from stemgui.ui.player import Player
    from stemgui.ui.timeline import Timeline
    from tests.fakes import FakeOutput

    class PlayedOut(FakeOutput):  # silence at the speakers till the next callback ends the song
        def heard_position(self):
            return None

    outputs = []
    player = Player(Timeline(), lambda *song: outputs.append(PlayedOut()) or outputs[-1])
    stemset = make_stemset()
    player.load(stemset, MixerState(stemset.names))
    transport = player.transport
    player.toggle()
    transport.seek(transport.frames)  # read to the end: held there, playing
    player.poll()
    assert player.switch_output() and outputs[0].closed and player.output is outputs[1]
    assert transport.playing and transport.position == transport.frames
    assert player.timeline.position == transport.frames
    transport.finish()  # the new output has none of it left to play: the song ends, once
    player.poll()
    assert transport.state is PlayState.STOPPED and transport.position == 0
    assert transport.ends == 1 and player.timeline.position == 0
    player.unload()
