"""Import the checkpoints published by the Demucs authors (``.th``) and their bag YAML files.

An official ``.th`` file is a pickle (``torch.save``) of ``{"klass": <class demucs.x.Y>,
"args": [...], "kwargs": {...}, "state": ..., "training_args": ...}``
where ``state`` is either a state dict in float16 or a diffq-quantized state. Unpickling it
with the standard machinery could run any code the file names, so we read it with a restricted
unpickler: it rebuilds tensors and plain containers, turns references to ``demucs.*`` (and
``diffq.*``) classes into inert names, and refuses everything else before it runs.

Quantized states are dequantized here (see ``diffq_state``); the ``diffq`` package is not needed.
"""

from __future__ import annotations

import collections
import fractions
import inspect
import logging
import pickle
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from stemgui.errors import ModelLoadError
from stemgui.separation import MAX_SEGMENT, MIN_SEGMENT
from stemgui.separation.bag import BagOfModels
from stemgui.separation.building import architecture_class, build_network, check_finite
from stemgui.separation.checkpoint import FORMAT, SUFFIX, load_model
from stemgui.separation.diffq_state import QuantizedStateError, dequantize_state
from stemgui.separation.hashing import HASH_PREFIX_LENGTH, verify_sha256

logger = logging.getLogger(__name__)

OFFICIAL_SUFFIX = ".th"


# ----------------------------------------------------------------------------- restricted pickle


@dataclass(frozen=True)
class ClassRef:
    """A class named by the file (``demucs.htdemucs.HTDemucs``), kept as a name, never imported."""

    module: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise _Refused(self.qualified)


class _Refused(Exception):
    """Raised inside the unpickler; turned into a ModelLoadError naming the file."""

    def __init__(self, qualified: str) -> None:
        super().__init__(qualified)
        self.qualified = qualified


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): torch._utils._rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("fractions", "Fraction"): fractions.Fraction,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}
# Classes the official files name but that we only need by name.
_NAMED_ONLY = ("demucs", "diffq")


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only what tensor rebuilding needs; torch's wrapper handles ``*Storage`` names."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module.split(".")[0] in _NAMED_ONLY and "." in module:
            return ClassRef(module, name)
        raise _Refused(f"{module}.{name}")


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return _RestrictedUnpickler(file, **kwargs).load()


# ``torch.load(pickle_module=...)`` needs ``Unpickler`` and ``load`` (legacy format) from it.
restricted_pickle = types.ModuleType("stemgui_restricted_pickle")
restricted_pickle.Unpickler = _RestrictedUnpickler
restricted_pickle.load = _restricted_load
restricted_pickle.__doc__ = "pickle restricted to tensors and plain containers (see official.py)"


# ----------------------------------------------------------------------------- reading


def read_official(path: str | Path, *, sha256: str | None = None) -> dict[str, Any]:
    """Verify and read an official ``.th`` package without running any code from it.

    Returns the package dict, with ``klass`` (and the quantizer's class) as ``ClassRef``.

    Raises:
        ModelLoadError: missing, hash mismatch (argument or ``<sig>-<hash>.th`` name), truncated,
            not a Demucs package, or asking to run anything beyond tensor rebuilding.
    """
    path = Path(path)
    verify_sha256(path, sha256)
    try:
        package = torch.load(
            path, map_location="cpu", weights_only=False, pickle_module=restricted_pickle
        )
    except _Refused as refused:
        logger.warning("refused %s: it names %s", path, refused.qualified)
        raise ModelLoadError(
            path,
            f"refusing to load: the file asks to run {refused.qualified}, which no model needs; "
            "delete it and download the model again",
        ) from None
    except Exception as exc:  # torch/pickle raise many types on bad bytes; all mean the same here
        logger.debug("reading %s failed", path, exc_info=True)
        raise ModelLoadError(
            path,
            "not a readable Demucs checkpoint: truncated, damaged or another format; "
            "download it again",
        ) from exc
    if isinstance(package, dict) and package.get("format") == FORMAT:  # ours, named .th
        raise ModelLoadError(
            path,
            f"is a stemgui model file, not an official Demucs one; rename it to "
            f"{path.stem}{SUFFIX}",
        )
    if not isinstance(package, dict) or not {"klass", "state"} <= package.keys():
        raise ModelLoadError(
            path, "not a Demucs checkpoint (no 'klass' and 'state' entries); download it again"
        )
    if not isinstance(package["klass"], ClassRef) or package["klass"].module.split(".")[0] != (
        "demucs"
    ):
        raise ModelLoadError(
            path, "not a Demucs checkpoint (its class is not a demucs network); download it again"
        )
    return package


