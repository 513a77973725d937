"""Take ``docs/screenshot.png``: the real window, under Xvfb, with a separated song loaded.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/make_screenshot.py [OUT] [--dark]

Everything is real: the bundled demo song separated by the bundled model on the worker thread,
then two generated songs (drums, bass, chords, a sung-like melody) queued behind it; the shot is
taken while the second one separates. Playback goes to a null output (Xvfb has no sound card).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 44100
NAMES = ("drums", "bass", "other", "vocals")
SECONDS = 40.0


def synth_song(seed: int, seconds: float = SECONDS) -> np.ndarray:
    """(4, 2, frames) float32 stems of a simple 4/4 song at 100 bpm."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * RATE)
    t = np.arange(frames) / RATE
    beat = 60 / 100
    stems = np.zeros((4, 2, frames), np.float32)
    # drums: kick on 1 and 3, snare (noise) on 2 and 4, hats on eighths
    for k, start in enumerate(np.arange(0, seconds, beat / 2)):
        a = int(start * RATE)
        n = min(int(0.25 * RATE), frames - a)
        env = np.exp(-np.arange(n) / (0.03 * RATE))
        if k % 4 == 0:
            hit = (
                0.8
                * np.sin(2 * np.pi * 55 * np.arange(n) / RATE)
                * np.exp(-np.arange(n) / (0.08 * RATE))
            )
        elif k % 4 == 2:
            hit = 0.5 * rng.standard_normal(n) * env
        else:
            hit = 0.12 * rng.standard_normal(n) * env * 0.5
        stems[0, :, a : a + n] += hit
    # bass: root notes, one per beat
    roots = [55.0, 55.0, 73.4, 82.4, 61.7, 61.7, 73.4, 49.0]
    freq = np.array([roots[int(x / beat) % len(roots)] for x in np.arange(0, seconds, 1 / 200)])
    f = np.repeat(freq, RATE // 200)[:frames]
    f = np.pad(f, (0, frames - f.size), mode="edge")
    phase = 2 * np.pi * np.cumsum(f) / RATE
    pluck = np.exp(-((t % beat) / 0.35))
    stems[1] = 0.45 * np.sin(phase) * pluck
    # other: sustained chords, swelling per bar, entering after 4 bars
    chord = sum(np.sin(2 * np.pi * m * 220 * t) for m in (1, 1.26, 1.5))
    swell = 0.5 - 0.5 * np.cos(2 * np.pi * t / (4 * beat))
    stems[2] = 0.12 * chord * swell * (t > 4 * beat * 2)
    # vocals: phrases of a vibrato melody with gaps
    melody = [440, 494, 523, 587, 523, 494, 440, 392]
    note = np.array([melody[int(x / beat) % 8] for x in t[:: RATE // 100]])
    nf = np.repeat(note, RATE // 100)[:frames]
    nf = np.pad(nf, (0, frames - nf.size), mode="edge") * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    voice = np.sin(2 * np.pi * np.cumsum(nf) / RATE) + 0.3 * np.sin(
        4 * np.pi * np.cumsum(nf) / RATE
    )
    phrase = ((t // (8 * beat)) % 2 == 1) * (
        0.6 + 0.4 * np.sin(np.pi * (t % (8 * beat)) / (8 * beat))
    )
    stems[3] = 0.3 * voice * phrase
    stems[:, 1] *= 0.9  # a little stereo difference
    stems *= 0.55  # the mix stays below full scale
    return stems.astype(np.float32)


def main() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from stemgui.playback.null_output import NullOutput
    from stemgui.ui import settings as S
    from stemgui.ui.queue import JobState
    from stemgui.ui.smoke import throwaway_folder
    from stemgui.ui.window import MainWindow

    args = [a for a in sys.argv[1:] if a != "--dark"]
    out_path = Path(args[0] if args else Path(__file__).with_name("screenshot.png"))
    app = QApplication([sys.argv[0]])
    with throwaway_folder("stemgui-shot-") as (settings, folder):  # the songs made go too
        demo = Path(__file__).resolve().parents[1] / "resources" / "demo" / "demo.mp3"
        paths = [demo]
        for i, (title, seconds) in enumerate([("Night Bus", 37.0), ("Harbour Lights", 35.0)]):
            path = folder / f"{title}.wav"
            sf.write(path, synth_song(i + 1, seconds).sum(axis=0).T, RATE, subtype="FLOAT")
            paths.append(path)
        settings.set(S.DEVICE, "cpu")
        settings.set(S.THEME, "dark" if "--dark" in sys.argv else "light")
        window = MainWindow(settings, output_factory=lambda s, m, t: NullOutput(s, m, t))
        window.resize(1280, 800)
        window.show()
        window.add_paths(paths)
        first, second, _third = window.controller.model.jobs

        def stage() -> None:
            if first.state is JobState.FAILED:
                print(f"the demo failed: {first.error}")
                app.exit(1)
                return
            if second.fraction < 0.4:
                QTimer.singleShot(200, stage)
                return
            window.select(first)
            window.show_job(first)
            rows = window.stems.rows
            rows["vocals"].gain.setValue(-3)
            rows["other"].mute.setChecked(True)
            rows["bass"].gain.setValue(2)
            frames = first.stemset.frames
            window.player.set_loop(int(frames * 0.30), int(frames * 0.45))
            window.player.seek(int(frames * 0.36))
            window.player.set_speed(0.9)  # a part practised slower, a tone down for a singer
            window.player.set_semitones(-2)
            QTimer.singleShot(300, shoot)

        def shoot() -> None:
            app.processEvents()
            window.grab().save(str(out_path))
            states = [job.state.value for job in window.controller.model.jobs]
            print(f"saved {out_path}; states: {states}")
            window.close()
            app.quit()

        QTimer.singleShot(100, stage)
        return app.exec()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
