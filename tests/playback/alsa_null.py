"""Real PortAudio output without a sound card: ALSA devices built on alsa-lib's null PCM.

alsa-lib (libasound2, which libportaudio2 depends on) reads ``$XDG_CONFIG_HOME/alsa/asoundrc``
among its configuration files, and every test has an ``XDG_CONFIG_HOME`` of its own
(``tests/conftest.py``). ``NullDevices`` writes one there that defines, on the ``null`` PCM
(which takes any format, rate and channel count and plays nothing):

- ``stemgui_tap``, also the system default: alsa-lib's ``file`` plugin in front of ``null``,
  writing every frame PortAudio hands the device to ``heard.raw`` (interleaved float32);
- ``stemgui_chosen``: the same, writing to ``chosen.raw`` (a device the user chooses);
- ``stemgui_pipe``: the same, writing to ``head -c LOST_AFTER_BYTES``: once ``head`` has read
  that much and exits, the device's writes fail and PortAudio ends the stream, as it does for
  a device unplugged while it plays.

then initialises PortAudio again (as the app does: ``sounddevice_output._devices.refresh``),
which reads the configuration afresh. Nothing here needs a Debian package beyond
``libportaudio2``: CI (``.ci/run``: ``make system-deps test``) gets these devices on any Linux.
ALSA exists only on Linux: elsewhere the tests that use them skip.

The null PCM is not paced: it takes frames as fast as the callback renders them (hundreds of
times real time), so a second of song plays in milliseconds and an open stream keeps a core
busy. Tests keep streams open only as long as they wait for something, and wait on what the
output did (callbacks, laps, the song's end), never on the clock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

LOST_AFTER_BYTES = 100_000
"""What the ``stemgui_pipe`` device takes before it is "unplugged" (well under a second)."""
WAIT_S = 10.0
"""How long a test waits for the output to do something before it fails (a hung stream)."""


class NullDevices:
    """The ALSA devices above, PortAudio initialised on them; ``close`` takes them away again.

    ``sd``: the sounddevice module; ``folder``: where the devices write what they are given.
    """

    def __init__(self, sd: Any, config_home: Path, folder: Path) -> None:
        self.sd = sd
        self.folder = folder
        tap, chosen = folder / "heard.raw", folder / "chosen.raw"
        self.asoundrc = config_home / "alsa" / "asoundrc"
        self.asoundrc.parent.mkdir(parents=True, exist_ok=True)
        self.asoundrc.write_text(
            "# stemgui's real-output tests (tests/playback/alsa_null.py)\n"
            'pcm.!default "stemgui_tap"\n'
            f'pcm.stemgui_tap {{ type file slave.pcm "null" file "{tap}" format "raw" }}\n'
            f'pcm.stemgui_chosen {{ type file slave.pcm "null" file "{chosen}" format "raw" }}\n'
            'pcm.stemgui_pipe { type file slave.pcm "null" format "raw"\n'
            f'    file "|head -c {LOST_AFTER_BYTES} >/dev/null" }}\n',
            encoding="utf-8",
        )
        self.reinitialise()

    def reinitialise(self) -> None:
        """PortAudio lists the devices afresh (none of the app's streams may be open)."""
        from stemgui.playback import sounddevice_output

        sounddevice_output._devices.refresh(self.sd, force=True)

    def index(self, name: str) -> int:
        """PortAudio's number for the device ``name``."""
        names = [device["name"] for device in self.sd.query_devices()]
        assert name in names, f"ALSA's {name} is not listed: {names}"
        return names.index(name)

    def heard(self, device: str = "heard", channels: int = 2) -> np.ndarray:
        """What the default device (``"heard"``) or ``stemgui_chosen`` (``"chosen"``) was
        given, (frames, channels) float32; empty if it was given nothing."""
        path = self.folder / f"{device}.raw"
        if not path.exists():
            return np.zeros((0, channels), np.float32)
        return np.fromfile(path, np.float32).reshape(-1, channels)

    def close(self) -> None:
        """Close the outputs a failed test left open (the null PCM would keep a core busy), take
        the devices away and list the devices again: this machine's own, for the tests after."""
        from stemgui.playback import sounddevice_output

        for output in list(sounddevice_output._devices.open):
            output.close()
        self.asoundrc.unlink(missing_ok=True)
        self.reinitialise()


def null_devices(tmp_path: Path) -> NullDevices:
    """``NullDevices`` in the test's ``XDG_CONFIG_HOME``, or a skip saying why there can be none."""
    if not sys.platform.startswith("linux"):
        pytest.skip("ALSA's null PCM exists on Linux only; the fake PortAudio tests cover the rest")
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        pytest.skip(f"PortAudio cannot load ({error}): `make system-deps` installs libportaudio2")
    if "ALSA" not in [api["name"] for api in sounddevice.query_hostapis()]:
        pytest.skip("this PortAudio was built without ALSA: no null PCM to play on")
    return NullDevices(sounddevice, Path(os.environ["XDG_CONFIG_HOME"]), tmp_path)


def wait_until(condition: Callable[[], object], what: str) -> None:
    """Return once ``condition()`` is true; fail, saying ``what`` did not happen, after
    ``WAIT_S`` (a stream that stopped calling back)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"the real output never got to: {what}"
        time.sleep(0.002)


def callbacks_on(output: Any, count: int) -> None:
    """Wait for ``count`` more callbacks of ``output`` (``SoundDeviceOutput``): whatever the
    transport was told before has reached the device."""
    target = output._callbacks + count
    wait_until(lambda: output._callbacks >= target, f"{count} more callbacks")


def sounds(heard: np.ndarray) -> list[np.ndarray]:
    """The runs of ``heard`` (frames, channels) between silences: song frames are never all
    exactly 0.0 (the fade-in's first is the song's over 220), silence always is."""
    loud = np.any(heard != 0.0, axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    return [heard[start:stop] for start, stop in zip(edges[::2], edges[1::2])]
