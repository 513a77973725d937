"""``python -m training segment MODEL OUTPUT --seconds S``: run a model on chunks of another length.

HTDemucs is trained on fixed chunks (``segment`` seconds) and separates songs chunk by chunk at
that length. The length is an argument of the network, not a weight, so the same weights can run
on longer chunks: the transformer then sees more of the song at once. Measured on the shipped
model (trained on 3 s): 4 s chunks raised "other" and "vocals" more than they cost "drums" (see
the README). With ``--data`` both files are separated over the validation tracks and the global
SDR change is printed, as ``quantize`` does, and the new file records its own validation SDR.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from stemgui.separation.checkpoint import load_model
from stemgui.separation.official import load_any
from stemgui.separation.rewrite import add_provenance, save_with_segment
from training.models import as_stemgui_file
from training.options import (
    add_measure_options,
    chunk_seconds,
    input_path,
    model_output,
    output_file,
)


def run_segment(args: argparse.Namespace) -> int:
    from training import evaluate

    output_file(args.output, [args.model], overwrite=args.overwrite)
    # The data are read first: a missing folder is refused before any file is written.
    tracks = []
    if args.data:  # at the model's rate, as eval decodes them
        tracks = evaluate.model_validation_tracks(args.model, args.data, args.cache)
    # The source's figures, measured on other chunks, are not carried over: --data measures
    # them after the file is written (stopped before, it holds none rather than the source's).
    unmeasured = {"valid_sdr": {}}
    with tempfile.TemporaryDirectory(prefix="stemgui-segment-") as folder:  # for a .th file
        source = as_stemgui_file(args.model, folder)
        sha256 = save_with_segment(source, args.output, args.seconds, provenance=unmeasured)
    if tracks:
        sha256 = measure(args, tracks)
    else:
        print("its validation SDR is not measured on the new chunks: --data records it")
    print(f"wrote {args.output} (chunks of {args.seconds:g} s, sha256 {sha256[:8]})")
    return 0


def measure(args: argparse.Namespace, tracks: list) -> str:
    """Print the global SDR change on the validation ``tracks`` and record the new figures in
    ``args.output``; returns its new sha256."""
    from training import evaluate
    from training.quantize_command import sdr_change_table

    changed = load_model(args.output)
    before = evaluate.mean_sdr(load_any(args.model), tracks, device=args.device)
    after = evaluate.mean_sdr(changed, tracks, device=args.device)
    labels = (f"{Path(args.model).name}", f"{args.seconds:g} s chunks")
    print(sdr_change_table(list(changed.sources), before, after, len(tracks), labels))
    # What ``export`` puts in the manifest: the SDR on the new chunks, not the source's.
    valid_sdr = evaluate.scores_by_source(changed.sources, after)
    return add_provenance(args.output, {"valid_sdr": valid_sdr})


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``segment`` on ``python -m training``'s subparsers; returns its parser."""
    parser = commands.add_parser("segment", help="change the chunk length a model runs on")
    parser.add_argument(
        "model",
        type=input_path,
        help="stemgui checkpoint (a single network) or official Demucs .th file",
    )
    parser.add_argument("output", type=model_output, help="stemgui checkpoint to write")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUTPUT if it exists (default: an existing one is refused)",
    )
    parser.add_argument(
        "--seconds",
        type=chunk_seconds,
        required=True,
        help="the new chunk length, 0.1-60 s (required)",
    )
    add_measure_options(parser, "print the SDR change, and record it for export,")
    parser.set_defaults(func=run_segment)
    return parser
