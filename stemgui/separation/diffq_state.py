"""Dequantize a diffq-quantized model state (as in the official ``mdx_q``/``mdx_extra_q`` files)
into a plain state dict, without the ``diffq`` package.

The format, as ``diffq.BaseQuantizer.get_quantized_state`` writes it:

.. code-block:: python

    {"quantized": [entry per quantized parameter], "float16": [tensor, ...],
     "others": [tensor, ...], "meta": {"klass": <quantizer class>, "init_kwargs": {...},
     "packed": bool, "torch_pack": bool}}

Parameters are listed in the order ``model.named_modules()`` then each module's own parameters
(the order of ``named_parameters``); a parameter with at most ``min_size * 2**20 // 4`` entries
(or matching ``exclude``) is "small" and stored whole (in ``float16`` when the quantizer had
``float16=True``, else in ``others``); a larger one is quantized. With ``detect_bound`` a
parameter shared by two modules is stored once. The network must therefore register its
parameters in the reference's order; every stored shape is checked against it.

A quantized parameter holds levels ``0 .. 2**bits - 1`` and the parameter's ``(min, max)``:
``value = levels / (2**bits - 1) * (max - min) + min``.

- ``DiffQuantizer``: one ``bits`` per group of ``group_size`` entries; packed entries are
  ``(levels packed per bit width 1..14, (min, max), bits - min_bits packed)``, unpacked entries
  ``(levels (groups, group_size), (min, max), bits (groups,))``.
- ``UniformQuantizer``: one ``bits`` for all; entries ``(levels, (min, max))``.

Bit packing (``diffq/bitpack.pyx``): int64 tensor (lines, nbits, 32); entry
``i = (line * 64 + word_bit) * 32 + index`` has its bit ``k`` at bit ``word_bit`` of
``packed[line, k, index]``. ``torch_pack``: integer tensor (nbits, groups) of 16-bit words; entry
``i = word_bit * groups + group`` has its bit ``k`` at bit ``word_bit`` of ``packed[k, group]``.
"""

from __future__ import annotations

import math
from fnmatch import fnmatch
from typing import Any

import numpy as np
import torch
from torch import nn

_WORD = 64
_TORCH_PACK_WORDS = {torch.int64: 64, torch.int32: 32, torch.int16: 16, torch.uint8: 8}


class QuantizedStateError(ValueError):
    """The quantized state does not fit the network or uses an unsupported quantizer."""


# ----------------------------------------------------------------------------- bit unpacking


