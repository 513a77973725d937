"""Offline rendering of parts with FluidSynth, in-process (pyfluidsynth + ``libfluidsynth3``).

A soundfont is loaded once per process and kept (loading FluidR3_GM takes seconds; TimGM6mb a
tenth of one). Each render starts from a reset synth with FluidSynth's own reverb and chorus off
(the mixer adds its own), so the same parts always give the same samples. Events are sent
between calls to ``fluid_synth_write_float``; FluidSynth applies them on its next 64-sample
block, so note times are exact to about 1.5 ms.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.synth.notes import Part

log = logging.getLogger(__name__)

SAMPLERATE = 44100
DRUM_CHANNEL = 9
_BLOCK = 64  # FluidSynth's rendering block, in frames
_POLYPHONY = 256
# Debian's fluid-soundfont-gm first: as good as MuseScore General (which derives from it)
# and uncompressed, so it loads in a second; the sf3 needs ~30 s to decode in full.
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)


def bundled_soundfont() -> Path:
    """TimGM6mb, the small GM soundfont shipped inside the ``pretty_midi`` wheel (for tests)."""
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def default_soundfont() -> Path:
    """The first soundfont found: FluidR3 GM, MuseScore General, else TimGM6mb."""
    for path in SYSTEM_SOUNDFONTS:
        if path.exists():
            return path
    return bundled_soundfont()


class FluidRenderer:
    """One FluidSynth synthesizer with one soundfont loaded; renders parts to float32 stereo."""

    def __init__(
        self, soundfont: str | Path, samplerate: int = SAMPLERATE, preload: bool | None = None
    ) -> None:
        """``preload``: decode every sample at load time (None: only for ``.sf2`` files).

        An sf3 file (Vorbis-compressed, like MuseScore General) takes about half a minute to
        decode in full; without preloading it loads at once and each render decodes the
        presets it selects (a fraction of a second per render).
        """
        import fluidsynth

        self.soundfont = Path(soundfont)
        if not self.soundfont.is_file():
            raise FileNotFoundError(f"{self.soundfont}: no such soundfont")
        self.samplerate = samplerate
        if preload is None:
            preload = self.soundfont.suffix.lower() != ".sf3"
        self._synth = fluidsynth.Synth(
            gain=0.5,
            samplerate=float(samplerate),
            **{
                "synth.reverb.active": 0,
                "synth.chorus.active": 0,
                "synth.polyphony": _POLYPHONY,
                "synth.cpu-cores": 1,
                "synth.dynamic-sample-loading": 0 if preload else 1,
            },
        )
        self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            raise ValueError(
                f"{self.soundfont}: FluidSynth cannot load this soundfont (damaged, or not a "
                "soundfont); name an .sf2 or .sf3 file"
            )
        # Every part falls back to preset 0 of its bank (see _select): without it, silence.
        for bank, kind, silent in (
            (128, "drum kit", "the drums"),
            (0, "melodic preset", "the bass and other (and vocals sung by FluidSynth)"),
        ):
            if self._synth.sfpreset_name(self._sfid, bank, 0) is None:
                self._synth.delete()
                raise ValueError(
                    f"{self.soundfont}: has no General MIDI {kind} (bank {bank}, preset 0), so "
                    f"{silent} would be silent; name a General MIDI soundfont (such as FluidR3 GM)"
                )
        self._write = fluidsynth.cfunc(
            "fluid_synth_write_float",
            ctypes.c_int,
            ("synth", ctypes.c_void_p, 1),
            ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1),
            ("loff", ctypes.c_int, 1),
            ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1),
            ("roff", ctypes.c_int, 1),
            ("rincr", ctypes.c_int, 1),
        )
        self._lock = threading.Lock()
        self._written = 0

    def _select(self, channel: int, part: Part) -> None:
        bank = 128 if part.is_drum else 0
        if self._synth.program_select(channel, self._sfid, bank, part.program) != 0:
            log.debug(
                "%s has no preset %d:%d; using %d:0", self.soundfont.name, bank, part.program, bank
            )
            self._synth.program_select(channel, self._sfid, bank, 0)

    def render(self, parts: Sequence[Part], tempo: float, frames: int) -> np.ndarray:
        """Play ``parts`` together (one MIDI channel each): float32 (2, frames)."""
        if len(parts) > 15:
            raise ValueError("at most 15 parts render together")
        beat = 60.0 / tempo
        events = []  # (frame, kind, channel, key, velocity); kind 0 (note-off) sorts first
        melodic = iter(c for c in range(16) if c != DRUM_CHANNEL)
        with self._lock:
            self._reset()
            for part in parts:
                channel = DRUM_CHANNEL if part.is_drum else next(melodic)
                self._select(channel, part)
                for note in part.notes:
                    on = round(note.start * beat * self.samplerate)
                    off = round(note.end * beat * self.samplerate)
                    if on >= frames:
                        continue
                    events.append((on, 1, channel, note.pitch, note.velocity))
                    if not part.is_drum:
                        events.append((max(off, on + 1), 0, channel, note.pitch, 0))
            events.sort()
            out = np.zeros((2, frames), np.float32)
            position = 0
            for frame, kind, channel, key, velocity in [*events, (frames, -1, 0, 0, 0)]:
                frame = min(frame, frames)
                if frame > position:
                    self._fill(out, position, frame)
                    position = frame
                if kind == 1:
                    self._synth.noteon(channel, key, velocity)
                elif kind == 0:
                    self._synth.noteoff(channel, key)
        return out

    def _reset(self) -> None:
        """Silence every voice and realign FluidSynth's 64-frame blocks with our frame 0.

        FluidSynth renders in blocks of 64 frames and hands out what is left of the last block
        on the next call; it also applies calls like a reset at the next block. Finishing the
        block, resetting and rendering a few silent blocks leaves a synth in a known state.
        """
        scratch = np.zeros((2, 4 * _BLOCK), np.float32)
        self._fill(scratch, 0, (-self._written) % _BLOCK)
        self._silence(scratch)
        # A voice keeps some state (its filter's last coefficients) from the note it last
        # played: filling (almost) every voice with the same notes gives them all the same
        # history, whatever was rendered before.
        for channel in range(16):
            if channel != DRUM_CHANNEL:
                self._synth.program_select(channel, self._sfid, 0, 0)
        for key in range(36, 96):
            for channel in range(16):
                # Stop a note short of full: a preset may start two voices per note.
                if self._synth.get_active_voice_count() >= _POLYPHONY - 2:
                    break
                if channel != DRUM_CHANNEL:
                    self._synth.noteon(channel, key, 100)
        self._fill(scratch, 0, 2 * _BLOCK)
        self._silence(scratch)

    def _silence(self, scratch: np.ndarray) -> None:
        self._synth.system_reset()
        for channel in range(16):
            self._synth.all_sounds_off(channel)
        self._fill(scratch, 0, 4 * _BLOCK)

    def _fill(self, out: np.ndarray, start: int, stop: int) -> None:
        if stop <= start:
            return
        self._written += stop - start
        left = out[0, start:stop]
        right = out[1, start:stop]
        status = self._write(
            self._synth.synth,
            stop - start,
            left.ctypes.data,
            0,
            1,
            right.ctypes.data,
            0,
            1,
        )
        if status != 0:
            raise RuntimeError("FluidSynth failed to render")

    def close(self) -> None:
        self._synth.delete()


_renderers: dict[tuple[Path, int], FluidRenderer] = {}


def renderer(
    soundfont: str | Path, samplerate: int = SAMPLERATE, preload: bool | None = None
) -> FluidRenderer:
    """The process's renderer for ``soundfont`` (loaded on first use, then kept).

    ``preload`` applies when the soundfont is first loaded (see :class:`FluidRenderer`).
    """
    key = (Path(soundfont).resolve(), samplerate)
    if key not in _renderers:
        log.info("loading soundfont %s", key[0])
        _renderers[key] = FluidRenderer(key[0], samplerate, preload)
    return _renderers[key]
