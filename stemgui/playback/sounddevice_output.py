"""The sound device output: a sounddevice (PortAudio) stream, and the device handling around it.

``open_output`` opens the default (or a named) device and raises ``AudioDeviceError`` with a
plain message when there is none. ``SoundDeviceOutput`` renders the chain (``chain.Output``) in
PortAudio's callback, downmixes for a mono-only device, notes when each block reaches the DAC
(``heard_position``: the latency behind the transport), and notices a device lost during
playback (the stream ends without being asked to, the callbacks stop, or the callback fails):
playback stops and ``error`` holds a message the UI shows on its next poll.

PortAudio lists the devices once, when it is initialised (at ``import sounddevice``): a device
plugged in later is not seen until it is initialised again (python-sounddevice#125). So after an
output failed to open or was lost, ``open_output`` initialises it again first, which is safe only
while none of our streams is open (terminating closes them all) and the JACK server PortAudio
joined is there (``jack_gone``: terminating aborts the process once it has gone)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from typing import Any

import numpy as np

from stemgui.errors import StemguiError
from stemgui.playback import jack_gone
from stemgui.playback.chain import Output
from stemgui.playback.renderer import HasGains
from stemgui.playback.transport import Transport
from stemgui.stems.stemset import StemSet

logger = logging.getLogger(__name__)

_DOWNMIX_FRAMES = 16384  # the stems' channels of one callback, before a mono device's downmix
NO_DEVICE_ADVICE = (
    "Connect speakers or headphones (or make them the system's sound output) and try again; "
    "separating and exporting work without sound."
)
DEVICE_LOST = f"The audio output stopped (was the device unplugged?). {NO_DEVICE_ADVICE}"
CHOSEN_DEVICE_ADVICE = (
    "Check that it is connected and switched on and that no other program holds it, then try "
    "again; or choose another in Playback ▸ Output device."
)


class AudioDeviceError(StemguiError):
    """No audio output could be opened or kept running; the message says why in plain words."""


class _DeviceList:
    """Whether PortAudio's device list may be out of date, and our streams open on it.

    PortAudio takes the list when it is initialised; a device plugged in or pulled out since is
    seen only after ``sounddevice._terminate(); sounddevice._initialize()``. Terminating closes
    every stream, so ``refresh`` does it only when none of ours is open, and only when the list
    may be what failed us (``stale``: an output failed to open or was lost) or is asked for
    afresh (``force``: the devices are listed for the user to choose one); never once the JACK
    server PortAudio joined has gone (``jack``). ``initialised_at``: when it last did (tried), by
    ``clock``; None: not yet."""

    clock = staticmethod(time.monotonic)  # tests set their own

    def __init__(self) -> None:
        self.stale = False
        self.open: weakref.WeakSet[SoundDeviceOutput] = weakref.WeakSet()
        self.initialised_at: float | None = None
        self.jack = jack_gone.JackWatch()  # the JACK server PortAudio joined: gone, it aborts

    def refresh(self, sd: Any, force: bool = False) -> None:
        """Initialise PortAudio again if the list is stale (or ``force``) and none of our
        streams is open."""
        if not (self.stale or force) or len(self.open) > 0:
            return
        terminate = getattr(sd, "_terminate", None)
        initialize = getattr(sd, "_initialize", None)
        if terminate is None or initialize is None or self.jack.gone():  # unknown; or abort
            return
        self.initialised_at = self.clock()
        try:
            if getattr(sd, "_initialized", 1) > 0:  # 0: an earlier initialise failed
                self.jack.leave()
                terminate()
            initialize()
        except sd.PortAudioError as error:  # opening then says what is wrong
            logger.warning("initialising PortAudio again: %s", error)
            return
        finally:
            self.jack.join(sd)
        self.stale = False
        logger.info("PortAudio initialised again: the device list is fresh")


_devices = _DeviceList()


class SoundDeviceOutput(Output):
    """Plays through a sounddevice ``OutputStream`` (PortAudio).

    Use ``open_output``, which turns a missing device into ``AudioDeviceError``.

    A device that plays mono only (a Bluetooth headset in call mode says it has one output
    channel, or refuses two with "Invalid number of channels") gets a mono stream: the callback
    renders the stems' channels into a buffer of its own and writes their mean. ``channels``
    says which it is.

    ``poll`` notices a device lost without a word: CoreAudio can leave the stream of a removed
    device "active" and simply never call back again. While the transport plays, no callback for
    ``stall_s`` seconds of polls in a row (``first_callback_s`` before the stream's first one,
    which some devices, Bluetooth ones, are slow to give) counts as the device lost.

    Args:
        stemset, mixer, transport: what to play, how loud, and where in the song.
        device: a sounddevice device index or name; None for the system default.
        blocksize: frames per callback; 0 lets the host pick.
        latency: sounddevice latency ("low", "high" or seconds).
        sounddevice: the sounddevice module (a fake one in tests).
    """

    stall_s = 2.0  # far above any block's latency ("high": a few hundred ms)
    first_callback_s = 5.0
    clock = staticmethod(time.monotonic)  # tests set their own

    def __init__(
        self,
        stemset: StemSet,
        mixer: HasGains,
        transport: Transport,
        *,
        device: int | str | None = None,
        blocksize: int = 0,
        latency: str | float = "high",
        sounddevice: Any,
    ) -> None:
        super().__init__(stemset, mixer, transport)
        self._sd = sounddevice
        self._closing = False
        self.underflows = 0
        # (DAC time, first frame, frames) of the runs handed to the device lately, a count of 0
        # for silence: which frame is at the speakers now, the latency behind the transport
        self._runs: deque[tuple[float, int, int]] = deque(maxlen=256)
        self._runs_lock = threading.Lock()
        self._block_time = 0.0  # the DAC time of the block being rendered
        self._now = 0.0  # the stream's time at its callback (0: not known)
        self._callbacks = 0  # counted by the callback, watched by poll
        self._seen_callbacks = 0
        self._quiet_since = 0.0  # since when poll sees no new callback while playing
        self._last_poll: float | None = None
        settings = {
            "samplerate": stemset.samplerate,
            "dtype": "float32",
            "device": device,
            "blocksize": blocksize,
            "latency": latency,
            "callback": self._callback,
            "finished_callback": self._finished,
        }
        self.channels = min(stemset.channels, self._device_channels(device))
        try:
            self.stream = sounddevice.OutputStream(channels=self.channels, **settings)
        except sounddevice.PortAudioError as error:
            if self.channels == 1 or "Invalid number of channels" not in str(error):
                raise
            logger.info("the output refuses %s channels (%s): mono", self.channels, error)
            self.channels = 1
            self.stream = sounddevice.OutputStream(channels=1, **settings)
        # (frames, stem channels) rendered before a downmix, or None: rendered in place
        self._wide: np.ndarray | None = None
        if self.channels != stemset.channels:
            self._wide = np.zeros((_DOWNMIX_FRAMES, stemset.channels), np.float32)
        _devices.open.add(self)

    def _device_channels(self, device: int | str | None) -> int:
        """How many output channels the device has, as far as PortAudio says (else "enough")."""
        query = getattr(self._sd, "query_devices", None)
        if query is None:
            return self.stemset.channels
        try:
            channels = int(query(device, "output")["max_output_channels"])
        except (self._sd.PortAudioError, ValueError, KeyError, TypeError) as error:
            logger.debug("output channels not known: %s", error)  # opening says what is wrong
            return self.stemset.channels
        return channels if channels >= 1 else self.stemset.channels

    def start(self) -> None:
        self._closing = False
        self.stream.start()

    def close(self) -> None:
        """Stop the stream and release the device (playback pauses)."""
        self._closing = True
        self.transport.pause()
        try:
            self.stream.close()
        except self._sd.PortAudioError as error:  # the device may already be gone
            logger.warning("closing the audio stream: %s", error)
        _devices.open.discard(self)

    def poll(self) -> str | None:
        """For the UI timer: the failure message, noticing a stream that died silently (ended,
        or still "active" with no callbacks coming while the transport plays)."""
        if self._error is None and not self._closing:
            lost = not self.stream.active or self._stalled()
            if lost:
                self._fail(DEVICE_LOST)
        return self._error

    def _stalled(self) -> bool:
        """True when the transport has played, not waiting, for ``stall_s`` (``first_callback_s``
        before the first callback) of polls without a callback."""
        now = self.clock()
        callbacks, transport = self._callbacks, self.transport
        # A gap between polls (the UI busy, the computer asleep) says nothing about callbacks.
        gap = self._last_poll is None or now - self._last_poll > self.stall_s / 2
        self._last_poll = now
        if gap or callbacks != self._seen_callbacks or not transport.playing or transport.waiting:
            self._seen_callbacks, self._quiet_since = callbacks, now
            return False
        limit = self.stall_s if callbacks > 0 else self.first_callback_s
        if now - self._quiet_since <= limit:
            return False
        logger.warning("no audio callback for %.1f s while playing", now - self._quiet_since)
        return True

    def heard_position(self) -> int | None:
        """The song frame the device plays now, or None in silence; when the host does not say
        when its blocks play, the song frame after the last one handed out (``played_position``).

        The transport runs ahead of the speakers by the stream's latency ("high": up to a few
        hundred ms), which a playhead drawn from it shows: a cue set on a beat heard lands early.
        """
        with self._runs_lock:
            runs = list(self._runs)
        if not runs:
            return self.played_position()
        try:
            now = float(self.stream.time)
        except (AttributeError, self._sd.PortAudioError):
            return self.played_position()
        rate = self.stemset.samplerate
        heard = next((i for i in range(len(runs) - 1, -1, -1) if runs[i][0] <= now), None)
        if heard is not None and runs[heard][2] > 0:
            when, start, count = runs[heard]
            return start + min(round((now - when) * rate), count)
        # silence at the speakers, or nothing yet: the first frame on its way there, if any
        later = runs if heard is None else runs[heard + 1 :]
        coming = next((run for run in later if run[2] > 0), None)
        return None if coming is None else coming[1]

    def _note_run(self, offset: int, start: int, count: int) -> None:
        with self._runs_lock:
            self._runs.append((self._block_time + offset / self.stemset.samplerate, start, count))

    def _played_out(self) -> None:
        """The song's end stops the transport once the device has played it too: its last
        frame reaches the speakers the latency after it was handed over (as soon as it is
        rendered where the host says no times)."""
        with self._runs_lock:
            last = next((run for run in reversed(self._runs) if run[2] > 0), None)
        rate = self.stemset.samplerate
        if last is None or not self._now or last[0] + last[2] / rate <= self._now:
            super()._played_out()

    def _fail(self, message: str) -> None:
        _devices.stale = True  # the device may be gone: PortAudio must list them again
        super()._fail(message)

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        self._callbacks += 1  # alive (``poll`` watches for this to stop)
        if status and status.output_underflow:
            self.underflows += 1  # a glitch, not a failure: the stream goes on
        # Some hosts give no DAC time (0): their blocks' times are not known.
        self._block_time = float(getattr(time, "outputBufferDacTime", 0.0) or 0.0)
        self._now = float(getattr(time, "currentTime", 0.0) or 0.0)
        known = self._block_time > 0
        try:
            if self._wide is None:
                filled = self.render(outdata, self._note_run if known else None)
            else:
                filled = self._render_mono(outdata, frames, known)
            if known and filled < frames and (not self._runs or self._runs[-1][2] > 0):
                self._note_run(filled, 0, 0)  # silence from here (paused, stopped, waiting)
        except Exception as error:
            outdata.fill(0.0)
            self._fail(f"Playback failed: {error}")
            raise self._sd.CallbackAbort from error

    def _render_mono(self, outdata: np.ndarray, frames: int, known: bool) -> int:
        """Render the stems' channels, write their mean into ``outdata`` (frames, 1)."""
        if self._wide is None or self._wide.shape[0] < frames:  # a host's larger block: once
            self._wide = np.zeros((frames, self.stemset.channels), np.float32)
        wide = self._wide[:frames]
        filled = self.render(wide, self._note_run if known else None)
        mono = outdata[:, 0]
        np.copyto(mono, wide[:, 0])
        for channel in range(1, wide.shape[1]):
            mono += wide[:, channel]
        mono *= np.float32(1.0 / wide.shape[1])
        return filled

    def _finished(self) -> None:
        if not self._closing:
            self._fail(DEVICE_LOST)


