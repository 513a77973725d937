"""The output devices to choose from, and a chosen one found again by its label.

PortAudio numbers its devices anew each time it is initialised (one plugged in takes a number
and moves the others on), so a choice is kept by its label: the device's name, with its host API
where the outputs are listed under several (Windows lists most devices under MME, DirectSound,
WASAPI and WDM-KS). ``list_outputs`` reads PortAudio's list, initialising PortAudio again first
where it may (``sounddevice_output._DeviceList.refresh``: only while none of our streams is
open); ``find_output`` finds a label in it; ``ChosenOutput`` is the player's output factory for
a chosen device, which plays on the system default (and says so) while that one is not there or
does not open, looking for it afresh at most every ``FRESH_S``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stemgui.playback import sounddevice_output
from stemgui.playback.renderer import HasGains
from stemgui.playback.sounddevice_output import AudioDeviceError, SoundDeviceOutput, open_output
from stemgui.playback.transport import Transport
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

FRESH_S = 5.0
"""The devices are listed afresh (PortAudio initialised again) at most this often, by the menu
and by the outputs opened for a device chosen but not listed or not opening (``fresh_due``):
that takes about a second on some Linux (ALSA) setups, and the menu opens at each hover over
it, an output at each song shown."""


def fresh_due() -> bool:
    """Whether the devices may be listed afresh now: PortAudio was not initialised again yet,
    or ``FRESH_S`` ago or longer (by ``sounddevice_output._devices.clock``)."""
    devices = sounddevice_output._devices
    last = devices.initialised_at
    return last is None or devices.clock() - last >= FRESH_S


@dataclass(frozen=True)
class OutputDevice:
    """One output device as PortAudio lists it now.

    ``index``: PortAudio's number for it, good until PortAudio is initialised again;
    ``label``: what the user sees and the settings keep, ``name`` or "name (host API)".
    """

    index: int
    name: str
    hostapi: str
    label: str


def list_outputs(sd: Any, *, fresh: bool = True) -> list[OutputDevice]:
    """The devices of ``sd`` (the sounddevice module) that play, in PortAudio's order.

    ``fresh``: initialise PortAudio again first, so that a device plugged in since is listed
    (done only while none of our streams is open: terminating PortAudio would close them); else
    only if an output failed since (the list may be what failed). Empty when PortAudio cannot
    list them (it failed to initialise: opening then says why).
    """
    sounddevice_output._devices.refresh(sd, force=fresh)
    try:
        devices = list(sd.query_devices())
        hostapis = [api["name"] for api in sd.query_hostapis()]
    except sd.PortAudioError as error:
        logger.warning("listing the output devices: %s", error)
        return []
    outputs = [(i, d) for i, d in enumerate(devices) if d["max_output_channels"] > 0]
    several = len({d["hostapi"] for _, d in outputs}) > 1
    listed: list[OutputDevice] = []
    seen: dict[str, int] = {}
    for index, device in outputs:
        name, hostapi = str(device["name"]), str(hostapis[device["hostapi"]])
        label = f"{name} ({hostapi})" if several else name
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:  # two of one model on one host API: "Mixer", "Mixer #2"
            label = f"{label} #{seen[label]}"
        listed.append(OutputDevice(int(device.get("index", index)), name, hostapi, label))
    return listed


def find_output(devices: list[OutputDevice], label: str) -> OutputDevice | None:
    """The device of ``devices`` labelled ``label``; else one whose name, or name and host API,
    it is (a label saved while the outputs were listed under one host API, or under several);
    else, for "X #n" or "X (host API) #n", the one n-th device of its name on its host API
    that it names (``_nth_of_its_name``); else None."""
    for device in devices:
        if device.label == label:
            return device
    for device in devices:
        if label in _unnumbered(device):
            return device
    return _nth_of_its_name(devices, label)


def _nth_of_its_name(devices: list[OutputDevice], label: str) -> OutputDevice | None:
    """The device "X #n" or "X (host API) #n" names, saved while the outputs were listed under
    one host API or under several: the n-th device named X on its host API (that one, where
    given). None where none is, or where several host APIs have one (which was meant?)."""
    base, hash_, number = label.rpartition(" #")
    if not hash_ or not number.isdigit() or int(number) < 2:
        return None
    seen: dict[tuple[str, str], int] = {}
    fits = []
    for device in devices:
        key = (device.name, device.hostapi)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == int(number) and base in _unnumbered(device):
            fits.append(device)
    return fits[0] if len(fits) == 1 else None


def _unnumbered(device: OutputDevice) -> tuple[str, str]:
    """Its label without " #n", with one host API listed and with several."""
    return device.name, f"{device.name} ({device.hostapi})"


class ChosenOutput:
    """Opens the player's outputs (an ``OutputFactory``) on the device chosen.

    Args:
        label: the chosen device's label; "" for the system default.
        on_missing: called with the label when the chosen device is not listed (it is not
            connected): the output then opens on the system default, and the choice stays, so
            that the device is used again once it is back.
        on_busy: called with the label when the chosen device is listed but does not open
            (another program holds it): the output then opens on the system default too.
    """

    def __init__(
        self,
        label: str = "",
        on_missing: Callable[[str], None] | None = None,
        on_busy: Callable[[str], None] | None = None,
    ) -> None:
        self.label = label
        self.on_missing = on_missing
        self.on_busy = on_busy

    def __call__(
        self, stemset: StemSet, mixer: HasGains, transport: Transport
    ) -> SoundDeviceOutput:
        """An output for ``stemset`` on the chosen device, found by its label in PortAudio's
        list, or in a fresh one where it does not open or is not there, at most every
        ``FRESH_S`` (plugged in, pulled out or let go since PortAudio listed it: each song shown
        opens an output, and a fresh list can take a second). On the system default, saying so
        (``on_missing``, ``on_busy``), where it is not listed or does not open."""
        if not self.label:
            return open_output(stemset, mixer, transport)
        sd = sounddevice_output.import_sounddevice()

        def on(device: OutputDevice) -> SoundDeviceOutput:
            devices = sounddevice_output._devices
            stale = devices.stale
            try:
                return open_output(
                    stemset, mixer, transport, device=device.index, name=device.label
                )
            except AudioDeviceError:  # the list is read afresh here, at most every FRESH_S,
                devices.stale = stale  # not at each open after (the default's, next song's)
                raise

        failed: AudioDeviceError | None = None
        for fresh in (False, True):  # PortAudio's list, then one read afresh where it is due
            if fresh and not fresh_due():  # plugged in, pulled out or let go since?
                break
            device = find_output(list_outputs(sd, fresh=fresh), self.label)
            failed = None
            if device is not None:
                try:
                    return on(device)
                except AudioDeviceError as error:
                    failed = error
        if failed is not None:
            logger.warning("%s The system default plays instead.", failed)
            if self.on_busy is not None:
                self.on_busy(self.label)
        else:
            logger.warning(
                "output device %r is not connected: the system default plays", self.label
            )
            if self.on_missing is not None:
                self.on_missing(self.label)
        return open_output(stemset, mixer, transport)
