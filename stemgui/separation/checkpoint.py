"""Our checkpoint format: a self-describing model file that loads without unpickling code.

A file is ``torch.save`` of plain containers only, read back with ``torch.load(weights_only=True)``:

.. code-block:: python

    {
        "format": "stemgui-model", "format_version": 1,
        "kind": "model" | "bag",
        "software": {"stemgui": "0.1.0", "torch": "2.13.0"},
        "provenance": {...},            # free, plain values: how the weights were made
        "models": [                     # one entry for "model", one per member for "bag"
            {
                "architecture": "HTDemucs",   # a name in ``registry``
                "kwargs": {...},              # constructor arguments (Fraction tagged)
                "sources": [...], "samplerate": 44100, "audio_channels": 2,
                "segment": 7.8 | None,
                "dtype": "float32" | "float16",
                "state": {name: tensor},      # the state dict (buffers only when quantized)
                "quantized": {...} | None,    # a diffq state: see diffq_state.py
            },
        ],
        "weights": [[...], ...] | None,  # bag only: per model, one weight per source
        "segment": float | None,          # bag only
    }

Integrity: the file's sha256 is checked on loading (``hashing.verify_sha256``) against an
expected value (argument or manifest) or, failing that, against the hash prefix in its name.
Every failure to load is a ``ModelLoadError`` that names the file and says what to do. Values
other than tensors go through ``plain_values``; each entry's network is built, its arguments
and tensors checked, by ``building``; files made from other model files (bags of member files,
a changed segment, added provenance) are written by ``rewrite``.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

import stemgui
from stemgui.audio.atomic import atomic_path
from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from stemgui.separation.building import build_entry
from stemgui.separation.hashing import HASH_PREFIX_LENGTH, file_sha256, verify_sha256
from stemgui.separation.plain_values import encode_plain

logger = logging.getLogger(__name__)

FORMAT = "stemgui-model"
FORMAT_VERSION = 1
SUFFIX = ".stemgui"

_FP16_MAX = 65504.0


# ----------------------------------------------------------------------------- saving


def _quantized_entry(model: nn.Module, quantizer: Any) -> dict[str, Any]:
    """A diffq quantizer's packed state, with the quantizer named instead of pickled."""
    if getattr(quantizer, "model", None) is not model:
        raise ValueError("the quantizer was not made for this model")
    state = quantizer.get_quantized_state(packed=True)
    meta = state["meta"]
    return {
        "quantizer": type(quantizer).__name__,
        "init_kwargs": encode_plain(dict(meta["init_kwargs"]), "quantizer arguments"),
        "packed": bool(meta["packed"]),
        "torch_pack": bool(meta["torch_pack"]),
        "quantized": state["quantized"],
        "float16": state["float16"],
        "others": state["others"],
    }


def _model_entry(model: nn.Module, half: bool, quantizer: Any = None) -> dict[str, Any]:
    name = registry.name_of(model)
    init_kwargs = getattr(model, "_init_kwargs", None)
    if init_kwargs is None:
        raise ValueError(f"{name} has no _init_kwargs: it cannot be rebuilt from a checkpoint")
    parameters = {key for key, _ in model.named_parameters(remove_duplicate=False)}
    state = {}
    for key, tensor in model.state_dict().items():
        if quantizer is not None and key in parameters:
            continue
        tensor = tensor.detach().to("cpu")
        if half and tensor.is_floating_point():
            if tensor.numel() and tensor.abs().max().item() > _FP16_MAX:
                raise ValueError(f"{name}.{key} has values beyond float16 range; save in float32")
            tensor = tensor.half()
        state[key] = tensor.clone().contiguous()
    segment = getattr(model, "segment", None)
    return {
        "architecture": name,
        "kwargs": encode_plain(dict(init_kwargs), f"{name} kwargs"),
        "sources": list(model.sources),
        "samplerate": int(model.samplerate),
        "audio_channels": int(model.audio_channels),
        "segment": None if segment is None else float(segment),
        "dtype": "float16" if half else "float32",
        "state": state,
        "quantized": None if quantizer is None else _quantized_entry(model, quantizer),
    }


def save_model(
    model: nn.Module,
    path: str | Path,
    *,
    provenance: Mapping[str, Any] | None = None,
    half: bool = False,
    quantizer: Any = None,
) -> str:
    """Write ``model`` (a network or a ``BagOfModels``) to ``path``; return the file's sha256.

    Args:
        model: a registered network with ``_init_kwargs``, or a bag of them.
        path: destination; written under a temporary name and renamed when complete (an
            existing file is replaced only then).
        provenance: how the weights were made (config, data, commit, figures): plain values.
        half: store floating-point tensors as float16 (half the size; loaded back as float32).
        quantizer: a ``diffq`` ``DiffQuantizer``/``UniformQuantizer`` attached to ``model``
            (single models only): the parameters are stored in its packed quantized form,
            which loading dequantizes without diffq.

    Raises:
        ValueError: the model cannot be described (unregistered class, no ``_init_kwargs``,
            provenance with non-plain values, values beyond float16 range with ``half``,
            a quantizer with a bag or made for another model).
    """
    path = Path(path)
    if isinstance(model, BagOfModels):
        if quantizer is not None:
            raise ValueError("quantize the members one by one, then save_bag_of_files")
        payload: dict[str, Any] = {
            "kind": "bag",
            "models": [_model_entry(member, half) for member in model.models],
            "weights": [list(map(float, w)) for w in model.weights],
            "segment": None if model.segment is None else float(model.segment),
        }
    else:
        payload = {"kind": "model", "models": [_model_entry(model, half, quantizer)]}
    return write_payload(payload, path, provenance)