def _constructor_kwargs(path: Path, cls: type, package: dict[str, Any]) -> dict[str, Any]:
    """The package's positional ``args`` named by our class's signature (same order as the
    reference), plus its ``kwargs``; arguments our class does not take are dropped, as the
    reference does, and one it needs that the file lacks is said (not Python's "missing 1
    required positional argument")."""
    args, kwargs = package.get("args", ()), package.get("kwargs", {})
    if not isinstance(args, list | tuple) or not isinstance(kwargs, dict):
        raise ModelLoadError(path, "malformed Demucs checkpoint (args/kwargs); download it again")
    parameters = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(args) > len(parameters):
        raise ModelLoadError(
            path,
            f"{cls.__name__} takes fewer positional arguments than stored; update stemgui, or "
            "download it again",
        )
    merged = dict(zip(parameters, args))
    merged.update(kwargs)
    accepted = inspect.signature(cls).parameters
    needed = (p for p in accepted.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    if lacks := ", ".join(p.name for p in needed if p.default is p.empty and p.name not in merged):
        if {"args", "kwargs"}.isdisjoint(package):
            why = (
                "the file does not store the network's arguments (no 'args' nor 'kwargs' "
                f"entry), so it cannot be rebuilt: it lacks {lacks}"
            )
        else:
            why = (
                f"the network's arguments stored in the file lack {lacks}, so it cannot be rebuilt"
            )
        raise ModelLoadError(path, f"{cls.__name__}: {why}; download it again")
    for key in [k for k in merged if k not in accepted]:
        logger.warning("%s: dropping argument %s=%r unknown to %s", path, key, merged[key], cls)
        del merged[key]
    return merged


def import_official(path: str | Path, *, sha256: str | None = None) -> nn.Module:
    """Build our network from an official Demucs ``.th`` file: eval mode, float32, CPU.

    The class named in the file (``demucs.htdemucs.HTDemucs``) maps onto ours by its name
    through ``registry``; fp16 and diffq-quantized states are both accepted.

    Raises:
        ModelLoadError: see ``read_official``; also unknown architecture, tensors that do not fit.
    """
    path = Path(path)
    package = read_official(path, sha256=sha256)
    name = package["klass"].name
    cls = architecture_class(path, name)
    kwargs = _constructor_kwargs(path, cls, package)
    model = build_network(path, name, cls, kwargs, "download it again")
    state = package["state"]
    if not isinstance(state, dict):
        raise ModelLoadError(
            path, "malformed Demucs checkpoint (state is not a dict); download it again"
        )
    if state.get("__quantized"):
        try:
            state = dequantize_state(model, state)
        except QuantizedStateError as exc:
            raise ModelLoadError(
                path, f"quantized state cannot be read: {exc}; download it again"
            ) from exc
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ModelLoadError(
            path, "malformed Demucs checkpoint (state is not tensors); download it again"
        )
    check_finite(path, name, state, "download it again")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(
            path, f"tensors do not fit our {name}: {exc}; download it again"
        ) from exc
    logger.info("imported %s as %s", path.name, name)
    return model.float().eval()


# ----------------------------------------------------------------------------- bags


def find_signature(models_dir: str | Path, signature: str) -> Path | None:
    """The file for ``signature`` in ``models_dir``: ``<sig>.th``, ``<sig>-<hash>.th`` (or our
    ``.stemgui`` files named the same way), in either case; None when absent.

    Raises:
        ModelLoadError: several files claim the signature.
    """
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return None
    signature = signature.lower()  # ABCD1234.TH: as a FAT drive or an 8.3 copy names it
    found = []
    for candidate in models_dir.iterdir():
        if candidate.suffix.lower() not in (OFFICIAL_SUFFIX, SUFFIX) or not candidate.is_file():
            continue
        stem = candidate.stem.lower()
        head, _, tail = stem.rpartition("-")
        if stem == signature or (head == signature and len(tail) == HASH_PREFIX_LENGTH):
            found.append(candidate)
    if len(found) > 1:
        names = ", ".join(sorted(p.name for p in found))
        raise ModelLoadError(
            models_dir, f"several files for model {signature}: {names}; delete all but one"
        )
    return found[0] if found else None


def load_any(path: str | Path, *, sha256: str | None = None) -> nn.Module:
    """Load one network file: official ``.th`` (``.TH`` too) through ``import_official``, else
    our format."""
    path = Path(path)
    if path.suffix.lower() == OFFICIAL_SUFFIX:
        return import_official(path, sha256=sha256)
    return load_model(path, sha256=sha256)


# What to do about a bag file that says no bag: the official ones come from the Demucs
# repository, others are written by hand.
_BAG_REMEDY = "correct it, or download it again"


def read_bag_file(yaml_path: str | Path) -> dict[str, Any]:
    """Parse a bag YAML (``models:`` signatures, optional ``weights:`` and ``segment:``).

    Raises:
        ModelLoadError: missing, not YAML, or not a bag description.
    """
    yaml_path = Path(yaml_path)
    try:
        text = yaml_path.read_text(encoding="utf-8")
        description = yaml.safe_load(text)
    except FileNotFoundError as exc:
        raise ModelLoadError(yaml_path, "bag file not found; check its name and folder") from exc
    except OSError as exc:  # a folder, no permission
        raise ModelLoadError(
            yaml_path,
            f"bag file could not be read ({exc.strerror or exc}); check that it is a file you "
            "may read",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ModelLoadError(
            yaml_path, f"bag file is not readable YAML ({exc.reason}); {_BAG_REMEDY}"
        ) from exc
    except yaml.YAMLError as exc:  # its own text takes 4 to 8 lines, the faulty line quoted
        mark = getattr(exc, "problem_mark", None)  # a syntax error: where, and what
        if mark is None:  # an unreadable character: what, on its first line
            reason = str(exc).splitlines()[0]
        else:
            reason = f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
        raise ModelLoadError(
            yaml_path, f"bag file is not readable YAML: {reason}; {_BAG_REMEDY}"
        ) from exc
    if not isinstance(description, dict) or not isinstance(description.get("models"), list):
        raise ModelLoadError(yaml_path, f"not a bag of models (no 'models:' list); {_BAG_REMEDY}")
    signatures = description["models"]
    if not signatures or not all(isinstance(s, str | int) for s in signatures):
        raise ModelLoadError(yaml_path, f"'models:' must list model signatures; {_BAG_REMEDY}")
    segment = description.get("segment")
    if segment is not None and (
        isinstance(segment, bool)
        or not isinstance(segment, int | float)
        or not MIN_SEGMENT <= segment <= MAX_SEGMENT
    ):  # 0.001 or less ran chunks of a few samples, for days; .nan failed at the first chunk,
        # 1e6 for memory
        raise ModelLoadError(
            yaml_path,
            f"'segment:' must be a number of seconds from {MIN_SEGMENT:g} to {MAX_SEGMENT:g}, "
            f"not {segment!r}; {_BAG_REMEDY}",
        )
    return {
        "models": _models_as_written(text),
        "weights": description.get("weights"),
        "segment": None if segment is None else float(segment),
    }


def _models_as_written(text: str) -> list[str]:
    """The items of the ``models:`` list of a bag file's ``text`` (read already) as written:
    YAML reads a signature of digits alone as a number, which named no file (01234567, octal,
    was looked for as 342391; 00000000 as 0)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    listed = [value for key, value in root.value if key.value == "models"][-1]  # as safe_load
    return [item.value for item in listed.value]


def load_bag_file(yaml_path: str | Path, models_dir: str | Path) -> BagOfModels:
    """Build the ``BagOfModels`` a YAML file describes from the files in ``models_dir``.

    Raises:
        ModelLoadError: bad YAML, a listed model missing (the message names it and says to
            download it) or a bag itself, any member failing to load, or weights that do not
            fit.
    """
    yaml_path = Path(yaml_path)
    description = read_bag_file(yaml_path)
    models = []
    for signature in description["models"]:
        path = find_signature(models_dir, signature)
        if path is None:
            raise ModelLoadError(
                yaml_path,
                f"model {signature} of this bag is not in {models_dir}; "
                "download it (or put its .th file there) and try again",
            )
        member = load_any(path)
        if isinstance(member, BagOfModels):  # it loaded, then failed on songs past one chunk
            raise ModelLoadError(
                yaml_path,
                f"model {signature} of this bag ({path.name}) is a bag itself, which a bag "
                "cannot hold; list single-model files",
            )
        models.append(member)
    try:
        bag = BagOfModels(models, description["weights"], description["segment"])
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(
            yaml_path, f"the bag's models or weights do not fit: {exc}; {_BAG_REMEDY}"
        ) from exc
    return bag.eval()
