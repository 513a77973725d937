"""Model files written from other model files, their tensors copied as stored.

A bag made of single-model files (``save_bag_of_files``), one member of a bag on its own
(``save_member``), a model with its chunk length changed (``save_with_segment``) and a file
with entries added to its provenance (``add_provenance``). No network is saved from memory:
the stored entries are copied (a quantized member stays quantized) and written in our
checkpoint format (``checkpoint``); a bag's members, a lone member and a changed entry are
built first, so that a file which would not load is never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stemgui.errors import ModelLoadError
from stemgui.separation.bag import BagOfModels
from stemgui.separation.building import build_entry, decode_arguments
from stemgui.separation.checkpoint import read_checkpoint, write_payload
from stemgui.separation.plain_values import decode_plain, encode_plain


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
        networks.append(build_entry(member, entries[-1]))
    BagOfModels(networks, weights, segment)  # validates the members together and the weights
    payload = {
        "kind": "bag",
        "models": entries,
        "weights": None if weights is None else [list(map(float, w)) for w in weights],
        "segment": None if segment is None else float(segment),
    }
    return write_payload(payload, Path(path), provenance)


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
    build_entry(source, members[index])  # it must load on its own
    return write_payload({"kind": "model", "models": [members[index]]}, Path(path), provenance)


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
    kwargs = decode_arguments(source, entry["kwargs"])
    if "segment" not in kwargs:
        raise ValueError(f"{source}: {entry['architecture']} takes no segment argument")
    previous = kwargs["segment"]
    kwargs["segment"] = float(segment)
    entry["kwargs"] = encode_plain(kwargs, "kwargs")
    entry["segment"] = float(segment)
    build_entry(source, entry)  # the changed entry must still build and load
    provenance = {**(payload.get("provenance") or {}), **(provenance or {})}
    provenance["segment_changed"] = {
        "from_file": source.name,
        "from": float(previous),
        "to": float(segment),
    }
    return write_payload({"kind": "model", "models": [entry]}, Path(path), provenance)


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
    return write_payload(payload, path, provenance)
