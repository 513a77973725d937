"""``python -m training eval MODEL ... --data ROOT``: the SDR of models and of two baselines
(the mixture over four, the ideal ratio mask) on multitracks, as MUSDB reports it (BSS Eval v4)
and as a global SDR, printed as Markdown tables and, with ``--json``, written per track."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stemgui.separation import MAX_SHIFTS
from training.model_arguments import DataThenModels, model_or_data_root
from training.options import (
    chunk_seconds,
    count,
    device,
    fraction,
    given_path,
    input_path,
    output_file,
)

if TYPE_CHECKING:
    import numpy as np


def run_eval(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    from stemgui.separation.official import load_any
    from stemgui.separation.separator import Separator
    from training import bsseval, evaluate
    from training import data as data_mod
    from training.sdr import global_sdr, mean_over_tracks

    if args.json:
        output_file(args.json, args.models, model=False, overwrite=args.overwrite)
    # refused before data; two runs' best.stemgui are told apart by their folders
    models = {label: load_any(path) for label, path in zip(model_labels(args.models), args.models)}
    sources = list(data_mod.SOURCES)  # the references' order; estimates are put in it by name
    for path, model in zip(args.models, models.values()):
        if sorted(model.sources) != sorted(sources):
            raise ValueError(
                f"{path}: its stems are {list(model.sources)}; eval scores models of {sources}"
            )
        evaluate.check_channels(int(model.audio_channels), path)
    rates = {int(model.samplerate) for model in models.values()}
    if len(rates) > 1:
        raise ValueError(f"the models run at different rates ({sorted(rates)} Hz): eval one by one")
    tracks = data_mod.discover(args.data)
    train, valid = data_mod.split_validation(tracks)
    chosen, kind = {
        "valid": (valid, "validation tracks"),
        "train": (train, "training tracks"),
        "all": (tracks, "tracks"),
    }[args.split]
    if args.max_tracks:
        chosen = chosen[: args.max_tracks]
    if not chosen:
        under = ", ".join(map(str, args.data))
        if args.split == "valid" and tracks:  # one's own tracks: none has those names
            raise ValueError(
                f"no validation tracks under {under}: --split valid means the 14 MUSDB18 "
                f"validation songs, by their names (training.data.MUSDB_VALIDATION); "
                f"score these {len(tracks)} tracks with --split all"
            )
        raise ValueError(f"no {kind} under {under}")
    # at the models' rate; without models (the baselines alone), at MUSDB's
    rate = rates.pop() if rates else data_mod.SAMPLERATE  # MUSDB's frames: 1 s at this rate
    cache = data_mod.TrackCache(args.cache, samplerate=rate)
    arrays = [cache.load(t) for t in chosen]
    references = [np.asarray(t[1:]) for t in arrays]

    def bar(items: list, what: str) -> tqdm:  # rate and ETA on a terminal, quiet in a log
        return tqdm(items, desc=what, unit="track", leave=False, disable=None)

    # name -> one (sources, channels, frames) estimate per track
    estimates: dict[str, list[np.ndarray]] = {}
    for name, model in models.items():
        order = [list(model.sources).index(source) for source in sources]
        separator = Separator(
            model,
            device=args.device,
            segment=args.segment,
            overlap=args.overlap,
            shifts=args.shifts,
            seed=0,  # the same shifts every run
        )
        estimates[name] = [
            separator.separate(np.ascontiguousarray(t[0], dtype=np.float32))[order]
            for t in bar(arrays, f"separate {name}")
        ]
    estimates["mixture/4"] = [
        np.broadcast_to(t[0] / 4, r.shape) for t, r in zip(arrays, references)
    ]
    estimates["IRM oracle"] = [evaluate.irm_estimates(np.asarray(t)) for t in arrays]

    # name -> one (sources,) score per track
    musdb_tracks = {
        name: [
            bsseval.track_sdr(
                r, e, track=f"{t.name} ({name})", sources=sources, window=rate, hop=rate
            )
            for r, e, t in bar(list(zip(references, ests, chosen)), f"BSS Eval {name}")
        ]
        for name, ests in estimates.items()
    }
    fast_tracks = {
        name: [global_sdr(r, e) for r, e in zip(references, ests)]
        for name, ests in estimates.items()
    }
    musdb = {name: bsseval.median_over_tracks(s) for name, s in musdb_tracks.items()}
    fast = {name: mean_over_tracks(s) for name, s in fast_tracks.items()}
    over = f"{len(arrays)} {kind}"  # (`count` is the option type imported above)
    print(f"SDR (dB) as MUSDB reports it (BSS Eval v4, median over 1 s frames and over {over})")
    print(format_table(musdb, sources))
    print(f"\nglobal SDR (dB), mean over {over}")
    print(format_table(fast, sources))
    if args.json:
        write_scores(
            args.json,
            [t.name for t in chosen],
            sources,
            musdb_tracks,
            fast_tracks,
            overwrite=args.overwrite,
        )
        print(f"\nscores per track: {args.json}")
    return 0


def model_labels(paths: list[str]) -> list[str]:
    """A label per model file: its name, or with as many of its last folders as tell it from
    the others (``run1/best.stemgui``); a name no other file has stays bare."""
    resolved = [Path(p).resolve() for p in paths]
    for index, path in enumerate(resolved):
        if path in resolved[:index]:
            raise ValueError(f"{paths[index]}: given twice")
    labels = []
    for path in resolved:
        others = [other for other in resolved if other != path]
        depth = 1
        while any(other.parts[-depth:] == path.parts[-depth:] for other in others):
            depth += 1
        labels.append("/".join(path.parts[-depth:]))
    return labels


def write_scores(
    path: str,
    tracks: list[str],
    sources: list[str],
    musdb: dict[str, list[np.ndarray]],
    fast: dict[str, list[np.ndarray]],
    *,
    overwrite: bool = False,
) -> None:
    """Every estimator's scores per track (BSS Eval v4 frame medians and global SDR) as JSON,
    written whole or not at all; an existing file is replaced only with ``overwrite``. A MUSDB
    median over few tracks is set by the one or two tracks in the middle; this file shows
    which. A score that is no number is null: a stem silent over the whole track (NaN; a model's
    stem silent throughout, every stem of the track: ``bsseval.bss_eval``), or an estimate
    equal to its reference (an infinite SDR), which JSON cannot hold either."""
    import numpy as np

    from stemgui.audio.atomic import atomic_path

    def table(scores: list[np.ndarray]) -> dict[str, dict[str, float | None]]:
        return {
            track: {s: round(float(v), 4) if np.isfinite(v) else None for s, v in zip(sources, row)}
            for track, row in zip(tracks, scores)
        }

    document = {
        "sources": sources,
        "tracks": tracks,
        "musdb": {name: table(scores) for name, scores in musdb.items()},
        "global": {name: table(scores) for name, scores in fast.items()},
    }
    with atomic_path(path, overwrite=overwrite) as part:
        part.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")


def format_table(rows: dict[str, np.ndarray], sources: list[str]) -> str:
    """A Markdown table: one row per estimator, one column per source and their mean."""
    from training import evaluate

    header = ["", *sources, "mean"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, per_source in rows.items():
        mean = evaluate.scored_mean(per_source)  # MUSDB's: a source may be never scored
        cells = [f"{v:.2f}" for v in per_source] + [f"{mean:.2f}"]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on ``python -m training``'s subparsers; returns its parser."""
    ev = commands.add_parser("eval", help="SDR of models and baselines on multitracks")
    ev.add_argument(
        "models",
        nargs="*",
        type=input_path,
        help="stemgui checkpoints (or official Demucs .th files) to evaluate (none: the "
        "baselines alone)",
    )
    ev.add_argument(
        "--data",
        nargs="+",
        type=model_or_data_root,
        action=DataThenModels,
        required=True,
        help="data roots: folders of MUSDB18 .stem.mp4 files or of stem folders (required); "
        "model files named after them are scored too; given again, its roots are added",
    )
    ev.add_argument(
        "--split",
        choices=("valid", "train", "all"),
        default="valid",
        help="tracks scored: valid, the 14 MUSDB18 validation songs by name; train, the others; "
        "all (default: %(default)s)",
    )
    ev.add_argument(
        "--cache",
        type=given_path,
        default="runs/cache",
        help="folder of the decoded tracks, kept for the next run (default: %(default)s)",
    )
    ev.add_argument(
        "--segment", type=chunk_seconds, help="chunk length, 0.1-60 s (default: the model's)"
    )
    ev.add_argument(
        "--overlap",
        type=fraction,
        default=0.25,
        help="fraction of a chunk shared with the next, 0-0.9 (default: %(default)s, the app's "
        "Balanced preset; Fast: 0.1)",
    )
    ev.add_argument(
        "--shifts",
        type=count(0, MAX_SHIFTS),
        default=0,
        help=f"random time shifts averaged, 0-{MAX_SHIFTS}, drawn from a fixed seed (default: "
        "%(default)s; the app's Best preset: 2)",
    )
    ev.add_argument(
        "--device",
        type=device,
        default="cpu",
        help="where to separate: cpu, cuda, cuda:N, mps or auto (default: %(default)s)",
    )
    ev.add_argument(
        "--max-tracks",
        type=count(0),
        default=0,
        help="score the first N tracks of the split only (default: 0, all of them)",
    )
    ev.add_argument(
        "--json",
        type=given_path,
        metavar="FILE",
        help="also write every score per track here (default: none); null is a stem silent "
        "over the whole track, or an estimate equal to its reference (an infinite SDR)",
    )
    ev.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the --json FILE if it exists (default: an existing one is refused)",
    )
    ev.set_defaults(func=run_eval)
    return ev
