"""What the smoke test checks, apart from the window it drives: the bundled demo song and
default model are there, PortAudio loads, and the exported stems are one per stem, four, the
demo's length, finite and not silent. Each check raises ``SmokeFailure`` with the reason in
one line; none needs a window.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stemgui.ui.resources import demo_path

EXPECTED_STEMS = 4
LENGTH_TOLERANCE = 0.05  # seconds of difference allowed between a stem and the demo
SILENCE_RMS = 1e-4  # about -80 dBFS


class SmokeFailure(Exception):
    """A check of the smoke test failed; the message is the reason, in one line."""


@dataclass(frozen=True)
class Demo:
    """The song to separate and the length its stems must have."""

    path: Path
    seconds: float


def bundled_demo(root: Path | None = None) -> Demo:
    """The demo song shipped in ``resources/demo`` and its length from ``demo.json``.

    Raises:
        SmokeFailure: the song or its description is missing or unreadable.
    """
    song = demo_path(root)
    description = song.with_name("demo.json")
    if not song.is_file():
        raise SmokeFailure(f"the demo song is missing: {song}")
    try:
        seconds = float(json.loads(description.read_text(encoding="utf-8"))["seconds"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SmokeFailure(f"cannot read the demo's length from {description}: {error}") from error
    return Demo(song, seconds)


def bundled_default_model(models_dir: Path | None = None) -> str:
    """The name of the bundled model marked default in the manifest (else the first one).

    Raises:
        SmokeFailure: no manifest, or it lists no model.
    """
    from stemgui.errors import ModelLoadError
    from stemgui.separation.store import ModelStore

    store = ModelStore(bundled_dir=models_dir) if models_dir is not None else ModelStore()
    try:
        entries = store.manifest()
    except ModelLoadError as error:
        raise SmokeFailure(str(error)) from error
    if not entries:
        raise SmokeFailure(f"no bundled model: {store.bundled_dir / 'manifest.json'} lists none")
    chosen = [entry for entry in entries if entry.get("default")] or entries
    return str(chosen[0]["name"])


def check_stems(
    paths: Sequence[Path],
    names: Sequence[str],
    seconds: float,
    *,
    expected_count: int = EXPECTED_STEMS,
    tolerance: float = LENGTH_TOLERANCE,
    silence_rms: float = SILENCE_RMS,
) -> str:
    """Check exported stem files; return a short summary (the quietest stem's level).

    Each of ``names`` must have exactly one file among ``paths`` (named ``<stem>.<ext>``), there
    must be ``expected_count`` of them, and each must last ``seconds`` (± ``tolerance``), hold
    only finite samples and have an RMS level above ``silence_rms``.

    Raises:
        SmokeFailure: the first check that fails, with the file and the figures.
    """
    import numpy as np
    import soundfile as sf

    if len(names) != expected_count:
        raise SmokeFailure(f"expected {expected_count} stems, the model gave {len(names)}: {names}")
    by_stem = {Path(p).stem: Path(p) for p in paths}
    if sorted(by_stem) != sorted(names) or len(paths) != len(names):
        written = sorted(Path(p).name for p in paths)
        raise SmokeFailure(f"expected one file per stem {list(names)}, got {written}")
    levels = []
    for name in names:
        path = by_stem[name]
        if not path.is_file():
            raise SmokeFailure(f"{path} was reported written but does not exist")
        try:
            data, rate = sf.read(path, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise SmokeFailure(f"{path.name} is not readable audio: {error}") from error
        length = data.shape[0] / rate
        if abs(length - seconds) > tolerance:
            raise SmokeFailure(f"{path.name} lasts {length:.3f} s, the song {seconds:.3f} s")
        if not np.isfinite(data).all():
            raise SmokeFailure(f"{path.name} holds NaN or infinite samples")
        rms = float(np.sqrt(np.mean(np.square(data, dtype=np.float64))))
        if not rms > silence_rms:
            raise SmokeFailure(f"{path.name} is silent (RMS {rms:.2e} <= {silence_rms:.0e})")
        levels.append((rms, name))
    quietest, name = min(levels)
    return f"quietest stem {name} at {20 * math.log10(quietest):.1f} dBFS RMS"


def check_portaudio() -> str:
    """Load sounddevice's PortAudio library; return its version text.

    Raises:
        SmokeFailure: the library is not in the installation (or not on the system).
    """
    try:
        import sounddevice
    except OSError as error:
        raise SmokeFailure(f"PortAudio (sounddevice) does not load: {error}") from error
    text = str(sounddevice.get_portaudio_version()[1])  # "PortAudio V19.6.0-devel, revision …"
    return text.split(",")[0].removeprefix("PortAudio").strip()


def process_age() -> float | None:
    """Seconds since this process started (Linux, from ``/proc``); None where unknown."""
    try:
        stat = Path("/proc/self/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    # Field 22 (starttime, in clock ticks since boot) counted after the ")" that ends the name.
    fields = stat.rsplit(")", 1)[1].split()
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
