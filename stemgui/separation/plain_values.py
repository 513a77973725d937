"""Plain values: what a model file stores besides tensors (constructor arguments, provenance).

``torch.load(weights_only=True)`` unpickles only plain containers, so everything a checkpoint
stores besides its tensors is copied into them first (``encode_plain``) and back on loading
(``decode_plain``). A ``Fraction`` (Demucs segments such as 39/5) is stored as
``{"__fraction__": [numerator, denominator]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

_FRACTION_TAG = "__fraction__"


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
    """Inverse of ``encode_plain``.

    Raises:
        ValueError: a fraction that is not two whole numbers, the second not 0 (a damaged file:
            it was a ZeroDivisionError, TypeError or ValueError of unpacking).
    """
    if isinstance(value, dict):
        if set(value) == {_FRACTION_TAG}:
            terms = value[_FRACTION_TAG]
            if (
                not isinstance(terms, list | tuple)
                or len(terms) != 2
                or not all(isinstance(t, int) and not isinstance(t, bool) for t in terms)
                or terms[1] == 0
            ):
                raise ValueError(
                    f"a fraction must be two whole numbers, the second not 0, not {terms!r}"
                )
            return Fraction(*terms)
        return {key: decode_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(decode_plain(item) for item in value)
    return value
