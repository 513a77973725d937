"""Peak memory of the app's window on one long song: separated while it plays, played through,
its heard mix exported.

The real ``MainWindow`` (offscreen) gets one generated song (60 minutes by default, a 16-bit wav
from ``long_song_memory.write_song``); a known-answer network as fast as a network gets
(``queue_memory.tiny_network``) separates it, so the figures are those of the app's own
buffers: the decoded mix and the stems in memory-mapped files, the waveforms, the player
and the exporter. The song plays from the start while it is separated, through an output that
plays nothing ``--speed`` times faster than real time, and on to its end; then its heard mix is
exported as a wav. A thread reads this process's ``/proc/self/status`` every 0.2 s; each phase
prints its peak resident set size, split into anonymous memory (what the system cannot drop)
and pages of files (the stems file, libraries). The time the player takes, once a second on the
GUI thread, to let go of the pages away from the playhead is printed too.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/app_long_song_memory.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/app_long_song_memory.py --minutes 10

For scale: 60 minutes of stereo float32 at 44.1 kHz is 1.27 GB (the decoded mix, in a file once
decoded) and its four stems 5.08 GB (in their file).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from stemgui import memory

memory.reuse_freed_memory()  # as the app does first thing, before numpy and torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from long_song_memory import write_song  # noqa: E402
from queue_memory import tiny_network  # noqa: E402


def _status() -> dict[str, int]:
    """VmRSS, RssAnon and RssFile of this process in MiB."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name = line.split(":")[0]
            if name in ("VmRSS", "RssAnon", "RssFile"):
                fields[name] = int(line.split()[1]) // 1024
    return fields


class Peaks:
    """The highest VmRSS seen in each phase (with its split), sampled on a thread."""

    def __init__(self) -> None:
        self.phase = "start"
        self.peaks: dict[str, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.2)

    def sample(self) -> None:
        now, phase = _status(), self.phase
        if now["VmRSS"] > self.peaks.get(phase, {}).get("VmRSS", -1):
            self.peaks[phase] = now

    def enter(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _m4a(wav: Path) -> Path:
    """``wav`` encoded as AAC (192 kbit/s) in an m4a beside it, 10 s at a time."""
    import av
    import numpy as np
    import soundfile as sf

    path = wav.with_suffix(".m4a")
    with av.open(str(path), "w") as container, sf.SoundFile(wav) as source:
        stream = container.add_stream("aac", rate=source.samplerate, layout="stereo")
        stream.bit_rate = 192_000
        for block in source.blocks(blocksize=10 * source.samplerate, dtype="float32"):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block.T), format="fltp", layout="stereo"
            )
            frame.sample_rate = source.samplerate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _flac48(wav: Path) -> Path:
    """``wav`` resampled to 48 kHz (julius, 10 s at a time) in a 16-bit flac beside it."""
    import julius
    import numpy as np
    import soundfile as sf
    import torch

    path = wav.with_suffix(".flac")
    with sf.SoundFile(wav) as source, sf.SoundFile(path, "w", 48000, 2) as target:
        for block in source.blocks(blocksize=10 * source.samplerate, dtype="float32"):
            tensor = torch.from_numpy(np.ascontiguousarray(block.T))
            target.write(julius.resample_frac(tensor, source.samplerate, 48000).numpy().T)
    return path


