"""Bags of trained models: ``python -m training bag OUTPUT MODEL MODEL... --weights ...``.

The official ``htdemucs_ft`` is a bag of four copies of htdemucs, each fine-tuned for one source
and weighted 1 for it and 0 for the others. Here the same idea on our own models: a specialist
fine-tuned with ``optim.source_weights`` (say ``[0, 0, 1, 0]`` for "other") joins the general
model, which keeps the sources it does best::

    python -m training bag runs/bag.stemgui general.stemgui other.stemgui \\
        --weights 1,1,0,1 0,0,1,0 --data ../shared/data/musdb18-7/train

Members are copied as stored (8-bit members keep the bag small). With ``--data`` the bag and
each member are separated over the validation tracks and the bag's global SDR goes into its
provenance (what ``export`` writes into the manifest). The app runs every member, so a bag of
two takes twice as long to separate as one model.

``python -m training member BAG WHICH OUTPUT`` takes one member back out, as stored, with the
history the bag recorded of it (to fine-tune it, or to bag it with a new specialist).
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from stemgui.separation.checkpoint import read_checkpoint
from stemgui.separation.hashing import file_sha256
from stemgui.separation.official import load_any
from stemgui.separation.rewrite import save_bag_of_files, save_member
from training.model_arguments import CommandParser
from training.models import as_stemgui_file, provenance_of
from training.network import closest_member
from training.options import (
    add_measure_options,
    input_path,
    model_output,
    not_a_model,
    output_file,
)
from training.provenance import git_commit

logger = logging.getLogger(__name__)

# What each member's provenance contributes to the bag's (the manifest shows it).
MEMBER_KEYS = (
    "steps",
    "init",
    "valid_sdr",
    "git_commit",
    "data",
    "train_tracks",
    "config",
    "from_bag",
    "earlier",
    "imported_from",  # an official Demucs .th member
)


def parse_weights(text: str) -> list[float]:
    """``"1,1,0,1"`` -> ``[1.0, 1.0, 0.0, 1.0]``; ``ValueError`` naming the text otherwise."""
    try:
        weights = [float(v) for v in text.split(",")]
    except ValueError:
        weights = [math.nan]
    if not all(0 <= w < math.inf for w in weights):  # nan and inf made NaN stems
        raise ValueError(f"weights {text!r}: give one number from 0 per source, like 1,1,0,1")
    return weights


def _label(path: Path) -> str:
    """A file with its folder: members are often each run's best.stemgui or q8.stemgui. The
    folder is the one it is in, not as written: none for ``best.stemgui``, ``..`` for
    ``../best.stemgui``."""
    return f"{Path(os.path.abspath(path)).parent.name}/{path.name}"


def member_provenance(path: Path) -> dict[str, Any]:
    """Where a member came from: its file, hash and the keys of ``MEMBER_KEYS`` it records."""
    provenance = provenance_of(path)
    summary = {"file": _label(path), "sha256": file_sha256(path)}
    summary.update({k: provenance[k] for k in MEMBER_KEYS if k in provenance})
    if "quantization" in provenance:
        summary["quantization"] = provenance["quantization"]
    return summary


def check_members(
    members: list[Path], models: list, weights: list[list[float]] | None, texts: list[str]
) -> None:
    """Refuse members that do not make a bag, naming the file and both values, and ``--weights``
    (``texts`` as given) that do not fit them, with the counts.

    Raises:
        ValueError: naming what does not fit.
    """
    from stemgui.separation.bag import BagOfModels

    for index, (path, model) in enumerate(zip(members, models)):
        if isinstance(model, BagOfModels):  # refused when written: after --data, if given
            raise ValueError(f"{path}: holds a bag already; list its own member files instead")
        # one file twice: the model's own stems, in twice the time
        if path.resolve() in [earlier.resolve() for earlier in members[:index]]:
            raise ValueError(f"{path}: given twice; the members of a bag are different models")
    first = models[0]
    for path, model in zip(members[1:], models[1:]):
        for attribute, what in (
            ("sources", "sources"),
            ("samplerate", "sample rate (Hz)"),
            ("audio_channels", "audio channels"),
        ):
            mine, theirs = getattr(model, attribute), getattr(first, attribute)
            if mine != theirs:
                raise ValueError(
                    f"{path}: {what} {mine}, but {members[0]} has {theirs}; the members of a "
                    "bag must match"
                )
    if weights is None:
        return
    need = f"each needs {len(first.sources)} ({', '.join(first.sources)})"
    if len(weights) != len(models):
        lists = "list" if len(weights) == 1 else "lists"
        raise ValueError(
            f"{len(models)} members, {len(weights)} --weights {lists}; one list per member, {need}"
        )
    for path, text, listed in zip(members, texts, weights):
        if len(listed) != len(first.sources):
            raise ValueError(f"--weights {text} (for {path}): {len(listed)} numbers; {need}")


def one_is_no_bag(args: argparse.Namespace, taken: str = "") -> str:
    """What is wrong with a bag of one model, "" if nothing (a check of ``CommandParser``): it
    is that model, and ``bag m.stemgui n.stemgui --overwrite`` (OUTPUT forgotten) wrote a bag of
    ``n`` alone over the model ``m``. ``taken``, added, names the data root taken in place of a
    member (``bag --data d b.stemgui m.th n``: n, named without its suffix)."""
    if len(args.models) != 1:
        return ""
    said = (
        f"argument models: one model, {args.models[0]}; a bag averages two or more: name "
        "OUTPUT, the bag to write, then two or more model files"
    )
    if os.path.isfile(args.output):  # os.path's: never raises
        said += (
            f" ({args.output}, an existing model file, was taken for OUTPUT: nothing was "
            "written over it)"
        )
    return said + taken


def run_bag(args: argparse.Namespace) -> int:
    from stemgui.separation.bag import BagOfModels
    from training import evaluate

    members = [Path(m) for m in args.models]
    output = output_file(args.output, members, overwrite=args.overwrite)
    weights = [parse_weights(w) for w in args.weights] if args.weights else None
    models = [load_any(m) for m in members]
    check_members(members, models, weights, args.weights or [])
    bag = BagOfModels(models, weights)
    summaries = [member_provenance(m) for m in members]
    provenance: dict[str, Any] = {
        "members": summaries,
        "weights": weights,
        "git_commit": git_commit(),
        # what export writes at the top of the manifest entry: all the members learnt from
        "data": list(dict.fromkeys(d for s in summaries for d in s.get("data", []))),
    }
    counts = [s["train_tracks"] for s in summaries if s.get("train_tracks") is not None]
    if counts:
        provenance["train_tracks"] = max(counts)
    if args.data:
        evaluate.reference_order(bag.sources, members[0])  # the members' stems: those of the first
        evaluate.check_channels(bag.audio_channels, members[0])
        tracks = evaluate.validation_tracks(args.data, args.cache, samplerate=bag.samplerate)
        print(f"global SDR (dB), mean over {len(tracks)} validation tracks")
        print("| | " + " | ".join([*bag.sources, "mean"]) + " |")
        print("|" + "---|" * (len(bag.sources) + 2))
        for path, model in [*zip(members, models), (output, bag)]:
            means = evaluate.mean_sdr(model, tracks, device=args.device)
            scores = evaluate.scores_by_source(bag.sources, means)
            cells = " | ".join(f"{scores[key]:.2f}" for key in [*bag.sources, "all"])
            print(f"| {_label(path)} | {cells} |")
        provenance["valid_sdr"] = scores  # the last row's: the bag's
        output_file(output, members, overwrite=args.overwrite)  # made meanwhile: still refused
    with tempfile.TemporaryDirectory(prefix="stemgui-bag-") as folder:  # for .th members
        stored = []
        for index, member in enumerate(members):  # two runs' x.th apart
            (Path(folder) / str(index)).mkdir()
            stored.append(as_stemgui_file(member, Path(folder) / str(index)))
        sha256 = save_bag_of_files(stored, output, weights=weights, provenance=provenance)
    print(f"wrote {output} ({output.stat().st_size:,} bytes, sha256 {sha256[:8]})")
    return 0


def run_member(args: argparse.Namespace) -> int:
    """``member BAG WHICH OUTPUT``: one member of a bag as its own file (``fit --init``,
    ``quantize``, ``segment`` or a new ``bag`` take it), with the history the bag recorded."""
    source = Path(args.bag)
    output = output_file(args.output, [source], overwrite=args.overwrite)
    payload = read_checkpoint(source)
    if "," in args.which:  # per-source weights: the member weighted most like them
        entries, wanted = payload["models"], parse_weights(args.which)
        sources = list(entries[0]["sources"])
        if len(wanted) != len(sources) or not any(wanted):
            raise ValueError(
                f"weights {args.which!r}: give one per source ({', '.join(sources)}), not all 0"
            )
        weights = payload.get("weights") or [[1.0] * len(sources)] * len(entries)
        index = closest_member(weights, wanted)
    else:
        try:
            index = int(args.which)
        except ValueError:
            raise ValueError(
                f"member {args.which!r}: give its number (0 first) or weights like 0,0,1,0"
            ) from None
    # what the bag recorded of the member (training bag's summary), its file named as a bag's
    summaries = (payload.get("provenance") or {}).get("members") or []
    provenance = dict(summaries[index]) if 0 <= index < len(summaries) else {}
    provenance.pop("sha256", None)  # of the file it was, not of this one
    was = provenance.pop("file", "")
    provenance["from_bag"] = {"file": source.name, "member": index, "was": was}
    sha256 = save_member(source, index, output, provenance=provenance)
    print(f"wrote {output}: member {index} of {source.name} (sha256 {sha256[:8]})")
    return 0


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register ``bag`` on ``python -m training``'s subparsers; returns its parser."""
    parser = commands.add_parser("bag", help="combine trained models into a bag (htdemucs_ft)")
    parser.add_argument("output", type=model_output, help="the bag's stemgui file to write")
    parser.add_argument(
        "models",
        nargs="+",
        type=input_path,
        help="member stemgui files (single models) or official Demucs .th, two or more",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUTPUT if it exists (default: an existing one is refused)",
    )
    parser.add_argument(
        "--weights",
        nargs="+",
        type=functools.partial(not_a_model, option="--weights"),
        help="one comma list per member, one weight per source, such as 1,1,0,1 0,0,1,0 "
        "(default: all 1, the members' mean)",
    )
    add_measure_options(parser, "print every member's and the bag's SDR")
    parser.set_defaults(func=run_bag)
    if isinstance(parser, CommandParser):  # python -m training's (a test builds argparse's)
        parser.checks.append(one_is_no_bag)

    member = commands.add_parser("member", help="one member of a bag as its own model file")
    member.add_argument(
        "bag", type=input_path, help="a bag's stemgui file (the shipped model, say)"
    )
    member.add_argument(
        "which",
        help="its number (0 first) or per-source weights, like 0,0,1,0: the member weighted "
        "most like them (as fit --init picks one)",
    )
    member.add_argument("output", type=model_output, help="the member's stemgui file to write")
    member.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUTPUT if it exists (default: an existing one is refused)",
    )
    member.set_defaults(func=run_member)
    return parser
