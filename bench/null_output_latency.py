"""The output latency the real PortAudio reports for ALSA's null PCM, and what it primes.

Plays a second of three noise stems through ``open_output`` on the recording null device of
the real-output tests (``tests/playback/alsa_null.py``), at each sample rate and latency
setting, and prints: the latency PortAudio reports (``stream.latency``), the frames of each
callback, the silence PortAudio wrote before the song's first frame (the buffer it primes), and
how far ahead of the stream's time the callbacks said their blocks would play (DAC time).

    python bench/null_output_latency.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from stemgui.playback.sounddevice_output import import_sounddevice, open_output
from stemgui.playback.transport import Transport
from stemgui.stems.mixer import MixerState
from stemgui.stems.stemset import StemSet
from tests.playback.alsa_null import NullDevices, callbacks_on, wait_until


def measure(devices: NullDevices, rate: int, latency: str) -> str:
    data = (0.05 * np.random.default_rng(0).standard_normal((3, 2, rate))).astype(np.float32)
    stems = StemSet(("drums", "bass", "vocals"), rate, data)
    transport = Transport(stems.frames, rate)
    transport.play()
    output = open_output(stems, MixerState(stems.names), transport, latency=latency)
    wait_until(lambda: transport.ends == 1, "the song's end")
    callbacks_on(output, 10)
    ahead = output._block_time - output._now  # of the last callback
    output.close()
    heard = devices.heard()
    primed = int(np.flatnonzero(np.any(heard != 0.0, axis=1))[0])
    per_callback = (len(heard) - primed) / output._callbacks
    reported = output.stream.latency
    return (
        f"{rate} Hz, latency={latency!r}: reported {reported * 1000:.1f} ms "
        f"({round(reported * rate)} frames), {per_callback:.0f} frames a callback, "
        f"{primed} frames of silence primed before the song ({primed / rate * 1000:.1f} ms), "
        f"DAC time - stream time {ahead * 1000:.1f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CONFIG_HOME"] = folder  # alsa-lib reads our asoundrc there
        devices = NullDevices(import_sounddevice(), Path(folder), Path(folder))
        try:
            for rate in (44100, 48000):
                for latency in ("low", "high"):
                    print(measure(devices, rate, latency))
        finally:
            devices.close()


if __name__ == "__main__":
    main()
