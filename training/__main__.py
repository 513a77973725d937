"""``python -m training COMMAND ...``: synth, fit, eval, quantize, segment, bag, member, export."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from training.model_arguments import CommandParser
from training.options import (
    count,
    device,
    given_path,
    input_path,
    positive,
    writable_folder,
)

log = logging.getLogger("training")


def _fit(args: argparse.Namespace) -> int:
    import torch

    from training import config as config_mod
    from training.fit import Trainer

    config = config_mod.load(args.config)
    optim = dict(config["optim"])
    if args.source_weights is not None:  # "" (an unset shell variable): not the recipe's
        from training.bag import parse_weights

        try:
            optim["source_weights"] = parse_weights(args.source_weights)
        except ValueError as error:
            raise ValueError(f"--source-weights: {error}") from None
    if args.accumulate is not None:
        optim["accumulate"] = args.accumulate
    if args.lr is not None:
        optim["lr"] = args.lr
    # a setting the command line gave is named as its option, not as the recipe's
    given = {"source_weights": "--source-weights", "accumulate": "--accumulate", "lr": "--lr"}
    given = {key: flag for key, flag in given.items() if getattr(args, key) is not None}

    def blame(error: Exception) -> config_mod.RecipeError:
        said = str(error)
        flag = next((f for key, f in given.items() if f"optim.{key}" in said), None)
        return config_mod.RecipeError(f"{flag or args.config}: {said}")

    try:
        config = config_mod.from_dict({**config, "optim": optim})
    except ValueError as error:  # a setting of a wrong kind or range
        raise blame(error) from None
    run_dir = Path(args.run or Path("runs") / Path(args.config).stem)
    # a file, under one, a name too long or a read-only disk: before minutes of decoding
    writable_folder(run_dir, "--run")
    recorded = run_dir / "config.toml"  # what fit writes: the recipe with every setting filled in
    if recorded.exists() and os.path.samefile(recorded, args.config):
        raise ValueError(
            f"--run {run_dir}: its config.toml is the recipe {args.config} itself, which fit "
            "would rewrite (comments dropped, folders made absolute); keep the recipe outside "
            "the run folder, or name another --run folder"
        )
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        import torch.distributed as dist

        backend = "nccl" if args.device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
        if args.device.startswith("cuda"):
            local = int(os.environ.get("LOCAL_RANK", 0))
            args.device = f"cuda:{local}"
            torch.cuda.set_device(local)
    try:
        try:
            trainer = Trainer(config, run_dir, device=args.device, init=args.init)
        except config_mod.RecipeError as error:
            raise blame(error) from None
        max_seconds = args.max_minutes * 60 if args.max_minutes else None
        trainer.run(steps=args.steps, max_seconds=max_seconds)
        if distributed:
            dist.barrier()  # every rank done before the process group is torn down
    finally:
        if distributed:
            dist.destroy_process_group()
    print(f"run folder: {run_dir}")
    return 130 if trainer.interrupted else 0  # the shell's status for a stop by Ctrl-C


def main(argv: list[str] | None = None) -> int:
    from stemgui import memory

    # First, before numpy and torch start their threads: glibc keeps a step's freed temporaries
    # for the next instead of unmapping them (a CPU training step of htdemucs_cpu.toml took 0.70
    # of the time; bench/train_speed.py). Nothing heavy is imported above.
    memory.reuse_freed_memory()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from stemgui.errors import StemguiError

    try:
        return args.func(args)
    except KeyboardInterrupt:  # a second Ctrl-C in fit, or one elsewhere: no traceback
        resumes = "; the run resumes from its last saved step" if args.func is _fit else ""
        log.error("stopped (Ctrl-C)%s", resumes)
        return 130
    except MemoryError as exc:  # a recipe's batch of 100000000: a traceback, no word of it
        said = f" ({exc})" if str(exc) else ""
        less = (
            ": a smaller batch (optim.batch_size), or more micro-batches (--accumulate)"
            if args.func is _fit
            else ""
        )
        log.error(
            "%s: out of memory%s; ask for less%s", args.command, said, less, exc_info=args.verbose
        )
        return 1
    except (OSError, ValueError, StemguiError) as exc:  # a file, folder, option or recipe
        # One line naming what is wrong; the traceback only with --verbose.
        log.error("%s", exc, exc_info=args.verbose)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m training`` and of every command on it."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log debug messages too, and an error's traceback below its line (default: off, "
        "one line naming what is wrong); give it before COMMAND",
    )
    # eval, quantize, segment and bag take their model files after --data too
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)

    fit = commands.add_parser("fit", help="train (or resume) a model from a recipe")
    fit.add_argument(
        "config",
        type=input_path,
        help="recipe file, TOML (such as training/configs/htdemucs_cpu.toml)",
    )
    fit.add_argument(
        "--run",
        "--run-dir",  # under torchrun: it reads --run as an abbreviation of its own --run-path
        dest="run",
        type=given_path,
        help="run folder, resumed from its last.pt if it has one (default: runs/<recipe name>); "
        "under torchrun write --run-dir",
    )
    fit.add_argument(
        "--steps",
        type=count(1),
        help="stop after this many steps in total, earlier ones included (default: the recipe's "
        "schedule.steps)",
    )
    fit.add_argument(
        "--device",
        type=device,
        default="cpu",
        help="where to train: cpu, cuda, cuda:N, mps or auto, the best there is (default: cpu)",
    )
    fit.add_argument(
        "--init",
        type=input_path,
        help="start from this stemgui checkpoint or official Demucs .th (fine-tuning); of a bag, "
        "the member whose weights are closest to the recipe's source weights (default: random "
        "weights; unused by a run that resumes)",
    )
    fit.add_argument(
        "--source-weights",
        help='loss weight per source, e.g. 0,0,1,0 for an "other" specialist (default: the '
        "recipe's optim.source_weights)",
    )
    fit.add_argument(
        "--accumulate",
        type=count(1),
        help="micro-batches per step, for a batch that does not fit in memory at once (default: "
        "the recipe's optim.accumulate)",
    )
    fit.add_argument(
        "--lr",
        type=positive,
        help="Adam's learning rate, lower for fine-tuning a shipped model (default: the recipe's "
        "optim.lr)",
    )
    fit.add_argument(
        "--threads",
        type=count(1, os.cpu_count() or 1),  # 100000 crashed torch (segmentation fault)
        help="torch CPU threads, at most one a core (default: torch's)",
    )
    fit.add_argument(
        "--max-minutes",
        type=positive,
        help="stop (validated, saved) after the step that passes this many minutes; the "
        "recipe's schedule.anneal fits in them (default: no time limit)",
    )
    fit.set_defaults(func=_fit)

    from training.bag import add_parser as add_bag_parser
    from training.eval_command import add_parser as add_eval_parser
    from training.export import add_parser as add_export_parser
    from training.quantize_command import add_parser as add_quantize_parser
    from training.resegment import add_parser as add_segment_parser
    from training.synth.cli import add_parser as add_synth_parser

    add_eval_parser(commands)
    add_export_parser(commands)
    add_bag_parser(commands)
    add_quantize_parser(commands)
    add_segment_parser(commands)
    add_synth_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
