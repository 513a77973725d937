"""Plain values: what a checkpoint stores besides tensors survives ``weights_only`` loading."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
import torch

from stemgui.separation.plain_values import decode_plain, encode_plain


def test_plain_value_encoding_round_trips():
    value = {"a": [1, 2.5, None, True], "b": (Fraction(1, 3), "x"), "c": {"d": Fraction(5)}}
    encoded = encode_plain(value)
    buffer = io.BytesIO()
    torch.save(encoded, buffer)
    buffer.seek(0)
    assert decode_plain(torch.load(buffer, weights_only=True)) == value
    with pytest.raises(ValueError, match=r"\['k'\]"):
        encode_plain({"k": object()})
