"""The output devices listed for the user to choose, and a chosen one opened by its label."""

from __future__ import annotations

import sys

import pytest

from stemgui.playback.output_devices import FRESH_S, ChosenOutput, find_output, list_outputs
from stemgui.playback.sounddevice_output import open_output
from tests.playback.output_rig import SoundCards

pytestmark = pytest.mark.usefixtures("device_list")

BUILT_IN = ("Built-in Output", "Core Audio", 2)
MIC = ("Built-in Microphone", "Core Audio", 0)
SCARLETT = ("Scarlett 2i2 USB", "Core Audio", 2)
HEADPHONES = ("USB Headphones", "Core Audio", 2)


def labels(sd, **kwargs):
    return [device.label for device in list_outputs(sd, **kwargs)]


def test_outputs_are_listed_by_name_with_the_host_api_where_there_are_several():
    sd = SoundCards([BUILT_IN, MIC, SCARLETT])
    listed = list_outputs(sd)
    assert [(d.index, d.label) for d in listed] == [(0, "Built-in Output"), (2, "Scarlett 2i2 USB")]

    windows = SoundCards(
        [
            ("Speakers", "MME", 2),
            ("Microphone", "MME", 0),
            ("Speakers", "Windows WASAPI", 2),
            ("Mixer", "Windows WASAPI", 8),
            ("Mixer", "Windows WASAPI", 8),  # two of one model
        ],
        hostapis=("MME", "Windows WASAPI"),
    )
    listed = list_outputs(windows)
    assert [d.label for d in listed] == [
        "Speakers (MME)",
        "Speakers (Windows WASAPI)",
        "Mixer (Windows WASAPI)",
        "Mixer (Windows WASAPI) #2",
    ]
    assert [d.index for d in listed] == [0, 2, 3, 4]
    # a label saved with one host API listed, and one saved with several, are found either way
    assert find_output(listed, "Speakers").index == 0
    assert find_output(list_outputs(sd), "Scarlett 2i2 USB (Core Audio)").index == 2
    assert find_output(listed, "Scarlett 2i2 USB") is None


def test_a_second_of_one_model_is_found_again_when_host_apis_come_or_go():
    """A label "Mixer #2" saved with one host API listed was not found once several were (it
    reads "Mixer (ALSA) #2" then), nor the other way round: found where one device fits."""
    alsa = SoundCards([("Mixer", "ALSA", 8), ("Mixer", "ALSA", 8)], hostapis=("ALSA",))
    assert labels(alsa) == ["Mixer", "Mixer #2"]
    with_jack = SoundCards(
        [("Mixer", "ALSA", 8), ("Mixer", "ALSA", 8), ("Mixer", "JACK", 8)],
        hostapis=("ALSA", "JACK"),
    )
    listed = list_outputs(with_jack)
    assert [d.label for d in listed] == ["Mixer (ALSA)", "Mixer (ALSA) #2", "Mixer (JACK)"]
    assert find_output(listed, "Mixer #2").index == 1
    assert find_output(list_outputs(alsa), "Mixer (ALSA) #2").index == 1
    assert find_output(list_outputs(alsa), "Mixer (JACK) #2") is None  # not that host API
    assert find_output(listed, "Mixer #3") is None
    # a second Mixer under each of two host APIs: which one was meant cannot be told
    two_each = SoundCards(
        [("Mixer", api, 8) for api in ("ALSA", "JACK") for _ in "ab"], hostapis=("ALSA", "JACK")
    )
    assert find_output(list_outputs(two_each), "Mixer #2") is None


