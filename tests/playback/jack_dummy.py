"""Real PortAudio output in real time without a sound card: a JACK server on its dummy driver.

ALSA's null PCM (``tests/playback/alsa_null``) takes frames as fast as they come, so nothing
that depends on the device's pace can be seen on it: the frame at the speakers behind the
frames sent (the DAC time), the callbacks of a song playing for a second. JACK's dummy driver
runs its periods on a timer, as a sound card runs them on its clock, and PortAudio (built with
JACK, as Debian's libportaudio2 is) lists the server's ``system`` ports as a device with their
latency. ``JackServer`` starts ``jackd`` (the ``jackd2`` package, which ``make system-deps``
installs) under a name of the test's own, and initialises PortAudio again on it; ``close``
stops it. Where ``jackd`` is not installed, or not on Linux, the tests that use it skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest

PERIOD = 512
"""Frames of the dummy driver's period (11.6 ms at 44.1 kHz)."""
START_S = 10.0
"""How long ``jackd`` may take to answer before the test fails."""


class JackServer:
    """A ``jackd -d dummy`` at ``rate`` Hz, and PortAudio initialised with it listed.

    ``device``: PortAudio's number for the server's ports; ``sd``: the sounddevice module.
    """

    def __init__(self, sd: Any, name: str, rate: int) -> None:
        self.sd = sd
        self.name = name
        command = ["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", str(rate)]
        self.process = subprocess.Popen(
            [*command, "-p", str(PERIOD)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.device = self._listed()

    def _listed(self) -> int:
        """Initialise PortAudio again until it lists the server (it starts in about a second)."""
        from stemgui.playback import sounddevice_output

        deadline = time.monotonic() + START_S
        while True:
            sounddevice_output._devices.refresh(self.sd, force=True)
            for api in self.sd.query_hostapis():
                if api["name"].startswith("JACK") and api["devices"]:
                    return int(api["devices"][0])
            if self.process.poll() is not None:
                _, errors = self.process.communicate()
                pytest.fail(f"jackd did not start: {errors.decode(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                self.close()
                pytest.skip("PortAudio lists no JACK server: this one was built without JACK")
            time.sleep(0.1)

    def close(self) -> None:
        """Close the outputs a failed test left open, initialise PortAudio again without the
        server, then stop it: PortAudio 19.6 aborts the process when it is terminated after
        the JACK server it joined has gone (pa_jack.c: ``Terminate: Assertion `err == 0'``)."""
        from stemgui.playback import sounddevice_output

        for output in list(sounddevice_output._devices.open):
            output.close()
        os.environ["JACK_DEFAULT_SERVER"] = f"{self.name}-stopped"  # none: PortAudio joins none
        sounddevice_output._devices.refresh(self.sd, force=True)
        self.process.terminate()
        try:
            self.process.communicate(timeout=START_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()


def jack_server(monkeypatch: pytest.MonkeyPatch, rate: int) -> JackServer:
    """``JackServer`` of a name of this process's own, or a skip saying why there can be
    none."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the JACK dummy driver is set up on Linux only (make system-deps)")
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed: `make system-deps` installs jackd2")
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        pytest.skip(f"PortAudio cannot load ({error}): `make system-deps` installs libportaudio2")
    name = f"stemgui-test-{os.getpid()}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)  # the server PortAudio's JACK client joins
    return JackServer(sounddevice, name, rate)
