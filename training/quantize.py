"""Smaller model files with diffq: post-training quantization and quantization-aware training.

Both write an ordinary stemgui checkpoint through ``checkpoint.save_model(..., quantizer=...)``:
the parameters are stored in diffq's bit-packed form and the engine dequantizes them on load
(``stemgui.separation.diffq_state``) without the ``diffq`` package, which only training needs.

- Post-training (``quantize_file``): ``diffq.UniformQuantizer`` rounds every parameter of more
  than ``min_size`` MB to ``bits``-bit levels between its minimum and maximum,
  ``w_q = round((w - min) / (max - min) * (2**bits - 1)) / (2**bits - 1) * (max - min) + min``:
  an error of at most half a step, ``(max - min) / (2**bits - 1) / 2``, per weight. Smaller
  parameters are kept in float16. 8 bits: about a quarter of the float32 file.
- Quantization-aware (``QuantizationAwareTraining``): ``diffq.DiffQuantizer`` adds noise the
  size of the quantization step to the weights while training, learns the bits of each group of
  weights, and gives a differentiable model size (MB) whose weighted value goes into the loss.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stemgui.errors import StemguiError
from training.evaluate import scored_mean
from training.options import (
    add_measure_options,
    chunk_seconds,
    count,
    given_path,
    input_path,
    non_negative,
    output_file,
)

logger = logging.getLogger(__name__)

DEFAULT_BITS = 8
DEFAULT_MIN_SIZE = 0.01  # MB: diffq's default; smaller parameters (biases, norms) stay float16
DIFFQ_SUFFIX = "_diffq"  # DiffQuantizer's bits parameters (logits), never saved in a model file
SHIP_RULE_DB = 0.2  # the quantized file is shipped if it loses less than this much SDR


class DiffqMissing(StemguiError):
    """The ``diffq`` package, which training's quantization needs (the app does not), is not
    installed: said in one line with the command that installs it."""


def _diffq():
    try:
        import diffq
    except ImportError as exc:  # a training-only dependency: say how to get it
        raise DiffqMissing(
            "quantization needs the diffq package, which is not installed: pip install diffq cython"
        ) from exc
    return diffq


def require_diffq(what: str) -> None:
    """Refuse ``what`` (a recipe's setting, say) before any work when diffq is missing.

    Raises:
        DiffqMissing: naming ``what`` and how to install diffq.
    """
    try:
        _diffq()
    except DiffqMissing as missing:
        raise DiffqMissing(f"{what}: {missing}") from None


def quantizable(model: nn.Module, min_size: float = DEFAULT_MIN_SIZE) -> bool:
    """Whether diffq quantizes any parameter of ``model``: one over ``min_size`` MB of float32
    (diffq's rule; the smaller ones stay as they are)."""
    return any(p.numel() > min_size * 2**20 // 4 for p in model.parameters())


# ----------------------------------------------------------------------------- post-training


def uniform_quantizer(
    model: nn.Module, bits: int = DEFAULT_BITS, *, min_size: float = DEFAULT_MIN_SIZE
) -> Any:
    """A ``diffq.UniformQuantizer`` on ``model`` (float16 for parameters under ``min_size``).

    Pass it to ``checkpoint.save_model(model, path, quantizer=...)``; it does not change the
    model's own weights.
    """
    if not 1 <= bits <= 15:
        raise ValueError(f"bits must be in 1..15, got {bits}")
    return _diffq().UniformQuantizer(model, bits=float(bits), min_size=min_size, float16=True)


def quantization_step(tensor: torch.Tensor, bits: int) -> float:
    """The level spacing ``(max - min) / (2**bits - 1)`` of a tensor quantized over its range."""
    return (tensor.max() - tensor.min()).item() / (2**bits - 1)


@dataclass(frozen=True)
class QuantizeReport:
    """What ``quantize_file`` did: sizes in bytes, and the weight error against its bound."""

    source: Path
    destination: Path
    bits: int
    quantized: int  # parameters stored in ``bits`` bits; the others (under min_size) in float16
    bytes_before: int
    bytes_after: int
    sha256: str
    max_error: float  # largest |w_q - w| over the parameters, after loading the new file
    max_half_step: float  # largest half quantization step: the bound on max_error

    @property
    def ratio(self) -> float:
        """How many times smaller the file became."""
        return self.bytes_before / self.bytes_after

    @property
    def smaller(self) -> bool:
        """Whether the file became smaller (a float16 source at 15 bits does not)."""
        return self.bytes_after < self.bytes_before

    def size_change(self) -> str:
        """``"3.52x smaller"``, or ``"1.27x larger"`` when it is not smaller."""
        return f"{self.ratio:.2f}x smaller" if self.smaller else f"{1 / self.ratio:.2f}x larger"


def quantize_model_file(
    model: nn.Module,
    destination: str | Path,
    *,
    bits: int = DEFAULT_BITS,
    min_size: float = DEFAULT_MIN_SIZE,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """Write ``model`` quantized to ``bits`` as a stemgui checkpoint; return its sha256."""
    from stemgui.separation.checkpoint import save_model

    quantizer = uniform_quantizer(model, bits, min_size=min_size)
    try:
        return save_model(model, destination, provenance=provenance, quantizer=quantizer)
    finally:
        quantizer.detach()  # remove its forward hooks: the model is left as it was


def quantize_file(
    source: str | Path,
    destination: str | Path,
    *,
    bits: int = DEFAULT_BITS,
    min_size: float = DEFAULT_MIN_SIZE,
) -> QuantizeReport:
    """Post-training quantization of a stemgui checkpoint (one network) into ``destination``.

    The new file is loaded back through the engine to measure the weight error.

    ``source`` may be an official Demucs ``.th`` file (``training.models``).

    Raises:
        ModelLoadError: ``source`` (or the written file) does not load.
        ValueError: ``source`` holds a bag of models (quantize its members one by one).
    """
    from stemgui.separation.checkpoint import load_model, read_checkpoint
    from stemgui.separation.official import load_any
    from training.models import is_official, provenance_of

    source, destination = Path(source), Path(destination)
    model = load_any(source)
    if not hasattr(model, "_init_kwargs"):
        raise ValueError(f"{source} holds a bag of models; quantize its members one by one")
    if is_official(source):
        provenance = provenance_of(source)
    else:
        payload = read_checkpoint(source)
        if payload["models"][0].get("quantized") is not None:
            raise ValueError(
                f"{source} is quantized already; quantize the float file it was made from"
            )
        provenance = dict(payload.get("provenance") or {})
    # the float model's figures are not the 8-bit file's: measured (--data) or none, never
    # shipped by export as if they were
    provenance["valid_sdr"] = {}
    provenance["quantization"] = {
        "from": source.name,
        "method": "diffq.UniformQuantizer (post-training)",
        "bits": bits,
        "min_size_mb": min_size,
    }
    sha256 = quantize_model_file(
        model, destination, bits=bits, min_size=min_size, provenance=provenance
    )
    restored = dict(load_model(destination).named_parameters())
    max_error = max_half_step = 0.0
    for name, weight in model.named_parameters():
        max_error = max(max_error, (restored[name] - weight).abs().max().item())
        max_half_step = max(max_half_step, quantization_step(weight, bits) / 2)
    report = QuantizeReport(
        source=source,
        destination=destination,
        bits=bits,
        quantized=len(read_checkpoint(destination)["models"][0]["quantized"]["quantized"]),
        bytes_before=source.stat().st_size,
        bytes_after=destination.stat().st_size,
        sha256=sha256,
        max_error=max_error,
        max_half_step=max_half_step,
    )
    logger.info("quantized %s -> %s: %s", source, destination, report.size_change())
    return report


# ----------------------------------------------------------------------------- QAT


class QuantizationAwareTraining:
    """``diffq.DiffQuantizer`` on a model whose optimizer already exists.

    In a training loop (create the optimizer first, then this, then load a resumed state)::

        qat = QuantizationAwareTraining(model, optimizer, penalty=3e-4)
        loss = l1 + qat.penalty()          # penalty * differentiable model size (MB)
        ...
        qat.save(path, provenance=...)     # a stemgui file with the learned bits, packed

    ``model.train()`` / ``model.eval()`` switch diffq between noisy weights and truly
    quantized ones, so validation during training sees the model that will be saved. The model
    gains a ``<name>_diffq`` parameter (the logits of the bits) per quantized parameter: they
    are in ``model.state_dict()`` and the optimizer (a resumed run restores them) and are left
    out of the saved model file. An EMA copy of the weights must skip them (pair parameters by
    name, not by position).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        penalty: float = 3e-4,
        group_size: int = 8,
        min_size: float = DEFAULT_MIN_SIZE,
        min_bits: float = 2,
        max_bits: float = 15,
        init_bits: float = 8,
        bits_lr: float = 1e-3,
    ) -> None:
        if not quantizable(model, min_size):  # diffq itself would fail at the first evaluation
            raise ValueError(f"no parameter is over {min_size} MB: nothing to quantize")
        self.model = model
        self.weight = float(penalty)
        # float16=False: with True, every model.eval() would round the small parameters of the
        # training model to float16 for good (diffq restores only the quantized ones)
        self.quantizer = _diffq().DiffQuantizer(
            model,
            min_size=min_size,
            float16=False,
            group_size=group_size,
            min_bits=min_bits,
            max_bits=max_bits,
            init_bits=init_bits,
            suffix=DIFFQ_SUFFIX,
        )
        self.quantizer.setup_optimizer(optimizer, lr=bits_lr)

    def penalty(self) -> torch.Tensor:
        """``penalty * model size (MB)``: a differentiable scalar to add to the loss."""
        return self.weight * self.quantizer.model_size()

    def model_size_mb(self) -> float:
        """The size with the bits rounded as they will be stored (MB, uncompressed)."""
        return float(self.quantizer.true_model_size())

    def mean_bits(self) -> float:
        """The bits per quantized weight, averaged over groups, as they will be stored."""
        with torch.no_grad():  # diffq 0.2.4 internals: no public accessor for the bits
            bits = [
                self.quantizer._get_bits(qparam.logit).round().clamp(1, 15)
                for qparam in self.quantizer._qparams
                if qparam.other is None
            ]
        return float(torch.cat(bits).mean()) if bits else 0.0

    def save(self, path: str | Path, *, provenance: Mapping[str, Any] | None = None) -> str:
        """Write the model with its learned bits as a stemgui checkpoint; return its sha256."""
        from stemgui.separation.checkpoint import save_model

        provenance = dict(provenance or {})
        provenance.setdefault(
            "quantization",
            {
                "method": "diffq.DiffQuantizer (quantization-aware training)",
                "penalty": self.weight,
                "mean_bits": self.mean_bits(),
                "model_size_mb": self.model_size_mb(),
            },
        )
        device = next(self.model.parameters()).device
        self.model.cpu()  # in place: the quantizer keeps the same Parameter objects
        try:
            return save_model(self.model, path, provenance=provenance, quantizer=self.quantizer)
        finally:
            self.model.to(device)


def plain_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """``model.named_parameters()`` without diffq's bits logits (for EMA and clipping)."""
    return [(n, p) for n, p in model.named_parameters() if not n.endswith(DIFFQ_SUFFIX)]


# ----------------------------------------------------------------------------- command line


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
    parser.add_argument("output", type=given_path, help="quantized stemgui checkpoint to write")
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