FORMATS = {"m4a": _m4a, "flac48": _flac48, "wav": lambda wav: wav}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the song (60)")
    parser.add_argument("--speed", type=float, default=50.0, help="playing speed (50x)")
    parser.add_argument("--folder", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="wav",
        help="the song's file: a 16-bit wav at 44.1 kHz (default), an AAC m4a (PyAV decodes"
        " it), or a flac at 48 kHz (resampled)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtWidgets import QApplication

    from stemgui.audio.encode import AudioFormat
    from stemgui.export.exporter import ExportRequest
    from stemgui.playback.null_output import NullOutput
    from stemgui.separation import registry
    from stemgui.separation.checkpoint import save_model
    from stemgui.ui import settings as S
    from stemgui.ui.player import Player
    from stemgui.ui.queue import JobState
    from stemgui.ui.smoke import throwaway_folder
    from stemgui.ui.window import MainWindow

    releases: list[float] = []  # seconds each Player.let_go_of_pages took
    let_go = Player.let_go_of_pages

    def timed(player: Player) -> None:
        begin = time.perf_counter()
        let_go(player)
        releases.append(time.perf_counter() - begin)

    Player.let_go_of_pages = timed  # type: ignore[method-assign]

    torch.set_num_threads(2)
    app = QApplication([sys.argv[0]])
    with throwaway_folder("stemgui-app-long-") as (settings, temporary):
        folder = args.folder or temporary
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["STEMGUI_LOG_DIR"] = str(folder / "logs")
        os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
        registry.register("BenchScaleNet", tiny_network())
        model = folder / "tiny.stemgui"
        save_model(registry.build("BenchScaleNet", {}).eval(), model)
        song = folder / f"song-{args.minutes:g}min.wav"
        write_song(song, args.minutes * 60)
        if args.format != "wav":
            song = FORMATS[args.format](song)
        settings.set(S.MODEL, str(model))
        settings.set(S.DEVICE, "cpu")  # stem cache off: the stems file is the run's own

        outputs: list[NullOutput] = []

        def output(stemset, mixer, transport) -> NullOutput:
            made = NullOutput(stemset, mixer, transport, blocksize=4096, speed=args.speed)
            made.start()  # it plays once the transport does
            outputs.append(made)
            return made

        window = MainWindow(settings, output_factory=output, probe=False)
        window.show()
        peaks = Peaks()
        began = time.perf_counter()
        (job,) = window.add_paths([song])
        while job.stemset is None and not job.state.ended:
            app.processEvents()
            time.sleep(0.01)
        if job.stemset is not None:
            window.show_job(job)
            window.player.toggle()
            peaks.enter("separating (playing)")
        while not job.state.ended:
            app.processEvents()
            time.sleep(0.01)
        if job.state is not JobState.DONE:
            print(f"{song.name}: {job.state.value} {job.error}", file=sys.stderr)
            return 1
        separated = time.perf_counter() - began
        peaks.enter("playing on to the end")
        transport = window.player.transport
        while transport.playing:
            app.processEvents()
            time.sleep(0.01)
        peaks.enter("exporting the mix")
        done: list = []
        window.exporter.finished.connect(lambda _job, paths: done.append(paths))
        window.exporter.failed.connect(lambda message: done.append(message))
        request = ExportRequest(
            folder=folder / "out", stems=[], mix_gains=job.mixer.mix_gains,
            fmt=AudioFormat("wav", 16),
        )  # fmt: skip
        window.export_job(job, request)
        while not done:
            app.processEvents()
            time.sleep(0.01)
        peaks.enter("after")
        settle = time.perf_counter() + 1.5  # the player's next page release
        while time.perf_counter() < settle:
            app.processEvents()
            time.sleep(0.01)
        final = _status()
        window.close()
        peaks.stop()
    if not isinstance(done[0], list):
        print(f"export failed: {done[0]}", file=sys.stderr)
        return 1
    mix_mb = 2 * 4 * args.minutes * 60 * 44100 / 1e6
    print(f"{args.minutes:g}-minute {args.format} song (decoded mix {mix_mb:.0f} MB, "
          f"stems {4 * mix_mb:.0f} MB in their file), separated in {separated:.1f} s, "
          f"played at {args.speed:g}x")  # fmt: skip
    for phase, peak in peaks.peaks.items():
        print(f"  {phase:24s} peak RSS {peak['VmRSS']:6d} MiB "
              f"(anonymous {peak['RssAnon']:5d}, files {peak['RssFile']:5d})")  # fmt: skip
    print(f"  {'at the end':24s}      RSS {final['VmRSS']:6d} MiB "
          f"(anonymous {final['RssAnon']:5d}, files {final['RssFile']:5d})")  # fmt: skip
    if releases:
        print(f"  pages let go {len(releases)} times: {1e3 * sum(releases) / len(releases):.2f} ms "
              f"on average, {1e3 * max(releases):.2f} ms at most (GUI thread)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