def write_payload(payload: dict[str, Any], path: Path, provenance: Mapping[str, Any] | None) -> str:
    """Write ``payload`` (``kind``, ``models`` and, for a bag, ``weights`` and ``segment``) to
    ``path`` with the format header, software versions and ``provenance`` added (atomically);
    return the file's sha256.

    Raises:
        ValueError: ``provenance`` holds values that are not plain.
        OSError: the file could not be written (one line: its name, why, what to do).
    """
    payload.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        software={"stemgui": str(stemgui.__version__), "torch": str(torch.__version__)},
        provenance=encode_plain(dict(provenance or {}), "provenance"),
    )
    # through a file object: torch names the archive inside after a path's file (here the
    # temporary one, random), so the same model written twice had two hashes
    try:
        with atomic_path(path, overwrite=True) as part, open(part, "wb") as stream:
            torch.save(payload, stream)
    except (OSError, RuntimeError) as error:  # torch's RuntimeError: a write that failed
        raise _unwritten(path, error) from error
    sha256 = file_sha256(path)
    logger.info("saved %s (%s, sha256 %s)", path, payload["kind"], sha256[:HASH_PREFIX_LENGTH])
    return sha256


def _unwritten(path: Path, error: BaseException) -> OSError:
    """The one-line OSError of a model file that could not be written (the one before, if
    any, is as it was; the temporary file is gone): its name, why, and what to do."""
    seen: BaseException | None = error  # torch raises RuntimeError from the OSError of a write
    while seen is not None and not (isinstance(seen, OSError) and seen.strerror):
        seen = seen.__cause__ or seen.__context__
    found = seen if isinstance(seen, OSError) else None
    said = (str(error).strip() or type(error).__name__).splitlines()[0]
    reason = found.strerror if found is not None else said
    code = found.errno if found is not None else None
    full = code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or found is None
    remedy = "free space on its disk" if full else "choose a folder you can write to"
    failure = OSError(f"{path}: could not be written ({reason}); {remedy} and try again")
    failure.errno = code
    return failure


# ----------------------------------------------------------------------------- loading


def read_checkpoint(path: str | Path, *, sha256: str | None = None) -> dict[str, Any]:
    """Verify and read a checkpoint's raw contents (tensors included), without building.

    Raises:
        ModelLoadError: missing, hash mismatch, truncated, not our format, newer version.
    """
    path = Path(path)
    verify_sha256(path, sha256)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad bytes; all mean the same here
        logger.debug("torch.load failed on %s", path, exc_info=True)
        from stemgui.audio.files import SUPPORTED_EXTENSIONS

        if path.suffix.lower() in SUPPORTED_EXTENSIONS:  # a song picked in the model's place
            raise ModelLoadError(
                path, "is a song, not a model; choose a model file (.stemgui, .th or .yaml)"
            ) from exc
        if path.suffix.lower() in (".yaml", ".yml"):  # what the store opens as a bag
            raise ModelLoadError(
                path, "is a bag description, not a model file; give the model files it lists"
            ) from exc
        if path.suffix.lower() != ".th" and _is_official(path):  # renamed, or saved so
            raise ModelLoadError(
                path,
                "is an official Demucs checkpoint, not a stemgui model file; rename it to "
                f"{path.stem}.th",
            ) from exc
        hint = (
            " (an official Demucs .th file? this needs a stemgui file; the app opens .th files)"
            if path.suffix.lower() == ".th"
            else ""
        )
        raise ModelLoadError(
            path,
            "not a readable stemgui model file: truncated, damaged or another format"
            f"{hint}; download or export it again",
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelLoadError(
            path,
            "not a stemgui model file: a PyTorch file without its header (a training run's "
            "last.pt, another program's weights); choose a .stemgui model (a run's "
            "best.stemgui) or an official Demucs .th file",
        )
    version = payload.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        # "1", none or 0 (edited by hand) was told to update stemgui, which could not help
        raise ModelLoadError(
            path,
            f"malformed stemgui model file (format version {version!r}); download or export it "
            "again",
        )
    if version > FORMAT_VERSION:
        raise ModelLoadError(
            path,
            f"checkpoint format version {version!r} is newer than this stemgui reads; "
            "update stemgui",
        )
    kind, entries = payload.get("kind"), payload.get("models")
    if kind not in ("model", "bag") or not isinstance(entries, list) or not entries:
        raise ModelLoadError(path, "malformed stemgui model file (no models); export it again")
    if kind == "model" and len(entries) != 1:
        raise ModelLoadError(
            path, "malformed stemgui model file (several models, not a bag); export it again"
        )
    return payload


def _is_official(path: Path) -> bool:
    """Whether ``path`` reads as an official Demucs checkpoint (``official.read_official``)."""
    from stemgui.separation.official import read_official  # it imports this module

    try:
        read_official(path)
    except ModelLoadError:
        return False
    return True


def load_model(path: str | Path, *, sha256: str | None = None) -> nn.Module:
    """Load a network or a ``BagOfModels`` written by ``save_model``: eval mode, float32, CPU.

    Args:
        path: the checkpoint file.
        sha256: expected hash (full hex or a prefix of at least 8 digits); when None, the
            prefix in the file name (``name-1a2b3c4d.stemgui``) is checked if there is one.

    Raises:
        ModelLoadError: missing, tampered (sha256), truncated, wrong format, unknown architecture
            or tensors that do not fit it.
    """
    path = Path(path)
    payload = read_checkpoint(path, sha256=sha256)
    models = [build_entry(path, entry) for entry in payload["models"]]
    if payload["kind"] == "model":
        return models[0]
    try:
        bag = BagOfModels(models, payload.get("weights"), payload.get("segment"))
    except ValueError as exc:
        raise ModelLoadError(path, f"malformed bag of models: {exc}; export it again") from exc
    return bag.eval()
