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

Integrity: the file's sha256 is checked against an expected value (argument or manifest) or,
failing that, against the hash prefix in its name (``name-<first 8 hex of sha256>.ext``, the
convention of the Demucs model repository). Every failure to load is a ``ModelLoadError`` that
names the file and says what to do.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
from torch import nn

import stemgui
from stemgui.audio.atomic import atomic_path
from stemgui.errors import ModelLoadError
from stemgui.separation import registry
from stemgui.separation.bag import BagOfModels
from stemgui.separation.spec import HASHED_STEM

logger = logging.getLogger(__name__)

FORMAT = "stemgui-model"
FORMAT_VERSION = 1
SUFFIX = ".stemgui"
HASH_PREFIX_LENGTH = 8

_FRACTION_TAG = "__fraction__"
_FP16_MAX = 65504.0


# ----------------------------------------------------------------------------- integrity


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes as 64 lower-case hex digits (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def hash_prefix_from_name(path: str | Path) -> str | None:
    """The 8 hex digits of ``name-<prefix>.ext``, or None when the name carries no hash."""
    match = HASHED_STEM.match(Path(path).stem)
    return match["prefix"] if match else None


def hashed_name(path: str | Path, sha256: str) -> Path:
    """``folder/name.ext`` -> ``folder/name-<first 8 hex of sha256>.ext``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{sha256[:HASH_PREFIX_LENGTH]}{path.suffix}")


def verify_sha256(path: str | Path, expected: str | None = None) -> str:
    """Check ``path`` against ``expected`` (full hex or a prefix of at least 8 digits), else
    against the prefix in its name; return the actual sha256.

    Raises:
        ModelLoadError: the file is missing, unreadable, or its hash does not match.
    """
    path = Path(path)
    if not path.is_file():
        what = (
            "is a folder; name a model file in it"
            if path.is_dir()
            else ("model file not found; download or export it again")
        )
        raise ModelLoadError(path, what)
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ModelLoadError(path, f"model file could not be read ({exc})") from exc
    source = "expected"
    if expected is None:
        expected = hash_prefix_from_name(path)
        source = "its name says"
    if expected is None:
        return actual
    expected = expected.strip().lower()
    if len(expected) < HASH_PREFIX_LENGTH or not re.fullmatch(r"[0-9a-f]+", expected):
        raise ValueError(f"expected sha256 must be at least 8 hex digits, got {expected!r}")
    if not actual.startswith(expected):
        raise ModelLoadError(
            path,
            f"sha256 is {actual[: len(expected)]} but {source} {expected}: the file is damaged "
            "or was changed; download it again (or export it again if you made it)",
        )
    return actual


# ----------------------------------------------------------------------------- plain values


def encode_plain(value: Any, where: str = "value") -> Any:
    """Copy ``value`` into containers that ``torch.load(weights_only=True)`` accepts.

    Allowed: None, bool, int, float, str, lists/tuples and str-keyed dicts of those, and
    ``Fraction`` (stored as ``{"__fraction__": [numerator, denominator]}``).

    Raises:
        ValueError: naming the offending entry, for anything else (tensors, objects, ...).
    """
    if value is None or isinstance(value, bool):
        return value
    for plain in (int, float, str):  # exact types: subclasses (TorchVersion, enums) would pickle
        if isinstance(value, plain):  # as classes that weights_only refuses
            return plain(value)
    if isinstance(value, Fraction):
        return {_FRACTION_TAG: [value.numerator, value.denominator]}
    if isinstance(value, list | tuple):
        items = [encode_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, Mapping):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be strings, got {key!r}")
            encoded[key] = encode_plain(item, f"{where}[{key!r}]")
        return encoded
    raise ValueError(f"{where}: {type(value).__name__} cannot be stored in a checkpoint")


def decode_plain(value: Any) -> Any:
    """Inverse of ``encode_plain``."""
    if isinstance(value, dict):
        if set(value) == {_FRACTION_TAG}:
            numerator, denominator = value[_FRACTION_TAG]
            return Fraction(numerator, denominator)
        return {key: decode_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(decode_plain(item) for item in value)
    return value


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
    return _write(payload, path, provenance)


def save_bag_of_files(
    members: list[str | Path],
    path: str | Path,
    *,
    weights: list[list[float]] | None = None,
    segment: float | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """Write a bag whose members are the networks of the single-model files ``members``.

    Each member's entry is copied as stored (a quantized member stays quantized), so a bag of
    8-bit files is as small as its members. ``weights``: per member, one weight per source
    (``[[1, 1, 0, 1], [0, 0, 1, 0]]`` takes "other" from the second model and the rest from the
    first, as htdemucs_ft does); default all ones. Returns the written file's sha256.

    Raises:
        ModelLoadError: a member does not load, or holds a bag itself.
        ValueError: the members or weights do not make a bag (sources differ, wrong counts,
            a source whose weights sum to zero).
    """
    entries, networks = [], []
    for member in map(Path, members):
        payload = read_checkpoint(member)
        if payload["kind"] != "model":
            raise ModelLoadError(member, "holds a bag already; list its own member files instead")
        entries.append(payload["models"][0])
        networks.append(_build_entry(member, entries[-1]))
    BagOfModels(networks, weights, segment)  # validates the members together and the weights
    payload = {
        "kind": "bag",
        "models": entries,
        "weights": None if weights is None else [list(map(float, w)) for w in weights],
        "segment": None if segment is None else float(segment),
    }
    return _write(payload, Path(path), provenance)


def save_member(
    source: str | Path,
    index: int,
    path: str | Path,
    *,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """Write member ``index`` (0 first) of the bag file ``source`` to ``path`` as a single-model
    file, its tensors copied as stored (a quantized member stays quantized), with
    ``provenance``; returns the written file's sha256.

    Raises:
        ModelLoadError: ``source`` does not load, or holds one model, not a bag.
        ValueError: the bag has no member ``index``.
    """
    source = Path(source)
    payload = read_checkpoint(source)
    if payload["kind"] != "bag":
        raise ModelLoadError(source, "holds one model, not a bag: use the file itself")
    members = payload["models"]
    if not 0 <= index < len(members):
        raise ValueError(f"{source}: no member {index}; its members are 0 to {len(members) - 1}")
    _build_entry(source, members[index])  # it must load on its own
    return _write({"kind": "model", "models": [members[index]]}, Path(path), provenance)


def save_with_segment(
    source: str | Path,
    path: str | Path,
    segment: float,
    *,
    provenance: Mapping[str, Any] | None = None,
) -> str:
    """Copy the single-model file ``source`` to ``path`` with its network's chunk length changed.

    For networks trained on fixed chunks (HTDemucs: its transformer sees ``segment`` seconds at
    once), the chunk length is a constructor argument, not a weight: the same weights can run on
    longer chunks (more context) or shorter ones. The tensors are copied as stored (a quantized
    file stays quantized); the provenance records the change, and ``provenance`` entries (e.g.
    the validation SDR measured on the new chunks) replace the source's. Returns the sha256.

    Raises:
        ModelLoadError: ``source`` does not load, or holds a bag.
        ValueError: the architecture has no ``segment`` argument, or ``segment`` is not positive.
    """
    source = Path(source)
    if not segment > 0:
        raise ValueError(f"segment must be a positive number of seconds, got {segment}")
    payload = read_checkpoint(source)
    if payload["kind"] != "model":
        raise ModelLoadError(source, "holds a bag; change the segment of its members one by one")
    entry = dict(payload["models"][0])
    kwargs = decode_plain(entry["kwargs"])
    if "segment" not in kwargs:
        raise ValueError(f"{source}: {entry['architecture']} takes no segment argument")
    previous = kwargs["segment"]
    kwargs["segment"] = float(segment)
    entry["kwargs"] = encode_plain(kwargs, "kwargs")
    entry["segment"] = float(segment)
    _build_entry(source, entry)  # the changed entry must still build and load
    provenance = {**(payload.get("provenance") or {}), **(provenance or {})}
    provenance["segment_changed"] = {
        "from_file": source.name,
        "from": float(previous),
        "to": float(segment),
    }
    return _write({"kind": "model", "models": [entry]}, Path(path), provenance)


def add_provenance(path: str | Path, entries: Mapping[str, Any]) -> str:
    """Rewrite the checkpoint ``path`` with ``entries`` added to (or replacing in) its
    provenance, the tensors as stored (such as the validation SDR measured on the file after it
    was written); returns its new sha256.

    Raises:
        ModelLoadError: ``path`` does not read as a stemgui checkpoint.
    """
    path = Path(path)
    payload = read_checkpoint(path)
    provenance = {**decode_plain(payload.get("provenance") or {}), **entries}
    return _write(payload, path, provenance)


def _write(payload: dict[str, Any], path: Path, provenance: Mapping[str, Any] | None) -> str:
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
        from stemgui.audio.decode import SUPPORTED_EXTENSIONS

        if path.suffix.lower() in SUPPORTED_EXTENSIONS:  # a song picked in the model's place
            raise ModelLoadError(
                path, "is a song, not a model; choose a model file (.stemgui, .th or .yaml)"
            ) from exc
        hint = (
            " (an official Demucs .th file? this needs a stemgui file; the app opens .th files)"
            if path.suffix == ".th"
            else ""
        )
        raise ModelLoadError(
            path,
            "not a readable stemgui model file: truncated, damaged or another format"
            f"{hint}; download or export it again",
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelLoadError(path, "not a stemgui model file (no stemgui-model header)")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelLoadError(
            path,
            f"checkpoint format version {version!r} is newer than this stemgui reads; "
            "update stemgui",
        )
    kind, entries = payload.get("kind"), payload.get("models")
    if kind not in ("model", "bag") or not isinstance(entries, list) or not entries:
        raise ModelLoadError(path, "malformed stemgui model file (no models); export it again")
    if kind == "model" and len(entries) != 1:
        raise ModelLoadError(path, "malformed stemgui model file (several models, not a bag)")
    return payload


def architecture_class(path: Path, name: str) -> type:
    """The registered class for a model file's architecture ``name``, or ``ModelLoadError``."""
    try:
        return registry.get_class(name)
    except KeyError as exc:
        raise ModelLoadError(
            path,
            f"unknown architecture {name!r} is not supported by this stemgui; "
            f"known: {', '.join(registry.names())}",
        ) from exc
    except ImportError as exc:
        raise ModelLoadError(path, f"architecture {name!r} is not available: {exc}") from exc


def _build_entry(path: Path, entry: Any) -> nn.Module:
    required = ("architecture", "kwargs", "sources", "samplerate", "audio_channels", "state")
    if not isinstance(entry, dict) or any(key not in entry for key in required):
        raise ModelLoadError(path, "malformed stemgui model entry; export it again")
    name = entry["architecture"]
    cls = architecture_class(path, name)
    try:
        model = cls(**decode_plain(entry["kwargs"]))
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(
            path, f"{name} cannot be built from the stored arguments: {exc}"
        ) from exc
    state = entry["state"]
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise ModelLoadError(path, "malformed stemgui model entry (state is not tensors)")
    if entry.get("quantized") is not None:
        state = {**_dequantized(path, model, entry["quantized"]), **state}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(path, f"tensors do not fit the {name} architecture: {exc}") from exc
    for attribute in ("sources", "samplerate", "audio_channels"):
        stored = list(entry[attribute]) if attribute == "sources" else entry[attribute]
        built = getattr(model, attribute, None)
        built = list(built) if attribute == "sources" and built is not None else built
        if built != stored:
            raise ModelLoadError(
                path,
                f"{attribute} of the built {name} ({built!r}) differ "
                f"from the file's ({stored!r}); export it again",
            )
    return model.float().eval()


def _dequantized(path: Path, model: nn.Module, stored: Any) -> dict[str, torch.Tensor]:
    from stemgui.separation.diffq_state import QuantizedStateError, dequantize_state

    if not isinstance(stored, dict) or not isinstance(stored.get("quantizer"), str):
        raise ModelLoadError(path, "malformed quantized state; export it again")
    meta = {
        "klass": stored["quantizer"],
        "init_kwargs": decode_plain(stored.get("init_kwargs", {})),
        "packed": stored.get("packed", False),
        "torch_pack": stored.get("torch_pack", False),
    }
    lists = {key: stored.get(key) for key in ("quantized", "float16", "others")}
    try:
        return dequantize_state(model, {**lists, "meta": meta})
    except QuantizedStateError as exc:
        raise ModelLoadError(path, f"quantized state cannot be read: {exc}") from exc


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
    models = [_build_entry(path, entry) for entry in payload["models"]]
    if payload["kind"] == "model":
        return models[0]
    try:
        bag = BagOfModels(models, payload.get("weights"), payload.get("segment"))
    except ValueError as exc:
        raise ModelLoadError(path, f"malformed bag of models: {exc}; export it again") from exc
    return bag.eval()
