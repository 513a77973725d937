"""``python -m training quantize MODEL OUTPUT [--bits 8] [--data ROOT ...]``: post-training
quantization of a model file (``training.quantize``), its size change and, with ``--data``, its
validation SDR change, recorded in the new file, and whether to ship it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from training.evaluate import scored_mean
from training.options import (
    add_measure_options,
    chunk_seconds,
    count,
    input_path,
    model_output,
    non_negative,
    output_file,
)
from training.quantize import DEFAULT_BITS, DEFAULT_MIN_SIZE, quantize_file

if TYPE_CHECKING:
    import numpy as np

SHIP_RULE_DB = 0.2  # the quantized file is shipped if it loses less than this much SDR


def sdr_change_table(
    sources: list[str],
    before: np.ndarray,
    after: np.ndarray,
    count: int,
    labels: tuple[str, str],
) -> str:
    """Markdown table of global SDR per source before and after a change, and the difference;
    the means are over the sources scored (``evaluate.scored_mean``: a source silent in every
    track has none)."""
    lines = [
        f"global SDR (dB), mean over {count} validation tracks",
        "| | " + " | ".join([*sources, "mean"]) + " |",
        "|" + "---|" * (len(sources) + 2),
    ]
    for label, row in ((labels[0], before), (labels[1], after), ("change", after - before)):
        values = [*row, scored_mean(row)]
        cells = [f"{v:+.2f}" if label == "change" else f"{v:.2f}" for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_quantize(args: argparse.Namespace) -> int:
    """``python -m training quantize MODEL OUTPUT [--bits 8] [--data ROOT ...]``."""
    from stemgui.separation.checkpoint import load_model
    from stemgui.separation.official import load_any
    from stemgui.separation.rewrite import add_provenance
    from training import evaluate

    output_file(args.output, [args.model], overwrite=args.overwrite)
    # The data are read first: a missing folder is refused before any file is written.
    tracks = []
    if args.data:  # at the model's rate, as eval decodes them
        tracks = evaluate.model_validation_tracks(
            args.model, args.data, args.cache, args.max_tracks
        )
    report = quantize_file(args.model, args.output, bits=args.bits, min_size=args.min_size)
    stored = f"{report.bits} bits" if report.quantized else "float16"
    print(
        f"{report.source.name}: {report.bytes_before:,} bytes -> {report.destination.name}: "
        f"{report.bytes_after:,} bytes ({report.size_change()}, {stored}, "
        f"sha256 {report.sha256[:8]})"
        + (
            f"; largest weight error {report.max_error:.3g} (bound {report.max_half_step:.3g})"
            if report.quantized
            else f": no parameter is over --min-size {args.min_size:g} MB, so none is in "
            f"{report.bits} bits, every weight in float16; give a smaller --min-size"
        )
    )
    if not tracks:
        return 0
    running = {"segment": args.segment, "device": args.device}
    source = load_any(report.source)
    before = evaluate.mean_sdr(source, tracks, **running)
    after = evaluate.mean_sdr(load_model(report.destination), tracks, **running)
    labels = (report.source.name, stored)
    print(sdr_change_table(list(source.sources), before, after, len(tracks), labels))
    # What ``export`` puts in the manifest: the quantized file's SDR, not its source's.
    valid_sdr = evaluate.scores_by_source(source.sources, after)
    record = {"valid_sdr": valid_sdr, "valid_tracks": len(tracks)}  # --max-tracks: fewer
    sha256 = add_provenance(report.destination, record)
    print(f"{report.destination.name} records this SDR (sha256 {sha256[:8]})")
    change = scored_mean(after - before)  # NaN only where no source is scored
    if not report.quantized:
        verdict = f"keep {report.source.name}: nothing was quantized"
    elif not report.smaller:
        verdict = f"keep {report.source.name}: the quantized file is not smaller"
    elif -change < SHIP_RULE_DB:
        verdict = "ship the quantized file"
    else:
        verdict = f"keep {report.source.name}"
    rule = f"rule: smaller, and losing less than {SHIP_RULE_DB} dB"
    print(f"mean SDR change {change:+.2f} dB: {verdict} ({rule})")
    return 0


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``quantize`` on ``python -m training``'s subparsers; returns its parser."""
    parser = commands.add_parser(
        "quantize", help="post-training quantization of a model, with its validation SDR change"
    )
    parser.add_argument(
        "model", type=input_path, help="stemgui checkpoint (or official Demucs .th) to quantize"
    )
    parser.add_argument("output", type=model_output, help="quantized stemgui checkpoint to write")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUTPUT if it exists (default: an existing one is refused)",
    )
    parser.add_argument(  # diffq's range
        "--bits",
        type=count(1, 15),
        default=DEFAULT_BITS,
        help="bits per weight, 1-15 (default: %(default)s)",
    )
    parser.add_argument(
        "--min-size",
        type=non_negative,
        default=DEFAULT_MIN_SIZE,
        help="parameters under this many MB stay float16, diffq's min_size (default: %(default)s)",
    )
    add_measure_options(parser, "print the SDR change, and record it for export,")
    parser.add_argument(
        "--segment", type=chunk_seconds, help="chunk length, 0.1-60 s (default: the model's)"
    )
    parser.add_argument(
        "--max-tracks",
        type=count(0),
        default=0,
        help="measure on the first N validation tracks only (default: 0, all of them)",
    )
    parser.set_defaults(func=run_quantize)
    return parser