def test_a_device_plugged_in_is_listed_afresh_while_no_stream_is_open(rig, monkeypatch):
    sd = SoundCards([BUILT_IN])
    assert labels(sd) == ["Built-in Output"] and sd.initialisations == 2
    sd.plugged.append(SCARLETT)
    assert labels(sd, fresh=False) == ["Built-in Output"]  # PortAudio's list as it was
    assert labels(sd) == ["Built-in Output", "Scarlett 2i2 USB"] and sd.initialisations == 3

    # A stream open: PortAudio is not initialised again under it (that would close it).
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    output = open_output(*rig)
    sd.plugged.append(HEADPHONES)
    assert labels(sd) == ["Built-in Output", "Scarlett 2i2 USB"] and sd.initialisations == 3
    output.close()
    assert labels(sd)[-1] == "USB Headphones" and sd.initialisations == 4


@pytest.fixture
def cards(monkeypatch):
    sd = SoundCards([BUILT_IN, SCARLETT])
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    return sd


def test_a_chosen_device_is_found_by_its_label_when_the_numbers_move(rig, cards):
    chosen = ChosenOutput("Scarlett 2i2 USB")
    output = chosen(*rig)
    assert output.stream.kwargs["device"] == 1 and output.stream.card == "Scarlett 2i2 USB"
    output.close()

    # The next start: headphones plugged in came first, and the interface is number 2.
    cards.plugged.insert(0, HEADPHONES)
    cards._terminate()
    cards._initialize()
    output = chosen(*rig)
    assert output.stream.kwargs["device"] == 2 and output.stream.card == "Scarlett 2i2 USB"
    output.close()
    output = ChosenOutput("")(*rig)  # the system default
    assert output.stream.kwargs["device"] is None and output.stream.card == "USB Headphones"
    output.close()


def test_a_chosen_device_not_connected_plays_on_the_default_and_says_so(rig, cards, device_clock):
    said = []
    chosen = ChosenOutput("Focusrite Clarett", on_missing=said.append)
    output = chosen(*rig)
    assert output.stream.card == "Built-in Output" and said == ["Focusrite Clarett"]
    assert cards.initialisations == 2  # listed afresh to look for it
    output.close()

    # Plugged in: looked for afresh once the last look is FRESH_S old (each song shown opens an
    # output, and listing the devices afresh takes a second on some setups), then found.
    cards.plugged.append(("Focusrite Clarett", "Core Audio", 10))
    device_clock.now += FRESH_S - 0.5
    output = chosen(*rig)
    assert output.stream.card == "Built-in Output" and cards.initialisations == 2
    output.close()
    device_clock.now += 0.5
    output = chosen(*rig)
    assert output.stream.card == "Focusrite Clarett" and cards.initialisations == 3
    assert said == ["Focusrite Clarett"] * 2
    output.close()


def test_a_chosen_device_pulled_out_since_it_was_listed_plays_on_the_default(rig, cards):
    cards.plugged.remove(SCARLETT)  # still in PortAudio's list, which is read afresh
    said = []
    output = ChosenOutput("Scarlett 2i2 USB", on_missing=said.append)(*rig)
    assert output.stream.card == "Built-in Output" and said == ["Scarlett 2i2 USB"]
    assert cards.initialisations == 2
    output.close()


def test_a_chosen_device_another_program_holds_plays_on_the_default_and_says_so(
    rig, cards, device_clock
):
    """Each failed open marked PortAudio's list stale, and each open after initialised it again
    (a second on some ALSA setups, at each song shown): the list is read afresh at most every
    ``FRESH_S`` for it too, and the default plays meanwhile."""
    cards.busy.add("Scarlett 2i2 USB")  # another program holds it
    busy = []
    chosen = ChosenOutput("Scarlett 2i2 USB", on_missing=pytest.fail, on_busy=busy.append)
    for _ in range(3):  # three songs shown
        output = chosen(*rig)
        assert output.stream.card == "Built-in Output"
        output.close()
    assert cards.initialisations == 2  # listed afresh once: it is there, and held
    assert busy == ["Scarlett 2i2 USB"] * 3  # the banner says it once (``say_once``)

    # Let go: played on once the last look is FRESH_S old.
    cards.busy.clear()
    device_clock.now += FRESH_S
    output = chosen(*rig)
    assert output.stream.card == "Scarlett 2i2 USB" and cards.initialisations == 2
    output.close()