def import_sounddevice() -> Any:
    """The sounddevice module; ``AudioDeviceError`` when it or PortAudio is missing."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:  # OSError: the PortAudio library is missing
        raise AudioDeviceError(
            f"Sound output is not available ({error}). Install PortAudio "
            f"(libportaudio2 on Debian/Ubuntu). {NO_DEVICE_ADVICE}"
        ) from error
    jack_gone.guard_exit(sounddevice, lambda: _devices.jack)  # no abort at exit
    return sounddevice


def _other_rate(sd: Any, device: int | str | None, called: str, rate: int) -> str:
    """What to say of a device that refuses the stems' ``rate``: its own, where PortAudio
    says it (a JACK server's, a sound card's fixed one), and how to play on it."""
    try:
        own = int(sd.query_devices(device, "output")["default_samplerate"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError) as error:
        logger.debug("the output's rate not known: %s", error)
        own = 0
    plays = f"plays at {own} Hz, not" if own > 0 and own != rate else "does not play"
    return (
        f"{called} {plays} at the stems' {rate} Hz. Set it to {rate} Hz (in the system's sound "
        "settings, or in its sound server's: JACK, PipeWire), or choose another in Playback ▸ "
        "Output device."
    )


def open_output(
    stemset: StemSet,
    mixer: HasGains,
    transport: Transport,
    *,
    device: int | str | None = None,
    name: str = "",
    blocksize: int = 0,
    latency: str | float = "high",
    start: bool = True,
) -> SoundDeviceOutput:
    """Open (and by default start) a stream that plays ``stemset`` on a sound device.

    After an output failed to open or was lost, PortAudio lists the devices again first (when
    none of our streams is open), so that one plugged in since is found. ``name``: what the user
    calls ``device`` (a device chosen, ``output_devices.OutputDevice.label``); the messages
    then name it and say to check it or choose another.

    Raises:
        AudioDeviceError: PortAudio is missing, there is no output device (PortAudio then says
            'Error querying device -1'), or the device refuses the format (a rate of its own:
            the message says which, and to set it to the stems' or choose another).
    """
    sounddevice = import_sounddevice()
    _devices.refresh(sounddevice)
    advice = CHOSEN_DEVICE_ADVICE if name else NO_DEVICE_ADVICE
    called = f"The audio output device {name}" if name else "The audio output device"
    try:
        output = SoundDeviceOutput(
            stemset,
            mixer,
            transport,
            device=device,
            blocksize=blocksize,
            latency=latency,
            sounddevice=sounddevice,
        )
    except (sounddevice.PortAudioError, ValueError) as error:
        _devices.stale = True  # one may be plugged in before the next try
        logger.warning("no audio output: %s", error)  # PortAudio's words, for the log
        if "Invalid sample rate" in str(error):  # it is there, at a rate of its own
            rate = stemset.samplerate
            raise AudioDeviceError(_other_rate(sounddevice, device, called, rate)) from error
        # PortAudio's way of saying there is none (a busy device's message holds "-1" too)
        what = (
            "No audio output device was found"
            if "Error querying device -1" in str(error) and not name
            else f"{called} could not be opened ({error})"
        )
        raise AudioDeviceError(f"{what}. {advice}") from error
    if start:
        try:
            output.start()
        except sounddevice.PortAudioError as error:
            output.close()
            _devices.stale = True
            raise AudioDeviceError(f"{called} could not start ({error}). {advice}") from error
    logger.info(
        "audio output open: %s Hz, %s channels, device %s",
        stemset.samplerate,
        output.channels,
        name or (device if device is not None else "default"),
    )
    return output
