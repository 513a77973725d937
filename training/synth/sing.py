"""The sung vocal stem: a MusicXML score of the vocal line, sung by Sinsy (``pysinsy``).

Sinsy is an HMM singing synthesizer; the ``pysinsy`` wheel (an sdist built with cmake and g++)
carries one HTS voice, ``nitech_jp_song070_f001`` (a Japanese female singer), so the lyrics are
Japanese kana (see :mod:`training.synth.melody`). It sings at 48 kHz, aligned with the score
from its first beat; :func:`sing` resamples to 44.1 kHz.

``pysinsy`` 0.0.5 imports ``pkg_resources`` in its ``__init__``, which setuptools ≥ 81 no longer
ships; :func:`_sinsy_module` therefore loads its compiled extension directly, without the
package's ``__init__``. When ``pysinsy`` is missing, :func:`available` is False and songs use a
FluidSynth voice program instead (recipe ``vocal_engine="fluidsynth"``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import math
import tempfile
import threading
from functools import cache
from pathlib import Path
from types import ModuleType
from xml.sax.saxutils import escape

import numpy as np

from training.synth.notes import Part

log = logging.getLogger(__name__)

SINSY_SAMPLERATE = 48000
DIVISIONS = 4  # MusicXML divisions per quarter note: sixteenth-note resolution
_STEPS = (
    ("C", 0), ("C", 1), ("D", 0), ("E", -1), ("E", 0), ("F", 0),
    ("F", 1), ("G", 0), ("A", -1), ("A", 0), ("B", -1), ("B", 0),
)  # fmt: skip
_TYPES = {1: ("16th", 0), 2: ("eighth", 0), 3: ("eighth", 1), 4: ("quarter", 0)}
_TYPES |= {6: ("quarter", 1), 8: ("half", 0), 12: ("half", 1), 16: ("whole", 0)}
_lock = threading.Lock()


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("pysinsy")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _sinsy_module() -> ModuleType:
    """pysinsy's compiled ``sinsy`` extension, loaded without running ``pysinsy/__init__``."""
    root = _package_dir()
    if root is None:
        raise ImportError("pysinsy is not installed")
    library = next(root.glob("sinsy.*"), None)
    if library is None:
        raise ImportError(f"no compiled sinsy extension in {root}")
    loader = importlib.machinery.ExtensionFileLoader("pysinsy.sinsy", str(library))
    spec = importlib.util.spec_from_file_location("pysinsy.sinsy", library, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def default_voice() -> Path:
    """The HTS voice inside the pysinsy wheel (what ``pysinsy.get_default_htsvoice()`` names)."""
    root = _package_dir()
    if root is None:
        raise ImportError("pysinsy is not installed")
    return root / "htsvoice" / "nitech_jp_song070_f001.htsvoice"


def unavailable() -> str | None:
    """Why Sinsy cannot be loaded with its bundled voice; None when it can."""
    try:
        _sinsy_module()
        voice = default_voice()
    except ImportError as error:
        return str(error)
    return None if voice.is_file() else f"its voice {voice} is not there"


def available() -> bool:
    """True when Sinsy can be loaded with its bundled voice."""
    reason = unavailable()
    if reason is not None:
        log.info("Sinsy unavailable (%s): vocals fall back to a FluidSynth voice", reason)
    return reason is None


@cache
def _singer():
    module = _sinsy_module()
    root = _package_dir()
    singer = module.Sinsy()
    if not singer.setLanguages("j", str(root / "_dic")):
        raise RuntimeError("Sinsy cannot load its Japanese dictionary")
    if not singer.loadVoices(str(default_voice())):
        raise RuntimeError(f"Sinsy cannot load the voice {default_voice()}")
    return singer


def musicxml(part: Part, tempo: float, bars: int) -> str:
    """The vocal ``part`` as a one-part MusicXML score in 4/4 with one syllable per note.

    Notes must lie on the sixteenth-note grid and not cross barlines; gaps become rests. The
    score opens with one extra bar of rest (the part's beat 0 is the score's beat 4).
    """
    bars += 1  # a bar of rest first: Sinsy wants a rest before the first note (for breath)
    measures: list[list[str]] = [[] for _ in range(bars)]
    cursor = [0] * bars  # divisions written so far in each measure
    bar_divisions = 4 * DIVISIONS

    def rest(bar: int, length: int) -> None:
        measures[bar].append(f"<note><rest/><duration>{length}</duration></note>")

    for note in sorted(part.notes, key=lambda n: n.start):
        start = round((note.start + 4) * DIVISIONS)
        length = round(note.duration * DIVISIONS)
        bar, offset = divmod(start, bar_divisions)
        if bar >= bars or length <= 0:
            continue
        if offset < cursor[bar] or offset + length > bar_divisions:
            raise ValueError(f"vocal note at beat {note.start} overlaps or crosses a barline")
        if offset > cursor[bar]:
            rest(bar, offset - cursor[bar])
        step, alter = _STEPS[note.pitch % 12]
        octave = note.pitch // 12 - 1
        pitch = f"<step>{step}</step>" + (f"<alter>{alter}</alter>" if alter else "")
        kind = ""
        if length in _TYPES:
            name, dots = _TYPES[length]
            kind = f"<type>{name}</type>" + "<dot/>" * dots
        lyric = (
            f"<lyric><syllabic>single</syllabic><text>{escape(note.lyric or 'ら')}</text></lyric>"
        )
        measures[bar].append(
            f"<note><pitch>{pitch}<octave>{octave}</octave></pitch>"
            f"<duration>{length}</duration>{kind}{lyric}</note>"
        )
        cursor[bar] = offset + length
    body = []
    for index, notes in enumerate(measures):
        if cursor[index] < bar_divisions:
            rest(index, bar_divisions - cursor[index])
        head = ""
        if index == 0:
            head = (
                f"<attributes><divisions>{DIVISIONS}</divisions><key><fifths>0</fifths></key>"
                "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
                f'<direction placement="above"><sound tempo="{tempo:g}"/></direction>'
            )
        body.append(f'<measure number="{index + 1}">{head}{"".join(notes)}</measure>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<score-partwise version="3.1"><part-list><score-part id="P1">'
        "<part-name>Voice</part-name></score-part></part-list>"
        f'<part id="P1">{"".join(body)}</part></score-partwise>\n'
    )


def resample(signal: np.ndarray, source: int, target: int, frames: int) -> np.ndarray:
    """Band-limited resampling by FFT (zero-phase; fine for offline, whole-signal use).

    (..., time) -> (..., frames): the spectrum is cut (or padded) to the target rate's band,
    then the result is cut or zero-padded to ``frames``.
    """
    if signal.shape[-1] == 0:
        return np.zeros((*signal.shape[:-1], frames), np.float32)
    # Zero-pad to down * 2**k frames so both FFT lengths factor into small primes (fast).
    common = math.gcd(source, target)
    up, down = target // common, source // common
    blocks = 1 << max(0, math.ceil(math.log2(signal.shape[-1] / down)))
    length, new_length = down * blocks, up * blocks
    signal = np.pad(signal, [(0, 0)] * (signal.ndim - 1) + [(0, length - signal.shape[-1])])
    spectrum = np.fft.rfft(signal, axis=-1)
    bins = new_length // 2 + 1
    if bins <= spectrum.shape[-1]:
        spectrum = spectrum[..., :bins]
    else:
        pad = [(0, 0)] * (spectrum.ndim - 1) + [(0, bins - spectrum.shape[-1])]
        spectrum = np.pad(spectrum, pad)
    out = np.fft.irfft(spectrum, n=new_length, axis=-1) * (new_length / length)
    if new_length >= frames:
        out = out[..., :frames]
    else:
        out = np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, frames - new_length)])
    return out.astype(np.float32)


def sing(part: Part, tempo: float, bars: int, frames: int, samplerate: int = 44100) -> np.ndarray:
    """Sinsy singing ``part``: float32 (2, frames) at ``samplerate`` (the same on both sides)."""
    if not any(note.lyric for note in part.notes):
        return np.zeros((2, frames), np.float32)
    score = musicxml(part, tempo, bars)
    with _lock, tempfile.TemporaryDirectory(prefix="stemgui-sinsy-") as folder:
        path = Path(folder) / "vocal.xml"
        path.write_text(score, encoding="utf-8")
        singer = _singer()
        if not singer.loadScoreFromMusicXML(str(path)):
            raise RuntimeError("Sinsy rejected the vocal score")
        try:
            wave, rate = singer.synthesize()
        finally:
            singer.clearScore()
    lead = round(4 * 60.0 / tempo * rate)  # the bar of rest that opens the score
    mono = np.asarray(wave, np.float64)[lead:] / 32768.0
    mono = resample(mono, int(rate), samplerate, frames)
    return np.stack([mono, mono])