def unpack_bitpack(packed: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of ``diffq.bitpack.pack``: int64 (lines, nbits, block) -> int16 (length,)."""
    if packed.dtype != torch.int64 or packed.dim() != 3:
        raise QuantizedStateError(
            f"bit-packed levels must be int64 (lines, nbits, block), "
            f"got {packed.dtype} {tuple(packed.shape)}"
        )
    words = packed.numpy().view(np.uint64)  # (lines, nbits, block)
    lines, nbits, block = words.shape
    if length > lines * _WORD * block:
        raise QuantizedStateError(f"bit-packed levels hold {lines * _WORD * block} < {length}")
    shifts = np.arange(_WORD, dtype=np.uint64)[None, :, None]
    out = np.zeros((lines, _WORD, block), dtype=np.int16)
    for bit in range(nbits):
        plane = (words[:, bit, None, :] >> shifts) & np.uint64(1)  # (lines, word_bit, block)
        out |= plane.astype(np.int16) << np.int16(bit)
    return torch.from_numpy(out.reshape(-1)[:length].copy())


def unpack_torch_pack(packed: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse of ``diffq.torch_pack.pack``: (nbits, groups) words -> int16 (length,)."""
    if packed.dtype not in _TORCH_PACK_WORDS or packed.dim() != 2:
        raise QuantizedStateError(f"torch-packed levels of type {packed.dtype} not understood")
    word = _TORCH_PACK_WORDS[packed.dtype]
    nbits, groups = packed.shape
    if length > word * groups:
        raise QuantizedStateError(f"torch-packed levels hold {word * groups} < {length}")
    words = packed.long()
    out = torch.zeros(word, groups, dtype=torch.int16)
    for word_bit in range(word):
        for bit in range(nbits):
            out[word_bit] |= (((words[bit] >> word_bit) & 1) << bit).to(torch.int16)
    return out.reshape(-1)[:length]


# ----------------------------------------------------------------------------- parameter layout


def _layout(model: nn.Module, min_size: float, exclude: list[str], detect_bound: bool):
    """Walk parameters as diffq does: returns (small names, quantized [(name, bound_to)]).

    ``bound_to`` is the name of an earlier quantized parameter this one shares storage with.
    Names of shared parameters reached a second time are returned in ``aliases`` (name -> first).
    """
    min_params = min_size * 2**20 // 4
    small: list[str] = []
    quantized: list[tuple[str, str | None]] = []
    aliases: dict[str, str] = {}
    seen: dict[int, str | None] = {}
    first_name: dict[int, str] = {}
    for module_name, module in model.named_modules():
        for name, param in list(module.named_parameters(recurse=False)):
            full = f"{module_name}.{name}"
            key = full if module_name else name
            first_name.setdefault(id(param), key)
            if first_name[id(param)] != key:
                aliases[key] = first_name[id(param)]
            excluded = any(fnmatch(full, p) or fnmatch(name, p) for p in exclude)
            if param.numel() <= min_params or excluded:
                if id(param) in seen:
                    continue
                if detect_bound:
                    seen[id(param)] = None
                small.append(key)
            else:
                bound = seen.get(id(param))
                quantized.append((key, bound))
                if detect_bound:
                    seen[id(param)] = key
    return small, quantized, aliases


def _levels_to_values(levels: torch.Tensor, scales: Any, bits: torch.Tensor) -> torch.Tensor:
    """levels (rows, n), bits broadcastable -> float32 values, as diffq computes them."""
    low, high = (float(s) for s in scales)
    unit = 1 / (2 ** bits.float() - 1)
    return levels.float() * unit * (high - low) + low


# ----------------------------------------------------------------------------- entry points


def dequantize_state(model: nn.Module, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A full state dict for ``model`` (its own buffers included) from a quantized ``state``.

    Raises:
        QuantizedStateError: unsupported quantizer, or entries that do not fit the network.
    """
    meta = state.get("meta")
    if not isinstance(meta, dict):
        raise QuantizedStateError("no 'meta' entry (an older diffq format)")
    klass = meta.get("klass")  # a name (our files), a ClassRef (official files), or the class
    if isinstance(klass, str):
        quantizer = klass
    else:
        quantizer = getattr(klass, "__name__", None) or getattr(klass, "name", None)
    if quantizer not in ("DiffQuantizer", "UniformQuantizer"):
        raise QuantizedStateError(f"quantizer {quantizer!r} is not supported")
    unpack = unpack_torch_pack if meta.get("torch_pack") else unpack_bitpack
    packed = bool(meta.get("packed", False))

    try:  # a damaged file's (min_size "x", exclude 5) were a traceback
        init = dict(meta.get("init_kwargs") or {})
        small, quantized, aliases = _layout(
            model,
            float(init.get("min_size", 0.01)),
            list(init.get("exclude") or []),
            bool(init.get("detect_bound", True)),
        )
    except (TypeError, ValueError) as exc:
        raise QuantizedStateError(f"the quantizer's arguments: {exc}") from exc
    params = dict(model.named_parameters(remove_duplicate=False))
    result = {k: v.detach().clone() for k, v in model.state_dict().items()}

    stored_small = state.get("float16" if init.get("float16", False) else "others")
    if not isinstance(stored_small, list) or len(stored_small) != len(small):
        count = len(stored_small) if isinstance(stored_small, list) else "no"
        raise QuantizedStateError(f"{count} small tensors stored, the network has {len(small)}")
    for key, tensor in zip(small, stored_small):
        if not isinstance(tensor, torch.Tensor) or tensor.shape != params[key].shape:
            shape = getattr(tensor, "shape", None)
            raise QuantizedStateError(
                f"{key}: stored shape {shape} != {tuple(params[key].shape)} "
                "(parameter order differs from the reference)"
            )
        result[key] = tensor.float()

    entries = state.get("quantized")
    own = [key for key, bound in quantized if bound is None]
    if not isinstance(entries, list) or len(entries) != len(own):
        count = len(entries) if isinstance(entries, list) else "no"
        raise QuantizedStateError(f"{count} quantized tensors stored, the network has {len(own)}")
    for key, entry in zip(own, entries):
        param = params[key]
        try:
            if quantizer == "DiffQuantizer":
                values = _diffq_values(entry, param, init, packed, unpack)
            else:
                values = _uniform_values(entry, param, init, packed, unpack)
            result[key] = values.reshape(param.shape)
        except (TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
            raise QuantizedStateError(f"{key}: {exc}") from exc  # a damaged entry's shapes or types
    for key, bound in quantized:
        if bound is not None:
            result[key] = result[bound]
    for key, first in aliases.items():
        result[key] = result[first]
    return result


def _diffq_values(entry, param, init, packed, unpack) -> torch.Tensor:
    group_size = int(init.get("group_size", 1))
    min_bits = int(init.get("min_bits", 2))
    numel = param.numel()
    groups, width = (1, numel) if group_size == 0 else (numel // group_size, group_size)
    if groups * width != numel:
        raise QuantizedStateError(f"{numel} entries do not split in groups of {group_size}")
    if packed:
        per_width, scales, packed_bits = entry
        bits = unpack(packed_bits, groups).long() + min_bits
        levels = torch.zeros(groups, width, dtype=torch.int16)
        for bit, packed_levels in enumerate(per_width, start=1):
            if packed_levels is None:
                continue
            rows = bits == bit
            count = int(rows.sum())
            levels[rows] = unpack(packed_levels, count * width).view(count, width)
        if set(bits.unique().tolist()) - set(range(1, len(per_width) + 1)):
            raise QuantizedStateError("bit widths outside the packed ones")
    else:
        levels, scales, bits = entry
        levels = levels.reshape(groups, width)
    return _levels_to_values(levels, scales, bits.reshape(-1, 1))


def _uniform_values(entry, param, init, packed, unpack) -> torch.Tensor:
    levels, scales = entry
    if packed:
        levels = unpack(levels, param.numel())
    bits = torch.tensor(float(init.get("bits", 8.0)))
    if not 1 <= bits.item() <= 15 or math.isnan(bits.item()):
        raise QuantizedStateError(f"bits={bits.item()} outside 1..15")
    return _levels_to_values(levels.reshape(-1), scales, bits)
